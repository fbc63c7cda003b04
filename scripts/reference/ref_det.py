"""Detection reference cases: yolo_box, prior_box, box_coder, multiclass_nms3 and matrix_nms
alone, and reduced PP-PicoDet, PP-YOLOE and YOLOv3 detectors exported like PaddleDetection
(inputs image/im_shape/scale_factor, outputs bbox [K, 6] and bbox_num)."""
import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddle.base.layer_helper import LayerHelper

from ref_models import ConvBN, randomize_bn
from ref_ops import Fn1, Fn2, Fn3


def _pir_or_dygraph():
    return paddle.in_dynamic_mode() or paddle.framework.in_pir_mode()


def multiclass_nms3(bboxes, scores, score_threshold, nms_top_k, keep_top_k, nms_threshold=0.3,
                    normalized=True, nms_eta=1.0, background_label=-1):
    """PaddleDetection's ops.multiclass_nms: (out [K, 6], index [K, 1], rois_num [N])."""
    if _pir_or_dygraph():
        return paddle._C_ops.multiclass_nms3(bboxes, scores, None, score_threshold, nms_top_k, keep_top_k,
                                             nms_threshold, normalized, nms_eta, background_label)
    h = LayerHelper("multiclass_nms3")
    out = h.create_variable_for_type_inference(bboxes.dtype)
    index = h.create_variable_for_type_inference("int32")
    num = h.create_variable_for_type_inference("int32")
    h.append_op(type="multiclass_nms3", inputs={"BBoxes": bboxes, "Scores": scores},
                outputs={"Out": out, "Index": index, "NmsRoisNum": num},
                attrs={"background_label": background_label, "score_threshold": score_threshold,
                       "nms_top_k": nms_top_k, "nms_threshold": nms_threshold, "keep_top_k": keep_top_k,
                       "nms_eta": nms_eta, "normalized": normalized})
    return out, index, num


def det_boxes(rng, n, m, size=64.0, clusters=6):
    """Boxes in clusters of overlapping candidates (so NMS has work), [n, m, 4] x1y1x2y2."""
    out = np.zeros((n, m, 4), "float32")
    for b in range(n):
        centers = rng.uniform(8, size - 8, (clusters, 2))
        sizes = rng.uniform(6, 24, (clusters, 2))
        for i in range(m):
            c = i % clusters
            cx, cy = centers[c] + rng.normal(0, 1.5, 2)
            w, h = sizes[c] * rng.uniform(0.85, 1.15, 2)
            out[b, i] = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
    return out


def nms_inputs(n=1, m=40, c=3, normalized=False):
    def gen(rng):
        boxes = det_boxes(rng, n, m)
        if normalized:
            boxes = boxes / 64.0
        scores = rng.uniform(0, 1, (n, c, m)).astype("float32")
        return [boxes, scores]
    return gen


