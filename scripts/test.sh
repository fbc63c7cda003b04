#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what they need, then format, the MSRV
# declarations, lint (also without the default features), the API docs,
# the independent format-vector check, the whole workspace's tests (real models, ONNX Runtime, tract),
# the C ABI checks (header diff, C programs, valgrind), the `modelseal serve` tests with the
# real tritonclient/kserve clients, and the Python package's tests (built from source with pip into
# a fresh virtual environment).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ci/env.sh
. scripts/ci/env.sh
scripts/setup.sh
cargo fmt --all -- --check
cargo metadata --format-version 1 --locked | python3 scripts/ci/check_msrv.py
cargo clippy --workspace --all-targets --locked -- -D warnings
# The SDK without ONNX Runtime, and with no backend at all (a front end that brings its own).
cargo clippy -p modelseal-deploy --no-default-features --features tract --locked -- -D warnings
cargo clippy -p modelseal-deploy --no-default-features --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
python3 scripts/ci/check_vectors.py tests/vectors
cargo test --workspace --no-fail-fast --locked
scripts/ci/check_ffi.sh
scripts/ci/test_serve.sh
scripts/ci/test_python.sh
echo "scripts/test.sh: all checks passed"
