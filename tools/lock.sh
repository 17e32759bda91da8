#!/usr/bin/env bash
# Regenerate requirements.lock: the exact version, with sha256 hashes, of every package that
# `pip install '.[book,test,explore]'` installs on CPython 3.11 / x86_64 Linux (the project itself excluded:
# install it with `pip install --no-deps -e .`). torch and torchvision are held to the versions in
# tools/lock-constraints.txt.
#
# Usage (from anywhere):  tools/lock.sh            -> rewrites requirements.lock
#   PYTHON=python3.11     interpreter for the scratch venv (must be 3.11: the lock is for 3.11)
#   LOCK_OUT=path         write somewhere else (e.g. to diff against the committed lock)
#   LOCK_UPGRADE=1        move every package to the newest version allowed (default: keep the versions
#                         already in the lock where pyproject.toml still allows them, pip-compile's way)
#
# pip-compile runs in a throw-away venv, so nothing is installed into the project's .venv. It reads pip's
# usual configuration (index, find-links); index URLs and find-links are not written into the lock, and
# hashes of every file published for each pinned version (all platforms) are included, so the lock installs
# with --require-hashes from PyPI as well as from a local mirror holding the same files.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-python3.11}
out=${LOCK_OUT:-requirements.lock}
pip_tools_version="7.6.2"

if [[ "$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "3.11" ]]; then
    echo "tools/lock.sh: $python is not Python 3.11; the lock is made for 3.11 (set PYTHON=...)" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/colorlib-lock.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip "pip-tools==$pip_tools_version"

upgrade=()
if [[ "${LOCK_UPGRADE:-0}" == 1 ]]; then
    upgrade=(--upgrade)
fi
if [[ "$out" != /* ]]; then
    out="$PWD/$out"
fi

# Relative paths from the repository root, so that the lock's "# via" comments name no machine path.
cd "$root"
CUSTOM_COMPILE_COMMAND="tools/lock.sh" "$work/venv/bin/pip-compile" \
    --quiet \
    "${upgrade[@]}" \
    --generate-hashes \
    --allow-unsafe \
    --strip-extras \
    --extra book --extra test --extra explore \
    --constraint tools/lock-constraints.txt \
    --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
    --cache-dir "$work/cache" \
    --output-file "$out" \
    pyproject.toml

if grep -nE '^-e |file://|(^|[[:space:]])/(opt|root|home|tmp|work)/' "$out"; then
    echo "tools/lock.sh: $out names an editable install or a machine path (above)" >&2
    exit 1
fi
echo "tools/lock.sh: wrote $out ($(grep -c '==' "$out") packages)"