def op_cases():
    out = []
    nm = lambda name, f, gen, n=1, m=40, c=3: dict(
        path="det/" + name, build=lambda: Fn2(f), specs=[("boxes", [n, m, 4], "float32"), ("scores", [n, c, m], "float32")],
        gen=gen, kind="det")
    out.append(nm("nms_multiclass_pixel", lambda s, b, sc: multiclass_nms3(b, sc, 0.3, 30, 20, 0.45, False)[::2],
                  nms_inputs()))
    out.append(nm("nms_multiclass_normalized_bg0", lambda s, b, sc: multiclass_nms3(
        b, sc, 0.2, -1, -1, 0.5, True, 1.0, 0)[::2], nms_inputs(normalized=True)))
    out.append(nm("nms_multiclass_eta", lambda s, b, sc: multiclass_nms3(
        b, sc, 0.25, 10, 8, 0.7, False, 0.9, -1)[::2], nms_inputs()))
    out.append(nm("nms_multiclass_index", lambda s, b, sc: multiclass_nms3(b, sc, 0.5, 30, 20, 0.45, False),
                  nms_inputs(n=2, m=24), n=2, m=24))
    out.append(nm("nms_multiclass_empty", lambda s, b, sc: multiclass_nms3(b, sc * 0.1, 0.5, 30, 20, 0.45, False)[::2],
                  nms_inputs()))
    out.append(nm("nms_matrix_linear", lambda s, b, sc: paddle.vision.ops.matrix_nms(
        b, sc, 0.3, 0.2, 30, 20, use_gaussian=False, background_label=-1, normalized=False,
        return_index=True, return_rois_num=True), nms_inputs()))
    out.append(nm("nms_matrix_gaussian", lambda s, b, sc: paddle.vision.ops.matrix_nms(
        b, sc, 0.2, 0.1, -1, 15, use_gaussian=True, gaussian_sigma=2.0, background_label=0, normalized=True,
        return_index=False, return_rois_num=True), nms_inputs(normalized=True)))

    def yb(name, anchors, classes, down, clip=True, sxy=1.0, iou_aware=False, conf=0.01, h=4, w=5, n=2):
        a = len(anchors) // 2
        ch = a * (5 + classes) + (a if iou_aware else 0)
        f = lambda s, x, sz: list(paddle.vision.ops.yolo_box(
            x, sz, anchors, classes, conf, down, clip_bbox=clip, scale_x_y=sxy, iou_aware=iou_aware,
            iou_aware_factor=0.4))

        def gen(rng):
            return [rng.normal(0, 1.5, (n, ch, h, w)).astype("float32"),
                    np.array([[60, 75], [50, 90]][:n], "int32")]
        return dict(path="det/" + name, build=lambda: Fn2(f),
                    specs=[("x", [None, ch, None, None], "float32"), ("img_size", [None, 2], "int32")],
                    gen=gen, kind="raw")
    out.append(yb("yolo_box", [10, 13, 16, 30, 33, 23], 3, 16))
    out.append(yb("yolo_box_noclip_sxy", [10, 13, 16, 30], 2, 32, clip=False, sxy=1.05, conf=0.3))
    out.append(yb("yolo_box_iou_aware", [10, 13, 16, 30], 2, 8, iou_aware=True, conf=0.2))

    def pb(name, **kw):
        f = lambda s, feat, img: list(paddle.vision.ops.prior_box(feat, img, **kw))
        return dict(path="det/" + name, build=lambda: Fn2(f),
                    specs=[("feat", [1, 4, 5, 6], "float32"), ("image", [1, 3, 40, 48], "float32")], kind="raw")
    out.append(pb("prior_box", min_sizes=[8.0, 16.0], max_sizes=[12.0, 24.0], aspect_ratios=[2.0, 3.0],
                  variance=[0.1, 0.1, 0.2, 0.2], flip=True, clip=True))
    out.append(pb("prior_box_order", min_sizes=[10.0], max_sizes=[20.0], aspect_ratios=[2.0, 1.0, 0.5],
                  variance=[0.1, 0.1, 0.2, 0.2], flip=False, clip=False, min_max_aspect_ratios_order=True,
                  steps=[7.0, 9.0], offset=0.3))

    def bc(name, code_type, normalized, axis=0, var_tensor=True):
        def f3(s, prior, pvar, target):
            return paddle.vision.ops.box_coder(prior, pvar, target, code_type=code_type,
                                               box_normalized=normalized, axis=axis)

        def f2(s, prior, target):
            return paddle.vision.ops.box_coder(prior, [0.1, 0.2, 0.3, 0.4], target, code_type=code_type,
                                               box_normalized=normalized, axis=axis)

        def gen(rng):
            prior = det_boxes(rng, 1, 6)[0]
            pvar = rng.uniform(0.05, 0.3, (6, 4)).astype("float32")
            if code_type == "decode_center_size":
                target = rng.normal(0, 0.5, (3, 6, 4)).astype("float32")
            else:
                target = det_boxes(rng, 1, 3)[0]
            return [prior, pvar, target] if var_tensor else [prior, target]
        tshape = [3, 6, 4] if code_type == "decode_center_size" else [3, 4]
        specs = [("prior", [6, 4], "float32")] + ([("prior_var", [6, 4], "float32")] if var_tensor else []) + [
            ("target", tshape, "float32")]
        return dict(path="det/" + name, build=lambda: (Fn3(f3) if var_tensor else Fn2(f2)),
                    specs=specs, gen=gen, kind="raw")
    out.append(bc("box_coder_decode", "decode_center_size", False))
    out.append(bc("box_coder_decode_norm_attrvar", "decode_center_size", True, var_tensor=False))
    out.append(bc("box_coder_encode", "encode_center_size", False))
    return out


