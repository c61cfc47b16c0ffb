#!/usr/bin/env bash
# Install Echtzeit into a new virtual environment: the one install procedure, used by CI
# (.ci/run), the container image (Dockerfile) and a systemd host (docs/deploy.md).
#
#   scripts/install.sh [--replace] VENV [WHEEL | SOURCE_DIR]
#
#   VENV        the virtual environment to create, e.g. /opt/echtzeit/venv. It must not exist
#               yet, unless --replace is given and it is a virtual environment (it is removed).
#   WHEEL       an echtzeit-*.whl (as CI and the image build it:
#               python -m pip wheel --no-deps -w DIST .)
#   SOURCE_DIR  a checkout to build and install from; default: the checkout holding this script.
#
# Never an editable install: the venv holds the package as released, with its data files.
# Environment: PYTHON (default python3, must be 3.11 or newer); pip's own settings
# (PIP_INDEX_URL, PIP_FIND_LINKS, PIP_NO_CACHE_DIR, ...) are honoured.
set -euo pipefail

die() {
    echo "install.sh: $*" >&2
    exit 2
}

replace=0
if [ "${1:-}" = "--replace" ]; then
    replace=1
    shift
fi
[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: install.sh [--replace] VENV [WHEEL | SOURCE_DIR]"
venv=$1
src=${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

python=${PYTHON:-python3}
command -v "$python" >/dev/null 2>&1 || die "no $python found (set PYTHON)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "$python is Python $("$python" -c 'import platform; print(platform.python_version())'); Echtzeit needs 3.11 or newer"

if [ -f "$src" ]; then
    case $src in
        *.whl) ;;
        *) die "$src is not a wheel (.whl)" ;;
    esac
elif [ -d "$src" ]; then
    [ -f "$src/pyproject.toml" ] || die "$src has no pyproject.toml"
else
    die "no such wheel or directory: $src"
fi
src=$(cd "$(dirname "$src")" && pwd)/$(basename "$src")

if [ -e "$venv" ] && [ -n "$(ls -A "$venv" 2>/dev/null)" ]; then
    [ "$replace" -eq 1 ] || die "$venv exists (use --replace to remove and recreate it)"
    [ -f "$venv/pyvenv.cfg" ] || die "$venv is not a virtual environment; not removing it"
    rm -rf "$venv"
fi

echo "install.sh: creating $venv with $("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
"$python" -m venv "$venv"
venv=$(cd "$venv" && pwd)
export PIP_DISABLE_PIP_VERSION_CHECK=1

echo "install.sh: installing $src"
"$venv/bin/python" -m pip install --no-input "$src"
"$venv/bin/python" -m pip check

# The command must start and find its package inside the venv, not in a checkout.
(cd / && "$venv/bin/echtzeit" --help >/dev/null)
(cd / && "$venv/bin/python" -c '
import sys, bot
where = bot.__file__ or ""
if not where.startswith(sys.prefix):
    sys.exit(f"install.sh: bot is imported from {where}, outside {sys.prefix}")
')
echo "install.sh: $("$venv/bin/python" -m pip show echtzeit | sed -n 's/^Version: /echtzeit /p') in $venv ($venv/bin/echtzeit)"
