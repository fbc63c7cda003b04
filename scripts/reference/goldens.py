#!/usr/bin/env python3
"""Independent reference outputs for modelseal-deploy, written to tests/goldens/*.json.

Everything here is re-implemented from the origin suites' Python deploy code (PaddleClas
NormalizeImage/ResizeImage, PaddleDetection Resize/NormalizeImage/Permute + PicoDet
post-process, PaddleSeg ResizeByLong/Padding/Normalize) with numpy + OpenCV, and run on
onnxruntime. The Rust tests compare against these values.

Usage: python3 scripts/reference/goldens.py [MODELS_DIR]   (default .models, filled by fetch_models.sh)
"""
import hashlib
import json
import math
import os
import sys

import cv2
import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".models")
OUT = os.path.join(ROOT, "tests", "goldens")
IMAGES = ["astronaut.png", "chelsea.png", "coffee.png", "page.png", "logo.png", "china.jpg", "dog.jpg", "horses.jpg"]
NSAMPLE = 1000


def samples(arr):
    """Deterministic sample of a flat array: indices (k * 7919 + 13) % n."""
    flat = np.ascontiguousarray(arr).reshape(-1)
    n = flat.size
    idx = [(k * 7919 + 13) % n for k in range(NSAMPLE)]
    return [float(flat[i]) for i in idx]


def sha(arr):
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


def imread(name):
    im = cv2.imread(os.path.join(MODELS, "images", name), cv2.IMREAD_COLOR)
    assert im is not None, name
    return im  # BGR uint8


def session(model):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(os.path.join(MODELS, model, "model.onnx"), so, providers=["CPUExecutionProvider"])


def tensor_info(t):
    return {"shape": list(t.shape), "sum": float(t.astype(np.float64).sum()), "samples": samples(t)}


def golden_decode():
    out = {}
    for name in IMAGES:
        im = cv2.cvtColor(imread(name), cv2.COLOR_BGR2RGB)
        out[name] = {"height": im.shape[0], "width": im.shape[1], "sha256": sha(im), "samples": samples(im)}
    return out


