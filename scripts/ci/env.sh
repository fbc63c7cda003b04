# Sourced by scripts/setup.sh, scripts/test.sh and scripts/demo.sh: the project's Python virtual
# environment (Debian 12 and Ubuntu 24.04 refuse system-wide pip installs). Everything the tests
# and the demo run with Python (the references, the ONNX Runtime wheel the `onnxruntime` backend
# loads, the benchmark peers) comes from it; it is put first on PATH and in PYTHON.
# Environment: MODELSEAL_VENV (default: <repo>/.venv), PYTHON (the interpreter that creates it).
MODELSEAL_VENV="${MODELSEAL_VENV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv}"
export MODELSEAL_VENV
if [ ! -x "$MODELSEAL_VENV/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$MODELSEAL_VENV" >&2
fi
export PATH="$MODELSEAL_VENV/bin:$PATH"
export PYTHON="$MODELSEAL_VENV/bin/python"
