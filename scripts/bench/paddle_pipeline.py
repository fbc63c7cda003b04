#!/usr/bin/env python3
"""Paddle Inference's Python pipeline for the importer benchmark: OpenCV decode + the same
pre-processing as the model's config (scripts/reference/goldens.py) + `paddle.inference` on the
CPU with the given thread count, one image after another. MODE `default` keeps Paddle's default
CPU config; `mkldnn` turns oneDNN on (`enable_mkldnn`), usually Paddle's fastest CPU path.
Needs paddlepaddle==3.3.1 (not part of CI; see scripts/reference/paddle_reference.py).

Usage: scripts/bench/paddle_pipeline.py MODEL_KIND PADDLE_DIR LIST THREADS [MODE]
(MODEL_KIND: cls | det_db; MODE: default | mkldnn)
PADDLE_DIR holds inference.pdmodel + inference.pdiparams.
Prints one line: `paddle_pipeline images=N seconds=S images_per_s=R`.
"""
import os
import sys
import time

import cv2
import numpy as np
from paddle import inference

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "reference"))
import goldens  # noqa: E402  (the pre/post-processing reference lives there)


class Session:
    """The subset of onnxruntime's InferenceSession that goldens.db_text_mask uses."""

    def __init__(self, model_dir, threads, mode):
        config = inference.Config(os.path.join(model_dir, "inference.pdmodel"),
                                  os.path.join(model_dir, "inference.pdiparams"))
        config.disable_gpu()
        if mode == "mkldnn":
            config.enable_mkldnn()
        config.set_cpu_math_library_num_threads(threads)
        config.disable_glog_info()
        self.pred = inference.create_predictor(config)

    def run(self, _outputs, feeds):
        (x,) = feeds.values()
        h = self.pred.get_input_handle(self.pred.get_input_names()[0])
        h.reshape(x.shape)
        h.copy_from_cpu(np.ascontiguousarray(x))
        self.pred.run()
        return [self.pred.get_output_handle(self.pred.get_output_names()[0]).copy_to_cpu()]


def main():
    kind, model_dir, list_file, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    cv2.setNumThreads(threads)
    mode = sys.argv[5] if len(sys.argv) > 5 else "default"
    s = Session(model_dir, threads, mode)
    paths = [l.strip() for l in open(list_file) if l.strip()]

    def one(p):
        bgr = cv2.imread(p, cv2.IMREAD_COLOR)
        if kind == "cls":
            (y,) = s.run(None, {"x": goldens.cls_pre(bgr)})
            return int(np.argmax(y[0]))
        return int(goldens.db_text_mask(s, bgr)[0].sum())

    one(paths[0])
    t0 = time.perf_counter()
    for p in paths:
        one(p)
    dt = time.perf_counter() - t0
    print(f"paddle_pipeline images={len(paths)} seconds={dt:.4f} images_per_s={len(paths) / dt:.2f}")


if __name__ == "__main__":
    main()
