#!/usr/bin/env bash
# The Python package's tests (crates/modelseal-python/tests, pytest) in a fresh virtual environment:
# the environment is made anew under the target directory, the package is built from source into it
# with `pip install crates/modelseal-python` (maturin; the dev profile and the workspace's target
# directory, so that what `cargo test` built is reused instead of a release build of the inference
# stack), and pytest runs against the real models (scripts/fetch_models.sh) and the debug `modelseal`
# binary (results compared with its --json output). Under CI=true a missing model or tool fails.
# Environment: CARGO_TARGET_DIR, PYTHON (the interpreter that creates the environment, default
# python3), MODELSEAL_MODELS, MODELSEAL_PYTHON_PROFILE (cargo profile of the build, default dev).
# Arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$SECONDS
TARGET="$(mkdir -p "${CARGO_TARGET_DIR:-target}" && cd "${CARGO_TARGET_DIR:-target}" && pwd)"
export CARGO_TARGET_DIR="$TARGET"
VENV="$TARGET/python-test-venv"
rm -rf "$VENV"
"${PYTHON:-python3}" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --quiet --disable-pip-version-check)
"${PIP[@]}" install -r crates/modelseal-python/requirements-test.txt
cargo build --locked --quiet -p modelseal-cli --bin modelseal
echo "test_python: environment and CLI ready after $((SECONDS - start)) s" >&2
MATURIN_PEP517_ARGS="--profile ${MODELSEAL_PYTHON_PROFILE:-dev}" "${PIP[@]}" install crates/modelseal-python
echo "test_python: package built and installed after $((SECONDS - start)) s" >&2
export MODELSEAL_BIN="${MODELSEAL_BIN:-$TARGET/debug/modelseal}"
export MODELSEAL_MODELS="${MODELSEAL_MODELS:-$PWD/.models}"
export PYTHONDONTWRITEBYTECODE=1
# From outside the source tree, so that `import modelseal` is the installed package.
TESTS="$PWD/crates/modelseal-python/tests"
(cd "$TARGET" && "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$TESTS" "$@")
echo "test_python: done in $((SECONDS - start)) s" >&2
