#!/usr/bin/env bash
# Create or refresh .venv from requirements.txt. Reinstalls only when requirements.txt changed
# (its hash is kept in .venv/.requirements.sha256), so repeated `make test` runs start fast.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
    for candidate in python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1; then PYTHON="$candidate"; break; fi
    done
fi
[ -n "$PYTHON" ] || { echo "venv: Python 3.11 is required" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
    echo "venv: creating .venv with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv .venv
fi

wanted="$(sha256sum requirements.txt | cut -d' ' -f1)"
stamp=".venv/.requirements.sha256"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
    echo "venv: installing requirements.txt"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
    echo "$wanted" > "$stamp"
fi
