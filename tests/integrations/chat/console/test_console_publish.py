"""Issue 17, items 3-5 at the console, as a newcomer runs the scripted demo (`echtzeit demo`
with commands from a pipe, the replay file tests/fixtures/replay/recall.jsonl): an edited and a
deleted post, the on-call rota and its escalation ping, a reply to the deleted post refused,
prepared posts checked when prepared and published once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RECALL = Path(__file__).parents[3] / "fixtures" / "replay" / "recall.jsonl"
HOLDING = "We know about the Volt 3 app log-outs and are on it. Updates here."
SCRIPT = [
    '/oncall set "Acme Rockets" 1 ana',
    '/oncall set "Acme Rockets" 2 ben',
    "/oncall",
    "/reply 2 Sorry to hear that!",
    f'/prepare "Acme Rockets/recall" holding mastodon {HOLDING}',
    f'/prepare "Acme Rockets/recall" holding x {HOLDING}',
    '/prepare "Acme Rockets/recall" holding bluesky ' + "too long " * 40,
    "/prepared recall",
    '/publish "Acme Rockets/recall" holding',
    "/publish recall holding",
    '/publish "Acme Rockets/recall" fixed',
    "/claim 1",
]


def test_prepared_posts_escalation_and_deleted_posts_in_the_scripted_demo(
        tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "HOME": str(tmp_path)}
    env = {k: v for k, v in env.items() if not k.startswith("ECHTZEIT_")}
    done = subprocess.run(
        [sys.executable, "-m", "echtzeit", "demo", "--speed", "0", "--user", "ana",
         "--file", str(RECALL)],
        input="\n".join(SCRIPT) + "\n", capture_output=True, text=True, env=env, cwd=tmp_path,
        timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # The replay's edit and delete reached the cards, which were updated in place.
    assert "#1 · Acme Rockets · mastodon · NEW · (EDITED on mastodon)" in out
    assert "Anyone from support here?" in out
    assert "#acme-care updated #2 · Acme Rockets · bluesky · NEW · (DELETED on bluesky)" in out
    # The rota, and the escalation ping by direct message: #1 is past its SLA; #2 is deleted
    # (its clock stopped) and #3 is fresh, so neither is named.
    assert "ana is on level 1 for Acme Rockets, at any time." in out
    [ping] = [line for line in out.splitlines() if line.startswith("DM to ana: Escalation")]
    assert "nobody has claimed this mention: #1 for Acme Rockets on mastodon is" in ping
    assert "#2" not in ping and "#3" not in ping
    assert "Acme Rockets: on call now: level 1 ana; level 2 ben" in out
    assert "Not sent: the post #2 was deleted on bluesky" in out
    # Prepared posts: the length rule is checked when preparing; published once.
    assert "Prepared the mastodon post for Acme Rockets/recall holding." in out
    assert "not prepared: bluesky allows 300 characters, this reply has 359" in out
    assert "Acme Rockets/recall holding mastodon (not published)" in out
    assert "Published Acme Rockets/recall holding on 2 of 2 network(s):" in out
    assert "mastodon: posted https://posts.echtzeit.invalid/mastodon/demo-1" in out
    assert "x: not posted again: recall holding on x is sent already" in out
    assert "nothing is prepared for Acme Rockets/recall fixed" in out
    assert "#1 is yours, ana." in out
    written = [json.loads(line) for line in
               (tmp_path / "echtzeit" / "demo-replies.jsonl").read_text().splitlines()]
    assert sorted((w["network"], w["post"]) for w in written) == [
        ("mastodon", HOLDING), ("x", HOLDING)]
