"""Segmentation and PP-OCR reference models (reduced widths): PP-LiteSeg, BiSeNetV2, UNet,
DeepLabV3+, DB text detection, SVTR and CRNN-style recognition, text-line classification."""
import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ref_models import ConvBN, randomize_bn


class SegHead(nn.Layer):
    """PaddleSeg export tail: logits upsampled to the input size, argmax as int32 label map."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        logit = self.net(x)
        logit = F.interpolate(logit, paddle.shape(x)[2:], mode="bilinear", align_corners=False)
        return paddle.argmax(logit, axis=1, keepdim=True, dtype="int32")


# ---- PP-LiteSeg: STDC-style encoder, SPPM context, UAFM spatial-attention fusion ----
class STDCBlock(nn.Layer):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = ConvBN(cin, cout // 2, 1)
        self.c2 = ConvBN(cout // 2, cout // 4, 3, stride)
        self.c3 = ConvBN(cout // 4, cout // 4, 3)
        self.pool = nn.AvgPool2D(3, 2, 1) if stride == 2 else None

    def forward(self, x):
        a = self.c1(x)
        b = self.c2(a)
        c = self.c3(b)
        if self.pool is not None:
            a = self.pool(a)
        return paddle.concat([a, b, c], axis=1)


class SPPM(nn.Layer):
    def __init__(self, cin, mid, cout, bins=(1, 2, 4)):
        super().__init__()
        self.stages = nn.LayerList([nn.Sequential(nn.AdaptiveAvgPool2D(b), ConvBN(cin, mid, 1)) for b in bins])
        self.out = ConvBN(mid, cout, 3)

    def forward(self, x):
        y = None
        for s in self.stages:
            z = F.interpolate(s(x), paddle.shape(x)[2:], mode="bilinear", align_corners=False)
            y = z if y is None else y + z
        return self.out(y)


class UAFM(nn.Layer):
    """Spatial attention fusion: mean/max over channels of both inputs -> conv -> sigmoid."""

    def __init__(self, cx, cy, cout):
        super().__init__()
        self.proc_x = ConvBN(cx, cy, 3)
        self.att = nn.Sequential(ConvBN(4, 2, 3), nn.Conv2D(2, 1, 3, padding=1, bias_attr=False), nn.BatchNorm2D(1))
        self.out = ConvBN(cy, cout, 3)

    def forward(self, x, y):
        x = self.proc_x(x)
        y = F.interpolate(y, paddle.shape(x)[2:], mode="bilinear")
        atten = paddle.concat([paddle.mean(x, axis=1, keepdim=True), paddle.max(x, axis=1, keepdim=True),
                               paddle.mean(y, axis=1, keepdim=True), paddle.max(y, axis=1, keepdim=True)], axis=1)
        a = F.sigmoid(self.att(atten))
        return self.out(x * a + y * (1 - a))


class PPLiteSegSmall(nn.Layer):
    def __init__(self, classes=4):
        super().__init__()
        self.stem = nn.Sequential(ConvBN(3, 8, 3, 2), ConvBN(8, 16, 3, 2))
        self.s3 = STDCBlock(16, 32, 2)
        self.s4 = STDCBlock(32, 48, 2)
        self.s5 = STDCBlock(48, 64, 2)
        self.sppm = SPPM(64, 16, 24)
        self.f4 = UAFM(48, 24, 16)
        self.f3 = UAFM(32, 16, 16)
        self.head = nn.Sequential(ConvBN(16, 16, 3), nn.Conv2D(16, classes, 1))

    def forward(self, x):
        x3 = self.s3(self.stem(x))
        x4 = self.s4(x3)
        x5 = self.s5(x4)
        y = self.f3(x3, self.f4(x4, self.sppm(x5)))
        return self.head(y)


# ---- BiSeNetV2: detail branch, semantic branch (stem, GE, CE), bilateral guided aggregation ----
class StemBlock(nn.Layer):
    def __init__(self, cout):
        super().__init__()
        self.conv = ConvBN(3, cout, 3, 2)
        self.left = nn.Sequential(ConvBN(cout, cout // 2, 1), ConvBN(cout // 2, cout, 3, 2))
        self.right = nn.MaxPool2D(3, 2, 1)
        self.fuse = ConvBN(cout * 2, cout, 3)

    def forward(self, x):
        x = self.conv(x)
        return self.fuse(paddle.concat([self.left(x), self.right(x)], axis=1))


class GELayer(nn.Layer):
    def __init__(self, cin, cout, expand, stride):
        super().__init__()
        mid = cin * expand
        self.conv = ConvBN(cin, cin, 3)
        self.dw = ConvBN(cin, mid, 3, stride, groups=cin, act=None)
        self.dw2 = ConvBN(mid, mid, 3, groups=mid, act=None) if stride == 2 else None
        self.pw = ConvBN(mid, cout, 1, act=None)
        self.short = nn.Sequential(ConvBN(cin, cin, 3, stride, groups=cin, act=None), ConvBN(cin, cout, 1, act=None)) if stride == 2 else None

    def forward(self, x):
        y = self.dw(self.conv(x))
        if self.dw2 is not None:
            y = self.dw2(y)
        y = self.pw(y)
        s = x if self.short is None else self.short(x)
        return F.relu(y + s)


class CEBlock(nn.Layer):
    def __init__(self, c):
        super().__init__()
        self.gap = nn.Sequential(nn.AdaptiveAvgPool2D(1), nn.BatchNorm2D(c))
        self.conv_gap = ConvBN(c, c, 1)
        self.conv_last = ConvBN(c, c, 3)

    def forward(self, x):
        return self.conv_last(self.conv_gap(self.gap(x)) + x)


class BGA(nn.Layer):
    def __init__(self, c):
        super().__init__()
        self.db = nn.Sequential(ConvBN(c, c, 3, groups=c, act=None), nn.Conv2D(c, c, 1))
        self.db2 = nn.Sequential(ConvBN(c, c, 3, 2, act=None), nn.AvgPool2D(3, 2, 1))
        self.sb = nn.Sequential(ConvBN(c, c, 3, act=None))
        self.sb2 = nn.Sequential(ConvBN(c, c, 3, groups=c, act=None), nn.Conv2D(c, c, 1))
        self.conv = ConvBN(c, c, 3, act=None)

    def forward(self, d, s):
        db = self.db(d)
        db2 = self.db2(d)
        sb = F.interpolate(self.sb(s), paddle.shape(db)[2:], mode="bilinear")
        sb = F.sigmoid(sb)
        sb2 = F.sigmoid(self.sb2(s))
        left = db * sb
        right = F.interpolate(db2 * sb2, paddle.shape(left)[2:], mode="bilinear")
        return self.conv(left + right)


class BiSeNetV2Small(nn.Layer):
    def __init__(self, classes=4):
        super().__init__()
        self.detail = nn.Sequential(ConvBN(3, 8, 3, 2), ConvBN(8, 8, 3), ConvBN(8, 8, 3, 2), ConvBN(8, 8, 3),
                                    ConvBN(8, 16, 3, 2), ConvBN(16, 16, 3))
        self.stem = StemBlock(8)
        self.s3 = nn.Sequential(GELayer(8, 16, 2, 2), GELayer(16, 16, 2, 1))
        self.s4 = nn.Sequential(GELayer(16, 16, 2, 2), GELayer(16, 16, 2, 1))
        self.s5 = nn.Sequential(GELayer(16, 16, 2, 2), GELayer(16, 16, 2, 1), CEBlock(16))
        self.bga = BGA(16)
        self.head = nn.Sequential(ConvBN(16, 16, 3), nn.Dropout(0.1), nn.Conv2D(16, classes, 1))

    def forward(self, x):
        d = self.detail(x)
        s = self.s5(self.s4(self.s3(self.stem(x))))
        return self.head(self.bga(d, s))


# ---- UNet: encoder with max pooling, decoder with transposed convs and skip concats ----
class DoubleConv(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(ConvBN(cin, cout, 3), ConvBN(cout, cout, 3))


class UNetSmall(nn.Layer):
    def __init__(self, classes=3, bilinear=False):
        super().__init__()
        w = [8, 16, 24, 32]
        self.inc = DoubleConv(3, w[0])
        self.downs = nn.LayerList([DoubleConv(w[i], w[i + 1]) for i in range(3)])
        self.ups = nn.LayerList([nn.Conv2DTranspose(w[i + 1], w[i], 2, 2) for i in range(3)])
        self.dec = nn.LayerList([DoubleConv(w[i] * 2, w[i]) for i in range(3)])
        self.bilinear = bilinear
        self.out = nn.Conv2D(w[0], classes, 1)

    def forward(self, x):
        skips = [self.inc(x)]
        for d in self.downs:
            skips.append(d(F.max_pool2d(skips[-1], 2, 2)))
        y = skips.pop()
        for i in reversed(range(3)):
            if self.bilinear:
                y = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=True)
                y = y[:, : skips[i].shape[1]]
            else:
                y = self.ups[i](y)
            y = self.dec[i](paddle.concat([skips[i], y], axis=1))
        return self.out(y)


# ---- DeepLabV3+: dilated backbone, ASPP with image pooling, decoder with low-level features ----
class ASPP(nn.Layer):
    def __init__(self, cin, c, rates=(2, 4, 6)):
        super().__init__()
        self.b0 = ConvBN(cin, c, 1)
        self.bs = nn.LayerList([nn.Sequential(nn.Conv2D(cin, c, 3, padding=r, dilation=r, bias_attr=False),
                                              nn.BatchNorm2D(c), nn.ReLU()) for r in rates])
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2D(1), ConvBN(cin, c, 1))
        self.proj = nn.Sequential(ConvBN(c * (2 + len(rates)), c, 1), nn.Dropout(0.1))

    def forward(self, x):
        outs = [self.b0(x)] + [b(x) for b in self.bs]
        p = F.interpolate(self.pool(x), paddle.shape(x)[2:], mode="bilinear", align_corners=True)
        return self.proj(paddle.concat(outs + [p], axis=1))


class DeepLabV3PSmall(nn.Layer):
    def __init__(self, classes=4):
        super().__init__()
        self.stem = nn.Sequential(ConvBN(3, 8, 3, 2), ConvBN(8, 16, 3, 2))
        self.low = ConvBN(16, 24, 3)
        self.mid = ConvBN(24, 32, 3, 2)
        self.high = nn.Sequential(nn.Conv2D(32, 32, 3, padding=2, dilation=2, bias_attr=False), nn.BatchNorm2D(32), nn.ReLU())
        self.aspp = ASPP(32, 16)
        self.low_proj = ConvBN(24, 8, 1)
        self.dec = nn.Sequential(ConvBN(24, 16, 3), ConvBN(16, 16, 3))
        self.cls = nn.Conv2D(16, classes, 1)

    def forward(self, x):
        low = self.low(self.stem(x))
        y = self.aspp(self.high(self.mid(low)))
        y = F.interpolate(y, paddle.shape(low)[2:], mode="bilinear", align_corners=False)
        y = self.dec(paddle.concat([y, self.low_proj(low)], axis=1))
        return self.cls(y)


# ---- PP-OCR DB detection: backbone, FPN with nearest upsampling, DB head with transposed convs ----
class DBNetSmall(nn.Layer):
    def __init__(self):
        super().__init__()
        self.s1 = nn.Sequential(ConvBN(3, 8, 3, 2, act="hardswish"), ConvBN(8, 8, 3, 2, groups=8, act="hardswish"), ConvBN(8, 16, 1, act="hardswish"))
        self.s2 = nn.Sequential(ConvBN(16, 16, 3, 2, groups=16, act="hardswish"), ConvBN(16, 24, 1, act="hardswish"))
        self.s3 = nn.Sequential(ConvBN(24, 24, 3, 2, groups=24, act="hardswish"), ConvBN(24, 32, 1, act="hardswish"))
        self.s4 = nn.Sequential(ConvBN(32, 32, 3, 2, groups=32, act="hardswish"), ConvBN(32, 48, 1, act="hardswish"))
        c = 16
        self.ins = nn.LayerList([nn.Conv2D(k, c, 1, bias_attr=False) for k in (16, 24, 32, 48)])
        self.outs = nn.LayerList([nn.Conv2D(c, c // 4, 3, padding=1, bias_attr=False) for _ in range(4)])
        self.h1 = ConvBN(c, c // 4, 3)
        self.h2 = nn.Sequential(nn.Conv2DTranspose(c // 4, c // 4, 2, 2), nn.BatchNorm2D(c // 4), nn.ReLU())
        self.h3 = nn.Conv2DTranspose(c // 4, 1, 2, 2)

    def forward(self, x):
        c2 = self.s1(x)
        c3 = self.s2(c2)
        c4 = self.s3(c3)
        c5 = self.s4(c4)
        in2, in3, in4, in5 = [m(c) for m, c in zip(self.ins, (c2, c3, c4, c5))]
        out4 = in4 + F.upsample(in5, scale_factor=2, mode="nearest", align_mode=1)
        out3 = in3 + F.upsample(out4, scale_factor=2, mode="nearest", align_mode=1)
        out2 = in2 + F.upsample(out3, scale_factor=2, mode="nearest", align_mode=1)
        p5 = F.upsample(self.outs[3](in5), scale_factor=8, mode="nearest", align_mode=1)
        p4 = F.upsample(self.outs[2](out4), scale_factor=4, mode="nearest", align_mode=1)
        p3 = F.upsample(self.outs[1](out3), scale_factor=2, mode="nearest", align_mode=1)
        p2 = self.outs[0](out2)
        fuse = paddle.concat([p5, p4, p3, p2], axis=1)
        return F.sigmoid(self.h3(self.h2(self.h1(fuse))))


# ---- SVTR-style recognition: conv stem, global mixing (attention) and local mixing blocks, CTC head ----
class Attention(nn.Layer):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, c = paddle.shape(x)[1], x.shape[2]
        qkv = self.qkv(x).reshape((0, -1, 3, self.heads, c // self.heads)).transpose((2, 0, 3, 1, 4))
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = F.softmax(paddle.matmul(q, k.transpose((0, 1, 3, 2))), axis=-1)
        return self.proj(paddle.matmul(attn, v).transpose((0, 2, 1, 3)).reshape((0, -1, c)))


class MixBlock(nn.Layer):
    def __init__(self, dim, heads):
        super().__init__()
        self.n1 = nn.LayerNorm(dim, epsilon=1e-6)
        self.att = Attention(dim, heads)
        self.n2 = nn.LayerNorm(dim, epsilon=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 2), nn.GELU(), nn.Linear(dim * 2, dim))

    def forward(self, x):
        x = x + self.att(self.n1(x))
        return x + self.mlp(self.n2(x))


class SVTRSmall(nn.Layer):
    def __init__(self, classes=37, dim=32):
        super().__init__()
        self.stem = nn.Sequential(ConvBN(3, 16, 3, 2, act="hardswish"), ConvBN(16, dim, 3, 2, act="hardswish"))
        self.blocks = nn.LayerList([MixBlock(dim, 4) for _ in range(2)])
        self.norm = nn.LayerNorm(dim, epsilon=1e-6)
        self.conv = ConvBN(dim, dim, 1, act="swish")
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.stem(x)  # [N, C, H/4, W/4]
        h, w = x.shape[2], x.shape[3]
        t = x.flatten(2).transpose((0, 2, 1))
        for b in self.blocks:
            t = b(t)
        t = self.norm(t).transpose((0, 2, 1)).reshape((0, -1, h, w))
        t = F.adaptive_avg_pool2d(t, [1, w])
        t = self.conv(t).squeeze(2).transpose((0, 2, 1))
        return F.softmax(self.head(t), axis=2)


class CRNNSmall(nn.Layer):
    """CNN to height 1, sequence from width, bidirectional LSTM, CTC head (PP-OCR CRNN)."""

    def __init__(self, classes=37, lstm=True):
        super().__init__()
        self.cnn = nn.Sequential(ConvBN(3, 8, 3), nn.MaxPool2D(2, 2), ConvBN(8, 16, 3), nn.MaxPool2D(2, 2),
                                 ConvBN(16, 32, 3), nn.MaxPool2D((2, 1), (2, 1)), ConvBN(32, 32, 3),
                                 nn.MaxPool2D((4, 1), (4, 1)))
        self.lstm = nn.LSTM(32, 16, num_layers=2, direction="bidirectional") if lstm else None
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.cnn(x).squeeze(axis=2).transpose([0, 2, 1])
        if self.lstm is not None:
            x, _ = self.lstm(x)
        return F.softmax(self.fc(x), axis=2)


class TextClsSmall(nn.Layer):
    """PP-OCR text-line direction classifier: small MobileNetV3-like net, 2 classes, softmax."""

    def __init__(self):
        super().__init__()
        from ref_models import SE
        self.f = nn.Sequential(ConvBN(3, 8, 3, 2, act="hardswish"), ConvBN(8, 8, 3, 1, groups=8), SE(8),
                               ConvBN(8, 16, 1), ConvBN(16, 16, 3, (2, 1), groups=16, act="hardswish"),
                               ConvBN(16, 24, 1, act="hardswish"), nn.MaxPool2D(2, 2))
        self.fc = nn.Linear(24, 2)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.f(x), 1).flatten(1)
        return F.softmax(self.fc(x), axis=1)


def case(name, build, shape, kind, batch=1, data_shape=None, **kw):
    def b():
        paddle.seed(11)
        return randomize_bn(build())
    data_shape = data_shape or [batch] + [d if d is not None else 64 for d in shape[1:]]
    return dict(path="models/" + name, build=b, specs=[("x", shape, "float32")],
                data=[(tuple(data_shape), "float32", "image")], kind=kind, **kw)


def cases():
    return [
        case("ppliteseg", lambda: SegHead(PPLiteSegSmall()), [None, 3, None, None], "seg", data_shape=[1, 3, 64, 96]),
        case("bisenetv2", lambda: SegHead(BiSeNetV2Small()), [None, 3, None, None], "seg", data_shape=[1, 3, 64, 64]),
        case("unet", lambda: SegHead(UNetSmall()), [None, 3, None, None], "seg", data_shape=[2, 3, 48, 64]),
        case("unet_bilinear", lambda: SegHead(UNetSmall(bilinear=True)), [None, 3, 48, 48], "seg", data_shape=[1, 3, 48, 48]),
        case("deeplabv3p", lambda: SegHead(DeepLabV3PSmall()), [None, 3, None, None], "seg", data_shape=[1, 3, 64, 80]),
        case("ocr_db", DBNetSmall, [None, 3, None, None], "raw", data_shape=[1, 3, 64, 96]),
        case("ocr_svtr", SVTRSmall, [None, 3, 32, 64], "raw", data_shape=[2, 3, 32, 64]),
        case("ocr_crnn", CRNNSmall, [None, 3, 32, None], "raw", data_shape=[1, 3, 32, 48], legacy_static=True),
        case("ocr_cls", TextClsSmall, [None, 3, 48, 192], "top1", data_shape=[2, 3, 48, 192]),
    ]