# ---- detectors ----
class Backbone(nn.Layer):
    """Strides 8, 16, 32 feature maps from a small LCNet/CSP-style conv stack."""

    def __init__(self, act="hardswish", widths=(16, 24, 32)):
        super().__init__()
        self.stem = nn.Sequential(ConvBN(3, 8, 3, 2, act=act), ConvBN(8, 8, 3, 2, groups=8, act=act),
                                  ConvBN(8, 12, 1, act=act))
        self.c3 = nn.Sequential(ConvBN(12, 12, 3, 2, groups=12, act=act), ConvBN(12, widths[0], 1, act=act))
        self.c4 = nn.Sequential(ConvBN(widths[0], widths[0], 3, 2, groups=widths[0], act=act),
                                ConvBN(widths[0], widths[1], 1, act=act))
        self.c5 = nn.Sequential(ConvBN(widths[1], widths[1], 3, 2, groups=widths[1], act=act),
                                ConvBN(widths[1], widths[2], 1, act=act))

    def forward(self, x):
        c3 = self.c3(self.stem(x))
        c4 = self.c4(c3)
        return [c3, c4, self.c5(c4)]


class PAN(nn.Layer):
    """Top-down (nearest upsampling) and bottom-up (stride-2 conv) fusion to a common width."""

    def __init__(self, ins, c, act="hardswish"):
        super().__init__()
        self.lat = nn.LayerList([ConvBN(i, c, 1, act=act) for i in ins])
        self.td = nn.LayerList([ConvBN(2 * c, c, 3, act=act) for _ in range(2)])
        self.down = nn.LayerList([ConvBN(c, c, 3, 2, groups=c, act=act) for _ in range(2)])
        self.bu = nn.LayerList([ConvBN(2 * c, c, 3, act=act) for _ in range(2)])

    def forward(self, feats):
        p = [l(f) for l, f in zip(self.lat, feats)]
        p4 = self.td[0](paddle.concat([p[1], F.upsample(p[2], scale_factor=2, mode="nearest")], axis=1))
        p3 = self.td[1](paddle.concat([p[0], F.upsample(p4, scale_factor=2, mode="nearest")], axis=1))
        n4 = self.bu[0](paddle.concat([self.down[0](p3), p4], axis=1))
        n5 = self.bu[1](paddle.concat([self.down[1](n4), p[2]], axis=1))
        return [p3, n4, n5]


def anchor_points(feat, stride, offset=0.5):
    h, w = paddle.shape(feat)[2], paddle.shape(feat)[3]
    sx = (paddle.arange(end=w, dtype="float32") + offset) * stride
    sy = (paddle.arange(end=h, dtype="float32") + offset) * stride
    yy, xx = paddle.meshgrid(sy, sx)
    return paddle.stack([xx, yy], axis=-1).reshape([-1, 2])