def golden_resize():
    """cv2.resize on uint8 and float32 RGB images, dsize and fx/fy forms."""
    out = []
    cases = [
        ("astronaut.png", "dsize", (192, 48), None, cv2.INTER_LINEAR),
        ("astronaut.png", "dsize", (256, 256), None, cv2.INTER_LINEAR),  # exact 2x -> area
        ("chelsea.png", "dsize", (608, 800), None, cv2.INTER_LINEAR),
        ("chelsea.png", "dsize", (100, 67), None, cv2.INTER_NEAREST),
        ("coffee.png", "fxfy", None, (608 / 600, 800 / 400), cv2.INTER_LINEAR),
        ("coffee.png", "fxfy", None, (0.37, 0.37), cv2.INTER_NEAREST),
        ("page.png", "dsize", (640, 318), None, cv2.INTER_LINEAR),
        ("chelsea.png", "fxfy", None, (608 / 451, 800 / 300), cv2.INTER_CUBIC),
        ("astronaut.png", "dsize", (300, 200), None, cv2.INTER_CUBIC),
        ("chelsea.png", "fxfy", None, (608 / 451, 800 / 300), cv2.INTER_LANCZOS4),
        ("astronaut.png", "dsize", (300, 200), None, cv2.INTER_LANCZOS4),
        ("coffee.png", "dsize", (123, 77), None, cv2.INTER_CUBIC),
        ("coffee.png", "dsize", (123, 77), None, cv2.INTER_LANCZOS4),
        ("astronaut.png", "dsize", (300, 200), None, cv2.INTER_AREA),  # non-integer downscale
        ("coffee.png", "dsize", (123, 77), None, cv2.INTER_AREA),
        ("astronaut.png", "dsize", (128, 128), None, cv2.INTER_AREA),  # 4x4 blocks: ties
        ("coffee.png", "dsize", (200, 100), None, cv2.INTER_AREA),  # 3x4 blocks
        ("chelsea.png", "fxfy", None, (0.5, 0.5), cv2.INTER_AREA),  # 2x2, last column cut
        ("chelsea.png", "dsize", (608, 800), None, cv2.INTER_AREA),  # enlarging: bilinear variant
        ("astronaut.png", "dsize", (700, 100), None, cv2.INTER_AREA),  # wider and shorter
    ]
    for name, form, dsize, fxy, interp in cases:
        rgb = cv2.cvtColor(imread(name), cv2.COLOR_BGR2RGB)
        for dtype in ("u8", "f32"):
            src = rgb if dtype == "u8" else rgb.astype(np.float32)
            # OpenCV's own code; builds with Intel IPP (the PyPI wheels) hand some cases to IPP,
            # whose u8 results are recorded too where they differ.
            cv2.ipp.setUseIPP(False)
            r = cv_resize(src, form, dsize, fxy, interp)
            cv2.ipp.setUseIPP(True)
            r_ipp = cv_resize(src, form, dsize, fxy, interp)
            case = {
                "image": name, "form": form, "dsize": dsize, "fxy": fxy,
                "interp": {cv2.INTER_LINEAR: "LINEAR", cv2.INTER_NEAREST: "NEAREST", cv2.INTER_CUBIC: "CUBIC",
                           cv2.INTER_AREA: "AREA", cv2.INTER_LANCZOS4: "LANCZOS4"}[interp],
                "dtype": dtype, "width": r.shape[1], "height": r.shape[0],
                "sha256": sha(r) if dtype == "u8" else None, "samples": samples(r),
            }
            if dtype == "u8" and not np.array_equal(r, r_ipp):
                case["ipp_samples"] = samples(r_ipp)
                case["ipp_differing"] = int((r != r_ipp).sum())
                case["ipp_max_diff"] = int(np.abs(r.astype(int) - r_ipp.astype(int)).max())
            out.append(case)
    return out


def cv_resize(src, form, dsize, fxy, interp):
    if form == "dsize":
        return cv2.resize(src, dsize, interpolation=interp)
    return cv2.resize(src, None, None, fx=fxy[0], fy=fxy[1], interpolation=interp)


# ---- classification: PaddleClas DecodeImage(to_rgb=False) ResizeImage(size=[192,48]) NormalizeImage
def cls_pre(bgr):
    im = cv2.resize(bgr, (192, 48), interpolation=cv2.INTER_LINEAR)
    scale = np.float32(1.0 / 255.0)
    mean = np.array([0.5, 0.5, 0.5]).reshape((1, 1, 3)).astype("float32")
    std = np.array([0.5, 0.5, 0.5]).reshape((1, 1, 3)).astype("float32")
    im = (im.astype("float32") * scale - mean) / std
    return im.transpose((2, 0, 1))[None].copy()


def golden_cls():
    s = session("cls")
    out = {}
    for name in IMAGES:
        x = cls_pre(imread(name))
        (y,) = s.run(None, {"x": x})
        out[name] = {"input": tensor_info(x), "probs": [float(v) for v in y[0]], "class_id": int(np.argmax(y[0]))}
    return out


# ---- detection: PaddleDetection Resize(keep_ratio=False, interp=1) NormalizeImage Permute + PicoDet
def det_pre(bgr):
    im = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    h, w = im.shape[:2]
    sy, sx = 800 / float(h), 608 / float(w)
    im = cv2.resize(im, None, None, fx=sx, fy=sy, interpolation=cv2.INTER_LINEAR)
    im = im.astype(np.float32, copy=False)
    im *= 1.0 / 255.0
    im -= np.array([0.485, 0.456, 0.406])[np.newaxis, np.newaxis, :]
    im /= np.array([0.229, 0.224, 0.225])[np.newaxis, np.newaxis, :]
    return im.transpose((2, 0, 1))[None].copy(), np.array([sy, sx], dtype=np.float32)


