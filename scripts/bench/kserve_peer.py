#!/usr/bin/env python3
"""The benchmark's peer: KServe's own Python model server (kserve 0.21) serving the same model with
onnxruntime and the same pre/post-processing as modelseal (the numpy + OpenCV reference of
scripts/reference/goldens.py), over the same Open Inference Protocol (REST v2, JSON tensors with base64 images).

Usage: kserve_peer.py --kind cls|layout --model-dir DIR --name NAME --http-port PORT [--threads N]
"""
import argparse
import base64
import os
import sys

import cv2
import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "reference"))
import goldens  # noqa: E402

CLS_LABELS = ["0", "180"]
LAYOUT_LABELS = ["text", "title", "figure", "figure_caption", "table", "table_caption", "header",
                 "footer", "reference", "equation"]


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--kind", required=True, choices=["cls", "layout"])
    p.add_argument("--model-dir", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--threads", type=int, default=0)
    a, _ = p.parse_known_args()
    return a


ARGS = parse()
# kserve parses sys.argv when imported: hand it only what it knows.
sys.argv = [sys.argv[0]]
import kserve  # noqa: E402
from kserve import InferOutput, InferResponse  # noqa: E402


class Pipeline(kserve.Model):
    def __init__(self, name, kind, model_dir, threads):
        super().__init__(name)
        so = ort.SessionOptions()
        if threads:
            so.intra_op_num_threads = threads
        self.sess = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), so,
                                         providers=["CPUExecutionProvider"])
        self.kind = kind
        self.ready = True

    def predict(self, payload, headers=None, response_headers=None):
        # JSON BYTES elements: the base64 text of each image file.
        files = [base64.b64decode(f) for f in payload.inputs[0].as_numpy().reshape(-1)]
        bgrs = [cv2.imdecode(np.frombuffer(f, np.uint8), cv2.IMREAD_COLOR) for f in files]
        if self.kind == "cls":
            x = np.concatenate([goldens.cls_pre(b) for b in bgrs])
            (y,) = self.sess.run(None, {"x": x})
            e = np.exp(y - y.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            ids = p.argmax(axis=1)
            outs = [("class_id", ids.astype(np.int64), "INT64"),
                    ("score", p[np.arange(len(ids)), ids].astype(np.float32), "FP32"),
                    ("label", np.array([CLS_LABELS[i].encode() for i in ids], dtype=np.object_), "BYTES")]
        else:
            dets = []
            for b in bgrs:
                x, scale = goldens.det_pre(b)
                preds = self.sess.run(None, {"image": x})
                dets.append(goldens.picodet_post(preds, x.shape[2:], scale))
            k = max([len(d) for d in dets] + [0])
            n = len(dets)
            boxes = np.zeros((n, k, 4), np.float32)
            scores = np.zeros((n, k), np.float32)
            cls = -np.ones((n, k), np.int64)
            labels = np.full((n, k), b"", dtype=np.object_)
            for i, d in enumerate(dets):
                for j, r in enumerate(d):
                    boxes[i, j] = r["bbox"]
                    scores[i, j] = r["score"]
                    cls[i, j] = r["class_id"]
                    labels[i, j] = LAYOUT_LABELS[r["class_id"]].encode()
            outs = [("num_detections", np.array([len(d) for d in dets], np.int32), "INT32"),
                    ("boxes", boxes, "FP32"), ("scores", scores, "FP32"),
                    ("class_ids", cls, "INT64"), ("labels", labels, "BYTES")]
        infer_outputs = []
        for name, arr, dt in outs:
            o = InferOutput(name=name, shape=list(arr.shape), datatype=dt)
            o.set_data_from_numpy(arr, binary_data=False)
            infer_outputs.append(o)
        return InferResponse(model_name=self.name, infer_outputs=infer_outputs, response_id=payload.id)


if __name__ == "__main__":
    model = Pipeline(ARGS.name, ARGS.kind, ARGS.model_dir, ARGS.threads)
    kserve.ModelServer(http_port=ARGS.http_port, enable_grpc=False, workers=1,
                       enable_latency_logging=False).start([model])