class GFLDetector(nn.Layer):
    """PP-PicoDet (GFL head, reg_max 7, softmax-expectation distances) or PP-YOLOE (ET head,
    reg_max 16, projection as a 1x1 conv with fixed weights) post-processing."""

    def __init__(self, classes=4, reg_max=7, yoloe=False):
        super().__init__()
        act = "swish" if yoloe else "hardswish"
        self.backbone = Backbone(act=act)
        self.neck = PAN((16, 24, 32), 16, act=act)
        self.cls = nn.LayerList([nn.Conv2D(16, classes, 3, padding=1) for _ in range(3)])
        self.reg = nn.LayerList([nn.Conv2D(16, 4 * (reg_max + 1), 3, padding=1) for _ in range(3)])
        self.reg_max = reg_max
        self.yoloe = yoloe
        self.strides = [8, 16, 32]
        if yoloe:
            self.proj_conv = nn.Conv2D(reg_max + 1, 1, 1, bias_attr=False)
            self.proj_conv.weight.set_value(paddle.linspace(0, reg_max, reg_max + 1).reshape([1, reg_max + 1, 1, 1]))
            self.proj_conv.weight.stop_gradient = True

    def forward(self, image, scale_factor):
        feats = self.neck(self.backbone(image))
        boxes, scores = [], []
        for i, f in enumerate(feats):
            s = self.strides[i]
            cls = F.sigmoid(self.cls[i](f)).flatten(2)  # [N, C, hw]
            reg = self.reg[i](f)
            if self.yoloe:
                b, _, h, w = paddle.shape(reg)
                reg = reg.reshape([-1, 4, self.reg_max + 1, h * w]).transpose([0, 2, 3, 1])
                dist = self.proj_conv(F.softmax(reg, axis=1)).squeeze(1)  # [N, hw, 4]
            else:
                reg = reg.flatten(2).transpose([0, 2, 1]).reshape([0, -1, 4, self.reg_max + 1])
                proj = paddle.linspace(0, self.reg_max, self.reg_max + 1)
                dist = paddle.matmul(F.softmax(reg, axis=-1), proj)  # [N, hw, 4]
            dist = dist * s
            pts = anchor_points(f, s)
            lt, rb = paddle.split(dist, 2, axis=-1)
            boxes.append(paddle.concat([pts - lt, pts + rb], axis=-1))
            scores.append(cls)
        boxes = paddle.concat(boxes, axis=1)
        scores = paddle.concat(scores, axis=2)
        sy, sx = paddle.split(scale_factor, 2, axis=-1)
        sf = paddle.concat([sx, sy, sx, sy], axis=-1).reshape([-1, 1, 4])
        boxes = boxes / sf
        if self.yoloe:
            out, _, num = multiclass_nms3(boxes, scores, 0.4, 1000, 100, 0.7, True, 1.0, -1)
        else:
            out, _, num = multiclass_nms3(boxes, scores, 0.45, 1000, 100, 0.6, True, 1.0, -1)
        return out, num


class YOLOv3Small(nn.Layer):
    ANCHORS = [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]]

    def __init__(self, classes=3, matrix=False):
        super().__init__()
        self.backbone = Backbone(act="lrelu")
        self.neck = PAN((16, 24, 32), 16, act="lrelu")
        self.heads = nn.LayerList([nn.Conv2D(16, 3 * (5 + classes), 1) for _ in range(3)])
        self.classes = classes
        self.matrix = matrix

    def forward(self, image, im_shape, scale_factor):
        feats = self.neck(self.backbone(image))
        origin = paddle.cast(im_shape / scale_factor + 0.5, "int32")
        boxes, scores = [], []
        for i, (f, head) in enumerate(zip(feats[::-1], self.heads)):
            b, s = paddle.vision.ops.yolo_box(head(f), origin, self.ANCHORS[2 - i], self.classes, 0.05,
                                              32 // (2 ** i), clip_bbox=True, scale_x_y=1.05)
            boxes.append(b)
            scores.append(s.transpose([0, 2, 1]))
        boxes = paddle.concat(boxes, axis=1)
        scores = paddle.concat(scores, axis=2)
        if self.matrix:
            out, num, _ = paddle.vision.ops.matrix_nms(boxes, scores, 0.05, 0.05, 100, 50, use_gaussian=False,
                                                       background_label=-1, normalized=False, return_index=False,
                                                       return_rois_num=True)
        else:
            out, _, num = multiclass_nms3(boxes, scores, 0.1, 1000, 100, 0.45, False, 1.0, -1)
        return out, num


class Det2(Fn2):
    pass


def detector(name, build, inputs):
    def b():
        paddle.seed(5)
        return randomize_bn(build())

    specs = [("image", [None, 3, 64, 64], "float32")]
    if inputs == 3:
        specs.append(("im_shape", [None, 2], "float32"))
    specs.append(("scale_factor", [None, 2], "float32"))

    def gen(rng):
        img = rng.uniform(-1, 1, (1, 3, 64, 64)).astype("float32")
        ims = [img]
        if inputs == 3:
            ims.append(np.array([[64, 64]], "float32"))
        ims.append(np.array([[0.8, 1.25]], "float32"))
        return ims
    return dict(path="det/" + name, build=b, specs=specs, gen=gen, kind="det")


def cases():
    return op_cases() + [
        detector("picodet", lambda: GFLDetector(), 2),
        detector("ppyoloe", lambda: GFLDetector(yoloe=True, reg_max=16), 2),
        detector("yolov3", lambda: YOLOv3Small(), 3),
        detector("yolov3_matrix_nms", lambda: YOLOv3Small(matrix=True), 3),
    ]
