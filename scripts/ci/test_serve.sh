#!/usr/bin/env bash
# The `modelseal serve` integration tests: the real tritonclient and kserve clients (REST and
# gRPC) against servers started on 127.0.0.1 by the tests (pytest, crates/modelseal-serve/tests/python).
# Needs the fetched models (scripts/fetch_models.sh); creates the Python environment with
# scripts/ci/serve_env.sh. Under CI=true a missing piece fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="$(scripts/ci/serve_env.sh)"
cargo build --locked --quiet -p modelseal-cli --bin modelseal
TARGET="${CARGO_TARGET_DIR:-target}"
export MODELSEAL_BIN="${MODELSEAL_BIN:-$TARGET/debug/modelseal}"
export PYTHONDONTWRITEBYTECODE=1
export MODELSEAL_MODELS="${MODELSEAL_MODELS:-$PWD/.models}"
# tritonclient and kserve both register the protobuf package `inference`: one process each.
T=crates/modelseal-serve/tests/python
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$T/triton" "$@"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$T/kserve" "$@"