def hard_nms(box_scores, iou_thres, top_k=-1, candidate_size=200):
    scores = box_scores[:, -1]
    boxes = box_scores[:, :-1]
    picked = []
    indexes = np.argsort(scores, kind="stable")[-candidate_size:]
    while len(indexes) > 0:
        cur = indexes[-1]
        picked.append(cur)
        if 0 < top_k == len(picked) or len(indexes) == 1:
            break
        cb = boxes[cur]
        indexes = indexes[:-1]
        rest = boxes[indexes]
        lt = np.maximum(rest[:, :2], cb[:2])
        rb = np.minimum(rest[:, 2:], cb[2:])
        wh = np.clip(rb - lt, 0.0, None)
        inter = wh[:, 0] * wh[:, 1]
        a0 = np.clip(rest[:, 2] - rest[:, 0], 0, None) * np.clip(rest[:, 3] - rest[:, 1], 0, None)
        a1 = max(cb[2] - cb[0], 0) * max(cb[3] - cb[1], 0)
        iou = inter / (a0 + a1 - inter + 1e-5)
        indexes = indexes[iou <= iou_thres]
    return box_scores[picked, :]


def picodet_post(preds, in_hw, scale, score_thr=0.4, nms_thr=0.5, nms_top_k=1000, keep_top_k=100):
    strides = [8, 16, 32, 64]
    n = len(preds) // 2
    boxes_all, scores_all = [], []
    for lvl, stride in enumerate(strides):
        score = preds[lvl][0]
        dist = preds[lvl + n][0]
        reg_max = dist.shape[-1] // 4 - 1
        fm_h, fm_w = in_hw[0] / stride, in_hw[1] / stride
        ww, hh = np.meshgrid(np.arange(fm_w), np.arange(fm_h))
        cx = (ww.flatten() + 0.5) * stride
        cy = (hh.flatten() + 0.5) * stride
        center = np.stack((cx, cy, cx, cy), axis=1)
        d = dist.reshape((-1, reg_max + 1)).astype(np.float64)
        d = np.exp(d - d.max(axis=1, keepdims=True))
        d = d / d.sum(axis=1, keepdims=True)
        d = (d * np.arange(reg_max + 1)).sum(axis=1).reshape((-1, 4)) * stride
        order = np.argsort(-score.max(axis=1), kind="stable")[:nms_top_k]
        boxes_all.append(center[order] + np.array([-1, -1, 1, 1]) * d[order])
        scores_all.append(score[order])
    bboxes = np.concatenate(boxes_all)
    conf = np.concatenate(scores_all)
    out = []
    for c in range(conf.shape[1]):
        m = conf[:, c] > score_thr
        if not m.any():
            continue
        bp = np.concatenate([bboxes[m], conf[m, c].reshape(-1, 1)], axis=1)
        for r in hard_nms(bp, nms_thr, keep_top_k):
            x1, y1, x2, y2 = np.clip(r[0], 0, in_hw[1]), np.clip(r[1], 0, in_hw[0]), np.clip(r[2], 0, in_hw[1]), np.clip(r[3], 0, in_hw[0])
            out.append({"class_id": c, "score": float(r[4]), "bbox": [float(x1 / scale[1]), float(y1 / scale[0]), float(x2 / scale[1]), float(y2 / scale[0])]})
    return out


def golden_layout():
    s = session("layout")
    out = {}
    for name in IMAGES:
        x, scale = det_pre(imread(name))
        preds = s.run(None, {"image": x})
        out[name] = {"input": tensor_info(x), "boxes": picodet_post(preds, x.shape[2:], scale)}
    return out


