#!/usr/bin/env python3
"""Python reference pipeline for the benchmark: OpenCV decode + the same pre-processing as the
model's config + onnxruntime, one image after another, with a given intra-op thread count.

Usage: scripts/bench/python_pipeline.py MODEL_KIND MODEL_DIR LIST THREADS   (MODEL_KIND: cls | layout | det_db)
Prints one line: `python_pipeline images=N seconds=S images_per_s=R`.
"""
import os
import sys
import time

import cv2
import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "reference"))
import goldens  # noqa: E402  (the pre/post-processing reference lives there)


def main():
    kind, model_dir, list_file, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    cv2.setNumThreads(threads)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), so, providers=["CPUExecutionProvider"])
    paths = [l.strip() for l in open(list_file) if l.strip()]
    # Warm-up on the first image.
    def one(p):
        bgr = cv2.imread(p, cv2.IMREAD_COLOR)
        if kind == "cls":
            x = goldens.cls_pre(bgr)
            (y,) = s.run(None, {"x": x})
            return int(np.argmax(y[0]))
        if kind == "layout":
            x, scale = goldens.det_pre(bgr)
            preds = s.run(None, {"image": x})
            return len(goldens.picodet_post(preds, x.shape[2:], scale))
        return int(goldens.db_text_mask(s, bgr)[0].sum())
    one(paths[0])
    t0 = time.perf_counter()
    for p in paths:
        one(p)
    dt = time.perf_counter() - t0
    print(f"python_pipeline images={len(paths)} seconds={dt:.4f} images_per_s={len(paths) / dt:.2f}")


if __name__ == "__main__":
    main()
