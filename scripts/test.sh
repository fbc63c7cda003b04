#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what they need, then format, lint,
# the independent format-vector check, the whole workspace's tests (real models, ONNX Runtime, tract),
# the C ABI checks (header diff, C programs, valgrind), and the `modelseal serve` tests with the
# real tritonclient/kserve clients.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ci/env.sh
. scripts/ci/env.sh
scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
python3 scripts/ci/check_vectors.py tests/vectors
cargo test --workspace --no-fail-fast
scripts/ci/check_ffi.sh
scripts/ci/test_serve.sh
echo "scripts/test.sh: all checks passed"
