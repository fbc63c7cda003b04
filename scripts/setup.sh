#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh machine (Rust, gcc, Python 3.11 and pip are
# assumed; Python packages go into the project's virtual environment, scripts/ci/env.sh), and fetches
# the pinned real models and images. Idempotent: a second run installs nothing.
# Usage: scripts/setup.sh [--demo]   (--demo: only what the main job needs)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ci/env.sh
. scripts/ci/env.sh
PY="$PYTHON"
demo=0
[ "${1:-}" = "--demo" ] && demo=1

apt_install() {
    local need=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
    [ ${#need[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
}

# ONNX Runtime library (from its pip wheel) and, for the tests, the independent references.
if [ $demo -eq 1 ]; then
    "$PY" -m pip install --quiet --disable-pip-version-check onnxruntime==1.32.0
else
    "$PY" -m pip install --quiet --disable-pip-version-check -r scripts/ci/requirements-test.txt
    apt_install valgrind g++ strace
    if ! command -v cbindgen >/dev/null 2>&1 || [ "$(cbindgen --version | awk '{print $2}')" != "0.29.4" ]; then
        cargo install --quiet cbindgen --locked --version 0.29.4
    fi
fi
# The darknet images come from a Debian package: make sure the package lists exist.
if [ ! -f .models/downloads/darknet_0.0.0+git20180914.61c9d02e-2+b4_amd64.deb ] && ! apt-cache policy darknet 2>/dev/null | grep -q Candidate; then
    apt-get update -qq
fi
scripts/fetch_models.sh
