#!/usr/bin/env bash
# Smoke-test an installed Echtzeit as it is deployed (after scripts/install.sh VENV ...).
#
#   scripts/smoke_installed.sh VENV [demo | run | all]      (default: all)
#
# Runs in a fresh temporary directory outside any checkout, with HOME and XDG_DATA_HOME in it,
# no .env and no ECHTZEIT_* variables from the caller, through $VENV/bin/echtzeit only:
#   demo  the scripted demo (`printf '/list\n/reply 3 Danke!\n/show 3\n' | echtzeit demo
#         --speed 0`) must show cards, the reply and the mention.
#   run   a headless `echtzeit run` (stdin /dev/null, bundled replay at full speed, SQLite in the
#         temporary data directory, ops server on a free port) must answer GET /healthz with 200
#         and print cards within RUN_TIMEOUT seconds (default 60), then exit with status 0 within
#         10 s of SIGTERM.
# Exit status 0 when every part passed; on failure the part's output is shown.
set -euo pipefail

die() {
    echo "smoke: $*" >&2
    exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: smoke_installed.sh VENV [demo | run | all]"
[ -d "$1" ] || die "no such venv: $1"
venv=$(cd "$1" && pwd)
parts=${2:-all}
case $parts in
    demo | run | all) ;;
    *) die "unknown part: $parts (demo, run or all)" ;;
esac
echtzeit=$venv/bin/echtzeit
python=$venv/bin/python  # only for a free port and the HTTP probe: no curl needed
[ -x "$echtzeit" ] || die "$echtzeit not found (install with scripts/install.sh)"
run_timeout=${RUN_TIMEOUT:-60}

work=$(mktemp -d "${TMPDIR:-/tmp}/echtzeit-smoke.XXXXXX")
run_pid=
cleanup() {
    if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
        kill -KILL "$run_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
mkdir home data
export HOME=$work/home XDG_DATA_HOME=$work/data
# Nothing from the caller's configuration: no ECHTZEIT_* settings, no PYTHONPATH into a checkout.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(ECHTZEIT_|PYTHON)' || true)
data_dir=$XDG_DATA_HOME/echtzeit
echo "smoke: $echtzeit in $work"

show() {  # show FILE...: the tail of each file, for a failure
    local f
    for f in "$@"; do
        echo "----- $f (last 40 lines)" >&2
        tail -n 40 "$f" >&2 || true
    done
}

fail() {
    echo "smoke: FAILED: $*" >&2
    exit 1
}

# Cards as the console chat prints them: a line "#<channel>", then "#<id> · <brand> · ...".
count_cards() {
    awk 'prev ~ /^#[^ #][^ ]*$/ && /^#[0-9]+ · / { n++ } { prev = $0 } END { print n + 0 }' "$1"
}

# ----------------------------------------------------------------------------- demo
smoke_demo() {
    printf '%s\n' "smoke: [demo] printf '/list\\n/reply 3 Danke!\\n/show 3\\n' | echtzeit demo --speed 0"
    local rc=0
    printf '/list\n/reply 3 Danke!\n/show 3\n' |
        timeout 300 "$echtzeit" demo --speed 0 >demo.out 2>demo.err || rc=$?
    [ "$rc" -eq 0 ] || { show demo.out demo.err; fail "demo exited with status $rc"; }
    local cards
    cards=$(count_cards demo.out)
    [ "$cards" -ge 10 ] || { show demo.out demo.err; fail "demo printed $cards cards"; }
    grep -Eq '^[^ ]+> /list$' demo.out && grep -Eq '^  #[0-9]+ ' demo.out ||
        { show demo.out; fail "no /list output"; }
    grep -Eq '^Replied to #3 on [a-z]+: ' demo.out || { show demo.out; fail "no reply to #3"; }
    grep -Eq '^#[^ ]+ updated #3 · .*REPLIED' demo.out || { show demo.out; fail "card #3 not updated"; }
    grep -Eq '^Mention #3$' demo.out && grep -q 'Danke!' "$data_dir/demo-replies.jsonl" ||
        { show demo.out demo.err; fail "/show 3 or the recorded reply missing"; }
    echo "smoke: [demo] passed: $cards cards, reply to #3 recorded; $(tr -s '\n ' ' ' <demo.err)"
}

# ------------------------------------------------------------------------------ run
http_status() {  # http_status URL: the status code, or 000 when nothing answers
    "$python" - "$1" <<'EOF'
import json, sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        json.load(r)  # /healthz answers JSON
        print(r.status)
except urllib.error.HTTPError as exc:
    print(exc.code)
except Exception:
    print("000")
EOF
}

smoke_run() {
    local port
    port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "smoke: [run] ECHTZEIT_HTTP_PORT=$port ECHTZEIT_REPLAY_SPEED=0 echtzeit run </dev/null"
    ECHTZEIT_HTTP_HOST=127.0.0.1 ECHTZEIT_HTTP_PORT=$port ECHTZEIT_REPLAY_SPEED=0 \
        "$echtzeit" run </dev/null >run.out 2>run.err &
    run_pid=$!
    local url=http://127.0.0.1:$port/healthz status=000 cards=0 start=$SECONDS
    while :; do
        if ! kill -0 "$run_pid" 2>/dev/null; then
            local rc=0
            wait "$run_pid" || rc=$?
            run_pid=
            show run.out run.err
            fail "echtzeit run exited by itself with status $rc (healthz $status, $cards cards)"
        fi
        [ "$status" = 200 ] || status=$(http_status "$url")
        cards=$(count_cards run.out)
        [ "$status" = 200 ] && [ "$cards" -gt 0 ] && break
        if [ $((SECONDS - start)) -ge "$run_timeout" ]; then
            show run.out run.err
            fail "after ${run_timeout}s: GET /healthz answered $status, $cards cards on stdout"
        fi
        sleep 0.5
    done
    echo "smoke: [run] healthy (GET /healthz 200) with $cards cards after $((SECONDS - start))s"
    [ -f "$data_dir/echtzeit.db" ] || { show run.err; fail "no SQLite database in $data_dir"; }

    kill -TERM "$run_pid"
    local stopped=$SECONDS rc=0 _
    for _ in $(seq 50); do  # 50 x 0.2 s: 10 s
        kill -0 "$run_pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$run_pid" 2>/dev/null; then
        show run.err
        fail "echtzeit run still running 10 s after SIGTERM"
    fi
    wait "$run_pid" || rc=$?
    run_pid=
    [ "$rc" -eq 0 ] || { show run.out run.err; fail "echtzeit run exited with status $rc on SIGTERM (want 0)"; }
    echo "smoke: [run] passed: exit 0 within $((SECONDS - stopped))s of SIGTERM"
}

case $parts in
    demo) smoke_demo ;;
    run) smoke_run ;;
    all) smoke_demo; smoke_run ;;
esac
echo "smoke: all passed ($parts)"
