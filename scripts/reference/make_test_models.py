#!/usr/bin/env python3
"""Builds the tiny committed test model crates/modelseal-deploy/tests/data/nms_det: a detector
exported the PaddleDetection way (inputs image, im_shape, scale_factor; output rows
[class, score, x1, y1, x2, y2] with NMS in the graph, plus a box count). Its boxes are fixed
boxes in network-input pixels divided by scale_factor, so the expected output in original-image
pixels is known exactly; the score depends on the image mean so the image input is really used.

Usage: python3 scripts/reference/make_test_models.py   (needs `pip install onnx==1.19.0`)
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "modelseal-deploy", "tests", "data", "nms_det")


def main():
    os.makedirs(OUT, exist_ok=True)
    boxes = np.array([[10, 20, 110, 220], [150, 40, 300, 90]], dtype=np.float32)  # network pixels
    cls_score = np.array([[1, 0.5], [0, 0.25]], dtype=np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["mean"], keepdims=0),  # scalar image mean
        helper.make_node("Div", ["mean", "c1000"], ["bump"]),  # small, positive
        helper.make_node("Reshape", ["scale_factor", "shape2"], ["sf"]),  # [sy, sx]
        helper.make_node("Gather", ["sf", "idx"], ["sxsy"], axis=0),  # [sx, sy, sx, sy]
        helper.make_node("Div", ["boxes", "sxsy"], ["orig_boxes"]),
        helper.make_node("Add", ["cls_score", "bump_mask"], ["cs0"]),
        helper.make_node("Mul", ["bump_mask", "bump"], ["bm"]),
        helper.make_node("Add", ["cls_score", "bm"], ["cs"]),
        helper.make_node("Concat", ["cs", "orig_boxes"], ["rows"], axis=1),
        helper.make_node("Identity", ["rows"], ["multiclass_nms3_0.tmp_0"]),
        helper.make_node("Identity", ["count"], ["multiclass_nms3_0.tmp_2"]),
        helper.make_node("Identity", ["im_shape"], ["im_shape_unused"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(1000.0, np.float32), "c1000"),
        numpy_helper.from_array(np.array([2], np.int64), "shape2"),
        numpy_helper.from_array(np.array([1, 0, 1, 0], np.int64), "idx"),
        numpy_helper.from_array(boxes, "boxes"),
        numpy_helper.from_array(cls_score, "cls_score"),
        numpy_helper.from_array(np.array([[0, 1], [0, 1]], np.float32), "bump_mask"),
        numpy_helper.from_array(np.array([2], np.int32), "count"),
    ]
    g = helper.make_graph(
        nodes,
        "nms_det",
        [
            helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, None, None]),
            helper.make_tensor_value_info("im_shape", TensorProto.FLOAT, [1, 2]),
            helper.make_tensor_value_info("scale_factor", TensorProto.FLOAT, [1, 2]),
        ],
        [
            helper.make_tensor_value_info("multiclass_nms3_0.tmp_0", TensorProto.FLOAT, [2, 6]),
            helper.make_tensor_value_info("multiclass_nms3_0.tmp_2", TensorProto.INT32, [1]),
        ],
        inits,
    )
    # `cs0` and the im_shape identity are dead ends kept out of the outputs; drop them.
    g.node.remove([n for n in g.node if n.output[0] == "cs0"][0])
    g.node.remove([n for n in g.node if n.output[0] == "im_shape_unused"][0])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="modelseal-tests")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, "model.onnx"))
    with open(os.path.join(OUT, "infer_cfg.yml"), "w") as f:
        f.write(
            "mode: paddle\ndraw_threshold: 0.3\nmetric: COCO\narch: YOLOv3\nmin_subgraph_size: 3\n"
            "Preprocess:\n- {type: Resize, target_size: [320, 320], keep_ratio: false, interp: 2}\n"
            "- {type: NormalizeImage, is_scale: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}\n"
            "- {type: Permute}\n"
            "label_list: [person, bicycle]\n"
        )
    print("wrote", OUT)
    paddlex_yolo()
    paddleseg_argmax()


def paddleseg_argmax():
    """PaddleSeg-style export ending in argmax: int64 label map [N, H, W] = argmax over the
    three normalised input channels."""
    out = os.path.join(os.path.dirname(OUT), "seg_argmax")
    os.makedirs(out, exist_ok=True)
    nodes = [helper.make_node("ArgMax", ["x"], ["argmax_0.tmp_0"], axis=1, keepdims=0)]
    g = helper.make_graph(
        nodes,
        "seg_argmax",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3, None, None])],
        [helper.make_tensor_value_info("argmax_0.tmp_0", TensorProto.INT64, [None, None, None])],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="modelseal-tests")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, "model.onnx"))
    with open(os.path.join(out, "deploy.yaml"), "w") as f:
        f.write(
            "Deploy:\n  model: model.pdmodel\n  params: model.pdiparams\n  transforms:\n"
            "  - {type: Resize, target_size: [64, 48]}\n  - {type: Normalize}\n"
        )
    print("wrote", out)


def paddlex_yolo():
    """PaddleX 1.x YOLOv3-style export: inputs image and im_size (int32 [h, w] of the original
    image); output `bbox` rows in original pixels = fixed fractions of the original size."""
    out = os.path.join(os.path.dirname(OUT), "paddlex_yolo")
    os.makedirs(out, exist_ok=True)
    frac = np.array([[0.1, 0.2, 0.5, 0.9]], dtype=np.float32)
    nodes = [
        helper.make_node("Cast", ["im_size"], ["hw"], to=TensorProto.FLOAT),
        helper.make_node("Reshape", ["hw", "shape2"], ["hw1"]),  # [h, w]
        helper.make_node("Gather", ["hw1", "idx"], ["whwh"], axis=0),  # [w, h, w, h]
        helper.make_node("Mul", ["frac", "whwh"], ["box"]),
        helper.make_node("ReduceMax", ["image"], ["mx"], keepdims=0),
        helper.make_node("Reshape", ["mx", "shape11"], ["mx11"]),
        helper.make_node("Concat", ["cls", "mx11", "box"], ["bbox"], axis=1),
    ]
    inits = [
        numpy_helper.from_array(np.array([2], np.int64), "shape2"),
        numpy_helper.from_array(np.array([1, 1], np.int64), "shape11"),
        numpy_helper.from_array(np.array([1, 0, 1, 0], np.int64), "idx"),
        numpy_helper.from_array(frac, "frac"),
        numpy_helper.from_array(np.array([[2.0]], np.float32), "cls"),
    ]
    g = helper.make_graph(
        nodes,
        "paddlex_yolo",
        [
            helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, None, None]),
            helper.make_tensor_value_info("im_size", TensorProto.INT32, [1, 2]),
        ],
        [helper.make_tensor_value_info("bbox", TensorProto.FLOAT, [1, 6])],
        inits,
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="modelseal-tests")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, "model.onnx"))
    with open(os.path.join(out, "model.yml"), "w") as f:
        f.write(
            "version: 1.3.0\nModel: YOLOv3\nTransformsMode: BGR\n"
            "_Attributes: {model_type: detector, num_classes: 3, labels: [cat, dog, bird]}\n"
            "_init_params: {input_channel: 3}\n"
            "Transforms:\n- Resize: {target_size: 256, interp: CUBIC}\n"
            "- Normalize: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}\n"
            "- ArrangeYOLOv3: {mode: test}\n"
            "completed_epochs: 0\nstatus: Infer\n"
        )
    print("wrote", out)


if __name__ == "__main__":
    main()
