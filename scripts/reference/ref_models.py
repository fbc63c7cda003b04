"""Model-family reference cases: reduced widths/depths of the real architectures, seeded weights."""
import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddle.vision.models import mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small


def randomize_bn(layer):
    """Non-trivial batch-norm statistics so the folding is exercised (dygraph only)."""
    if not paddle.in_dynamic_mode():
        return layer
    for m in layer.sublayers():
        if isinstance(m, (nn.BatchNorm2D, nn.BatchNorm)):
            c = m._mean.shape[0]
            m._mean.set_value(np.random.uniform(-0.2, 0.2, c).astype("float32"))
            m._variance.set_value(np.random.uniform(0.5, 1.5, c).astype("float32"))
            m.weight.set_value(np.random.uniform(0.7, 1.3, c).astype("float32"))
            m.bias.set_value(np.random.uniform(-0.2, 0.2, c).astype("float32"))
    return layer


class ConvBN(nn.Layer):
    def __init__(self, cin, cout, k, s=1, groups=1, act="relu", pad=None):
        super().__init__()
        self.conv = nn.Conv2D(cin, cout, k, s, (k - 1) // 2 if pad is None else pad, groups=groups, bias_attr=False)
        self.bn = nn.BatchNorm2D(cout)
        self.act = {"relu": nn.ReLU(), "hardswish": nn.Hardswish(), None: None, "lrelu": nn.LeakyReLU(0.1),
                    "swish": nn.Swish(), "silu": nn.Silu()}[act]

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.act(x) if self.act is not None else x


# ---- ResNet (BasicBlock and Bottleneck, vd-style avg-pool shortcut in the last stage) ----
class Basic(nn.Layer):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = ConvBN(cin, cout, 3, stride)
        self.b = ConvBN(cout, cout, 3, 1, act=None)
        self.short = None if (cin == cout and stride == 1) else ConvBN(cin, cout, 1, stride, act=None)

    def forward(self, x):
        s = x if self.short is None else self.short(x)
        return F.relu(self.b(self.a(x)) + s)


class Bottleneck(nn.Layer):
    def __init__(self, cin, mid, stride):
        super().__init__()
        cout = mid * 4
        self.a = ConvBN(cin, mid, 1)
        self.b = ConvBN(mid, mid, 3, stride)
        self.c = ConvBN(mid, cout, 1, act=None)
        self.pool = nn.AvgPool2D(2, 2, ceil_mode=True) if stride == 2 else None
        self.short = None if (cin == cout and stride == 1) else ConvBN(cin, cout, 1, 1, act=None)

    def forward(self, x):
        s = x
        if self.pool is not None:
            s = self.pool(s)
        if self.short is not None:
            s = self.short(s)
        return F.relu(self.c(self.b(self.a(x))) + s)


class ResNetSmall(nn.Layer):
    def __init__(self, bottleneck=False, classes=10):
        super().__init__()
        self.stem = ConvBN(3, 8, 7, 2)
        self.pool = nn.MaxPool2D(3, 2, 1)
        layers, cin = [], 8
        for i, w in enumerate([8, 16, 24, 32]):
            stride = 1 if i == 0 else 2
            if bottleneck:
                layers += [Bottleneck(cin, w, stride), Bottleneck(w * 4, w, 1)]
                cin = w * 4
            else:
                layers += [Basic(cin, w, stride), Basic(w, w, 1)]
                cin = w
        self.layers = nn.Sequential(*layers)
        self.gap = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layers(self.pool(self.stem(x)))
        return self.fc(paddle.flatten(self.gap(x), 1))


# ---- PP-LCNet (PaddleClas ppcv/arch/backbone/legendary_models/pp_lcnet.py structure) ----
class SE(nn.Layer):
    def __init__(self, c, r=4):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.c1 = nn.Conv2D(c, c // r, 1)
        self.c2 = nn.Conv2D(c // r, c, 1)
        self.hs = nn.Hardsigmoid()

    def forward(self, x):
        y = self.hs(self.c2(F.relu(self.c1(self.pool(x)))))
        return x * y


class DepthwiseSeparable(nn.Layer):
    def __init__(self, cin, cout, k, s, se):
        super().__init__()
        self.dw = ConvBN(cin, cin, k, s, groups=cin, act="hardswish")
        self.se = SE(cin) if se else None
        self.pw = ConvBN(cin, cout, 1, act="hardswish")

    def forward(self, x):
        x = self.dw(x)
        if self.se is not None:
            x = self.se(x)
        return self.pw(x)


class PPLCNetSmall(nn.Layer):
    # (k, cin, cout, stride, se) per block, widths of PP-LCNet x0.25
    CFG = [(3, 8, 8, 1, False), (3, 8, 16, 2, False), (3, 16, 16, 1, False), (3, 16, 32, 2, False),
           (3, 32, 32, 1, False), (3, 32, 64, 2, False), (5, 64, 64, 1, False), (5, 64, 128, 2, True),
           (5, 128, 128, 1, True)]

    def __init__(self, classes=10):
        super().__init__()
        self.stem = ConvBN(3, 8, 3, 2, act="hardswish")
        self.blocks = nn.Sequential(*[DepthwiseSeparable(ci, co, k, s, se) for (k, ci, co, s, se) in self.CFG])
        self.gap = nn.AdaptiveAvgPool2D(1)
        self.last = nn.Conv2D(128, 96, 1, bias_attr=False)
        self.hs = nn.Hardswish()
        self.drop = nn.Dropout(0.2, mode="downscale_in_infer")
        self.flatten = nn.Flatten(1, -1)
        self.fc = nn.Linear(96, classes)

    def forward(self, x):
        x = self.gap(self.blocks(self.stem(x)))
        x = self.drop(self.hs(self.last(x)))
        return self.fc(self.flatten(x))


# ---- PP-HGNet / PP-HGNetV2 (HG blocks, ESE, learnable affine blocks) ----
class LAB(nn.Layer):
    def __init__(self):
        super().__init__()
        self.scale = self.create_parameter([1], default_initializer=nn.initializer.Constant(1.2))
        self.bias = self.create_parameter([1], default_initializer=nn.initializer.Constant(0.1))

    def forward(self, x):
        return self.scale * x + self.bias


class ConvBNAct(nn.Layer):
    def __init__(self, cin, cout, k, s=1, groups=1, act=True, lab=False):
        super().__init__()
        self.conv = nn.Conv2D(cin, cout, k, s, (k - 1) // 2, groups=groups, bias_attr=False)
        self.bn = nn.BatchNorm2D(cout)
        self.act = act
        self.lab = LAB() if (lab and act) else None

    def forward(self, x):
        x = self.bn(self.conv(x))
        if self.act:
            x = F.relu(x)
            if self.lab is not None:
                x = self.lab(x)
        return x


class ESE(nn.Layer):
    def __init__(self, c):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.conv = nn.Conv2D(c, c, 1)

    def forward(self, x):
        return x * F.sigmoid(self.conv(self.pool(x)))


class HGBlock(nn.Layer):
    def __init__(self, cin, mid, cout, n, identity, lab):
        super().__init__()
        self.identity = identity
        self.layers = nn.LayerList([ConvBNAct(cin if i == 0 else mid, mid, 3, lab=lab) for i in range(n)])
        self.agg = ConvBNAct(cin + n * mid, cout, 1, lab=lab)
        self.ese = ESE(cout)

    def forward(self, x):
        ident = x
        outs = [x]
        for l in self.layers:
            x = l(x)
            outs.append(x)
        x = self.ese(self.agg(paddle.concat(outs, axis=1)))
        return x + ident if self.identity else x


class PPHGNetSmall(nn.Layer):
    def __init__(self, v2=False, classes=10):
        super().__init__()
        self.stem = nn.Sequential(ConvBNAct(3, 8, 3, 2, lab=v2), ConvBNAct(8, 8, 3, 1, lab=v2),
                                  ConvBNAct(8, 16, 3, 1, lab=v2))
        self.pool = nn.MaxPool2D(3, 2, 1, ceil_mode=v2)
        stages = []
        cin = 16
        for i, (mid, cout) in enumerate([(4, 16), (8, 24), (12, 32)]):
            blocks = []
            if i > 0:
                blocks.append(ConvBNAct(cin, cin, 3, 2, groups=cin, act=False))
            blocks.append(HGBlock(cin, mid, cout, 3, False, v2))
            blocks.append(HGBlock(cout, mid, cout, 3, True, v2))
            stages.append(nn.Sequential(*blocks))
            cin = cout
        self.stages = nn.Sequential(*stages)
        self.gap = nn.AdaptiveAvgPool2D(1)
        self.last = nn.Conv2D(cin, 64, 1, bias_attr=False)
        self.drop = nn.Dropout(0.2, mode="downscale_in_infer")
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.gap(self.stages(self.pool(self.stem(x))))
        x = self.drop(F.relu(self.last(x)))
        return self.fc(paddle.flatten(x, 1))


def mobilenet_v2_small():
    """MobileNetV2 x0.125 with the 1280-channel head narrowed to 160 (paddle.vision keeps 1280)."""
    from paddle.vision.models.mobilenetv2 import ConvNormActivation
    m = mobilenet_v2(scale=0.125, num_classes=10)
    last = str(len(m.features) - 1)
    cin = m.features[len(m.features) - 2].conv[-2].weight.shape[0] if hasattr(m.features[len(m.features) - 2], "conv") else 40
    m.features._sub_layers[last] = ConvNormActivation(cin, 160, kernel_size=1, norm_layer=nn.BatchNorm2D,
                                                      activation_layer=nn.ReLU6)
    m.last_channel = 160
    m.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(160, 10))
    return m


def mobilenet_v3_narrow(build):
    """MobileNetV3 x0.125 with the 1024/1280-wide classifier hidden layer narrowed to 96."""
    m = build(scale=0.125, num_classes=10)
    m.last_channel = 96
    m.classifier = nn.Sequential(nn.Linear(m.lastconv_out_channels, 96), nn.Hardswish(), nn.Dropout(p=0.2),
                                 nn.Linear(96, 10))
    return m


def classifier(name, build, size=48, batch=2):
    def b():
        paddle.seed(7)
        return randomize_bn(build())
    return dict(path="models/" + name, build=b, specs=[("x", [None, 3, size, size], "float32")],
                data=[((batch, 3, size, size), "float32", "image")], kind="top1")


def cases():
    return [
        classifier("mobilenet_v1", lambda: mobilenet_v1(scale=0.125, num_classes=10)),
        classifier("mobilenet_v2", mobilenet_v2_small),
        classifier("mobilenet_v3_small", lambda: mobilenet_v3_narrow(mobilenet_v3_small)),
        classifier("mobilenet_v3_large", lambda: mobilenet_v3_narrow(mobilenet_v3_large)),
        classifier("resnet_basic", lambda: ResNetSmall(False)),
        classifier("resnet_bottleneck", lambda: ResNetSmall(True)),
        classifier("pplcnet", lambda: PPLCNetSmall()),
        classifier("pphgnet", lambda: PPHGNetSmall(False)),
        classifier("pphgnet_v2", lambda: PPHGNetSmall(True)),
    ]