# ---- segmentation: PaddleSeg Compose(to_rgb) ResizeByLong(640) Padding(640, 0) Normalize; DB prob > 0.3
def seg_pre(bgr):
    im = cv2.cvtColor(bgr.astype("float32"), cv2.COLOR_BGR2RGB)
    h, w = im.shape[:2]
    s = 640.0 / float(max(h, w))
    rw, rh = int(round(w * s)), int(round(h * s))
    im = cv2.resize(im, (rw, rh), interpolation=cv2.INTER_LINEAR)
    im = cv2.copyMakeBorder(im, 0, 640 - rh, 0, 640 - rw, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    im = im.astype(np.float32, copy=False) / 255.0
    im -= np.array([0.485, 0.456, 0.406])[np.newaxis, np.newaxis, :]
    im /= np.array([0.229, 0.224, 0.225])[np.newaxis, np.newaxis, :]
    return im.transpose((2, 0, 1))[None].copy(), (rh, rw), (h, w)


def db_text_mask(s, bgr):
    """The DB detector's text mask (probability > 0.3) at the original size, and its input."""
    x, (rh, rw), (h, w) = seg_pre(bgr)
    (prob,) = s.run(None, {"x": x})
    lab = (prob[0, 0] > 0.3).astype(np.uint8)[:rh, :rw]
    return cv2.resize(lab, (w, h), interpolation=cv2.INTER_NEAREST), x


def golden_det_db():
    s = session("det_db")
    out = {}
    for name in IMAGES:
        lab, x = db_text_mask(s, imread(name))
        h, w = lab.shape
        out[name] = {"input": tensor_info(x), "height": h, "width": w, "ones": int(lab.sum()), "sha256": sha(lab), "samples": samples(lab)}
    return out


# ---- transform pipelines of every suite on lossless images (the Rust test parses the same configs)
def px_resize_by_short(im, short, max_size):
    h, w = im.shape[:2]
    s = short / float(min(h, w))
    if max_size > 0 and np.round(s * max(h, w)) > max_size:  # C++ round: halves away from zero
        s = max_size / float(max(h, w))
    c_round = lambda v: int(np.floor(v + 0.5))
    return cv2.resize(im, (c_round(s * w), c_round(s * h)), interpolation=cv2.INTER_LINEAR)


def center_crop(im, cw, ch):
    h, w = im.shape[:2]
    x, y = (w - cw) // 2, (h - ch) // 2
    return im[y:y + ch, x:x + cw]


def px_normalize(im, mean, std, mn=(0, 0, 0), mx=(255, 255, 255)):
    out = im.astype(np.float32).copy()
    for c in range(3):
        out[..., c] = ((out[..., c] - np.float32(mn[c])) / np.float32(mx[c] - mn[c]) - np.float32(mean[c])) / np.float32(std[c])
    return out


IMNET_MEAN, IMNET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def pipelines():
    P = {}

    def paddlex_cls(bgr):  # model.yml: RGB, ResizeByShort 256, CenterCrop 224, Normalize
        im = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32)
        im = px_resize_by_short(im, 256, -1)
        im = center_crop(im, 224, 224)
        return px_normalize(im, IMNET_MEAN, IMNET_STD)
    P["paddlex_cls"] = ("model.yml", "version: 1.3.0\nModel: ResNet50\nTransformsMode: RGB\n_Attributes: {model_type: classifier, labels: [a, b]}\nTransforms:\n- ResizeByShort: {short_size: 256, max_size: -1}\n- CenterCrop: {crop_size: 224}\n- Normalize: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}\n- ArrangeClassifier: {mode: test}\n", paddlex_cls)

    def paddlex_seg(bgr):  # BGR, ResizeByLong 320 (nearest, by factor), Padding stride 32, Clip, Normalize
        im = bgr.astype(np.float32)
        h, w = im.shape[:2]
        s = 320.0 / max(h, w)
        im = cv2.resize(im, None, None, fx=s, fy=s, interpolation=cv2.INTER_NEAREST)
        h, w = im.shape[:2]
        ph, pw = (h + 31) // 32 * 32, (w + 31) // 32 * 32
        im = cv2.copyMakeBorder(im, 0, ph - h, 0, pw - w, cv2.BORDER_CONSTANT, value=(10, 20, 30))
        im = np.clip(im, np.array([5, 5, 5], np.float32), np.array([250, 250, 250], np.float32))
        return px_normalize(im, [0.5] * 3, [0.5] * 3)
    P["paddlex_seg"] = ("model.yml", "version: 1.3.0\nModel: UNet\nTransformsMode: BGR\n_Attributes: {model_type: segmenter, labels: [bg, fg]}\nTransforms:\n- ResizeByLong: {long_size: 320}\n- Padding: {coarsest_stride: 32, target_size: null, im_padding_value: [10, 20, 30]}\n- Clip: {min_val: [5, 5, 5], max_val: [250, 250, 250]}\n- Normalize: {mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]}\n- ArrangeSegmenter: {mode: test}\n", paddlex_seg)

    def clas(bgr):  # PaddleClas: DecodeImage(to_rgb) ResizeImage(resize_short 256) CropImage(224) NormalizeImage
        im = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        h, w = im.shape[:2]
        p = 256 / min(w, h)
        im = cv2.resize(im, (int(round(w * p)), int(round(h * p))), interpolation=cv2.INTER_LINEAR)
        im = center_crop(im, 224, 224)
        mean = np.array(IMNET_MEAN).reshape((1, 1, 3)).astype("float32")
        std = np.array(IMNET_STD).reshape((1, 1, 3)).astype("float32")
        return (im.astype("float32") * np.float32(0.00392156862745098) - mean) / std
    P["paddleclas"] = ("inference.yml", "Global: {model_name: PPLCNet}\nPreProcess:\n  transform_ops:\n  - DecodeImage: {to_rgb: true, channel_first: false}\n  - ResizeImage: {resize_short: 256}\n  - CropImage: {size: 224}\n  - NormalizeImage: {channel_num: 3, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], order: '', scale: 0.00392156862745098}\n  - ToCHWImage: null\nPostProcess:\n  Topk: {topk: 5, label_list: [a, b]}\n", clas)

    def det(bgr):  # PaddleDetection: Resize(keep_ratio, [640,640]) Pad(640, 114) NormalizeImage Permute
        im = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        h, w = im.shape[:2]
        s = 640 / min(h, w)
        if np.round(s * max(h, w)) > 640:
            s = 640 / max(h, w)
        im = cv2.resize(im, None, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
        canvas = np.ones((640, 640, 3), dtype=np.float32) * np.array([114.0, 114.0, 114.0], dtype=np.float32)
        canvas[:im.shape[0], :im.shape[1], :] = im.astype(np.float32)
        im = canvas
        im *= 1.0 / 255.0
        im -= np.array(IMNET_MEAN)[np.newaxis, np.newaxis, :]
        im /= np.array(IMNET_STD)[np.newaxis, np.newaxis, :]
        return im
    P["paddledet"] = ("infer_cfg.yml", "arch: YOLOX\nmode: paddle\nlabel_list: [a]\nPreprocess:\n- {type: Resize, target_size: [640, 640], keep_ratio: true, interp: 1}\n- {type: Pad, size: [640, 640], fill_value: [114.0, 114.0, 114.0]}\n- {type: NormalizeImage, is_scale: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}\n- {type: Permute}\n", det)

    def det_stride(bgr):  # Resize(keep_ratio, [800,1333]) NormalizeImage Permute PadStride(32)
        im = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        h, w = im.shape[:2]
        s = 800 / min(h, w)
        if np.round(s * max(h, w)) > 1333:
            s = 1333 / max(h, w)
        im = cv2.resize(im, None, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR).astype(np.float32)
        im *= 1.0 / 255.0
        im -= np.array(IMNET_MEAN)[np.newaxis, np.newaxis, :]
        im /= np.array(IMNET_STD)[np.newaxis, np.newaxis, :]
        h, w = im.shape[:2]
        ph, pw = int(np.ceil(h / 32) * 32), int(np.ceil(w / 32) * 32)
        out = np.zeros((ph, pw, 3), np.float32)
        out[:h, :w] = im
        return out
    P["paddledet_stride"] = ("infer_cfg.yml", "arch: FasterRCNN\nlabel_list: [a]\nPreprocess:\n- {type: Resize, target_size: [800, 1333], keep_ratio: true, interp: 1}\n- {type: NormalizeImage, is_scale: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}\n- {type: Permute}\n- {type: PadStride, stride: 32}\n", det_stride)

    def seg(bgr):  # PaddleSeg: float, to_rgb, ResizeByShort 300, Resize 512x384, Normalize
        im = cv2.cvtColor(bgr.astype("float32"), cv2.COLOR_BGR2RGB)
        h, w = im.shape[:2]
        s = 300.0 / min(h, w)
        im = cv2.resize(im, (int(round(w * s)), int(round(h * s))), interpolation=cv2.INTER_LINEAR)
        im = cv2.resize(im, (512, 384), interpolation=cv2.INTER_LINEAR)
        im = im / 255.0
        im -= np.array([0.5, 0.5, 0.5])[np.newaxis, np.newaxis, :]
        im /= np.array([0.5, 0.5, 0.5])[np.newaxis, np.newaxis, :]
        return im.astype(np.float32)
    P["paddleseg"] = ("deploy.yaml", "Deploy:\n  model: model.pdmodel\n  params: model.pdiparams\n  transforms:\n  - {type: ResizeByShort, short_size: 300}\n  - {type: Resize, target_size: [512, 384]}\n  - {type: Normalize}\n", seg)

    def seg_keep_ratio(bgr):  # PaddleSeg: Resize(keep_ratio, size_divisor 32, AREA), Normalize
        im = cv2.cvtColor(bgr.astype("float32"), cv2.COLOR_BGR2RGB)
        h, w = im.shape[:2]
        s = min(max(512, 384) / max(w, h), min(512, 384) / min(w, h))  # functional.rescale_size
        tw, th = [math.ceil(round(v * s) / 32) * 32 for v in (w, h)]
        im = cv2.resize(im, (tw, th), interpolation=cv2.INTER_AREA)
        im = im / 255.0
        im -= np.array([0.5, 0.5, 0.5])[np.newaxis, np.newaxis, :]
        im /= np.array([0.5, 0.5, 0.5])[np.newaxis, np.newaxis, :]
        return im.astype(np.float32)
    P["paddleseg_keep_ratio"] = ("deploy.yaml", "Deploy:\n  model: model.pdmodel\n  params: model.pdiparams\n  transforms:\n  - {type: Resize, target_size: [512, 384], keep_ratio: true, size_divisor: 32, interp: AREA}\n  - {type: Normalize}\n", seg_keep_ratio)
    return P


def golden_transforms():
    out = {}
    for key, (fname, cfg, fn) in pipelines().items():
        per = {}
        for name in ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png"]:
            t = fn(imread(name)).transpose((2, 0, 1)).astype(np.float32)
            per[name] = tensor_info(t)
        out[key] = {"file": fname, "config": cfg, "images": per}
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    meta = {"onnxruntime": ort.__version__, "opencv": cv2.__version__, "numpy": np.__version__, "sample_rule": "(k * 7919 + 13) % n, k < 1000"}
    for fname, fn in [("decode", golden_decode), ("resize", golden_resize), ("cls", golden_cls), ("layout", golden_layout), ("det_db", golden_det_db), ("transforms", golden_transforms)]:
        data = {"meta": meta, "data": fn()}
        with open(os.path.join(OUT, fname + ".json"), "w") as f:
            json.dump(data, f, separators=(",", ":"))
        print("wrote", os.path.join(OUT, fname + ".json"))


if __name__ == "__main__":
    main()
