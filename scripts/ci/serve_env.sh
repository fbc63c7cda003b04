#!/usr/bin/env bash
# Creates (once) the virtual environment the serving tests and benchmark run in, outside the
# repository, with the pinned clients of scripts/ci/requirements-serve.txt. Needs only Python 3.11
# with venv and pip. Prints the environment's directory on stdout.
# Environment: MODELSEAL_SERVE_VENV (default: $HOME/.venvs/modelseal-serve), PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${MODELSEAL_SERVE_VENV:-$HOME/.venvs/modelseal-serve}"
PY="${PYTHON:-python3}"
REQ=scripts/ci/requirements-serve.txt
STAMP="$VENV/.requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV" >&2
fi
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" >&2
    echo "$want" > "$STAMP"
fi
echo "$VENV"
