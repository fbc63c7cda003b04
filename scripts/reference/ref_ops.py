"""Per-operator reference cases: each supported operator alone, with several attribute sets."""
import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F


class Fn1(nn.Layer):
    def __init__(self, fn, **subs):
        super().__init__()
        self.fn = fn
        for k, v in subs.items():
            setattr(self, k, v)

    def forward(self, x):
        return self.fn(self, x)


class Fn2(Fn1):
    def forward(self, x, y):
        return self.fn(self, x, y)


class Fn3(Fn1):
    def forward(self, x, y, z):
        return self.fn(self, x, y, z)


X4 = [("x", [2, 3, 6, 7], "float32")]
X4D = [("x", [None, 3, 6, 7], "float32")]


def one(name, fn, specs=X4, data=None, subs=None, **kw):
    n = len(specs)
    cls = {1: Fn1, 2: Fn2, 3: Fn3}[n]
    subs = subs or {}
    return dict(path="ops/" + name, build=lambda: cls(fn, **{k: v() for k, v in subs.items()}),
                specs=specs, data=data, **kw)


def activations():
    acts = {
        "relu": lambda s, x: F.relu(x),
        "relu6": lambda s, x: F.relu6(x),
        "hardswish": lambda s, x: F.hardswish(x),
        "hardsigmoid": lambda s, x: F.hardsigmoid(x),
        "hardsigmoid_02": lambda s, x: F.hardsigmoid(x, slope=0.2, offset=0.5),
        "swish": lambda s, x: F.swish(x),
        "silu": lambda s, x: F.silu(x),
        "gelu": lambda s, x: F.gelu(x),
        "gelu_tanh": lambda s, x: F.gelu(x, approximate=True),
        "sigmoid": lambda s, x: F.sigmoid(x),
        "tanh": lambda s, x: paddle.tanh(x),
        "leaky_relu": lambda s, x: F.leaky_relu(x),
        "leaky_relu_02": lambda s, x: F.leaky_relu(x, 0.2),
        "elu": lambda s, x: F.elu(x, 0.7),
        "selu": lambda s, x: F.selu(x),
        "softplus": lambda s, x: F.softplus(x, beta=2.0, threshold=3.0),
        "softsign": lambda s, x: F.softsign(x),
        "mish": lambda s, x: F.mish(x),
        "hardtanh": lambda s, x: F.hardtanh(x, -0.5, 1.5),
        "log_sigmoid": lambda s, x: F.log_sigmoid(x),
        "exp": lambda s, x: paddle.exp(x * 0.5),
        "abs": lambda s, x: paddle.abs(x),
        "floor": lambda s, x: paddle.floor(x),
        "ceil": lambda s, x: paddle.ceil(x),
        "round": lambda s, x: paddle.round(x * 2.0),
        "sin": lambda s, x: paddle.sin(x),
        "cos": lambda s, x: paddle.cos(x),
        "erf": lambda s, x: paddle.erf(x),
        "square": lambda s, x: paddle.square(x),
        "sign": lambda s, x: paddle.sign(x),
        "softmax": lambda s, x: F.softmax(x),
        "softmax_axis1": lambda s, x: F.softmax(x, axis=1),
        "log_softmax": lambda s, x: F.log_softmax(x, axis=1),
        "clip": lambda s, x: paddle.clip(x, -0.7, 1.2),
        "pow": lambda s, x: paddle.pow(x, 2.0),
        "pow_fraction": lambda s, x: paddle.pow(paddle.abs(x) + 0.1, 0.7),
        "scale": lambda s, x: paddle.scale(x, 2.5, 0.5),
        "scale_bias_before": lambda s, x: paddle.scale(x, 2.5, 0.5, bias_after_scale=False),
        "neg": lambda s, x: -x,
    }
    out = [one("act_" + k, f) for k, f in acts.items()]
    pos = {
        "sqrt": lambda s, x: paddle.sqrt(x),
        "rsqrt": lambda s, x: paddle.rsqrt(x),
        "log": lambda s, x: paddle.log(x),
        "reciprocal": lambda s, x: paddle.reciprocal(x),
    }
    data = [((2, 3, 6, 7), "float32", "positive")]
    out += [one("act_" + k, f, data=data) for k, f in pos.items()]
    out.append(one("act_prelu_all", lambda s, x: s.p(x), subs={"p": lambda: nn.PReLU(1, 0.3)}))
    out.append(one("act_prelu_channel", lambda s, x: s.p(x),
                   subs={"p": lambda: nn.PReLU(3, 0.1)}))
    out.append(one("act_prelu_nhwc", lambda s, x: s.p(x), specs=[("x", [2, 6, 7, 3], "float32")],
                   subs={"p": lambda: nn.PReLU(3, 0.2, data_format="NHWC")}))
    return out


def conv():
    def c(name, cin=4, **kw):
        return one(name, lambda s, x: s.c(x), specs=[("x", [2, cin, 9, 10], "float32")],
                   subs={"c": lambda: nn.Conv2D(cin, kw.pop("cout", 6), **kw)})

    def ct(name, cin=4, out_size=None, **kw):
        if out_size is None:
            f = lambda s, x: s.c(x)
        else:
            f = lambda s, x: s.c(x, output_size=out_size)
        return one(name, f, specs=[("x", [2, cin, 5, 6], "float32")],
                   subs={"c": lambda: nn.Conv2DTranspose(cin, kw.pop("cout", 6), **kw)})

    return [
        c("conv_basic", kernel_size=3, padding=1),
        c("conv_stride2", kernel_size=3, stride=2, padding=[1, 2]),
        c("conv_pad4", kernel_size=3, padding=[0, 1, 2, 1]),
        c("conv_same", kernel_size=4, stride=2, padding="SAME"),
        c("conv_valid", kernel_size=3, stride=2, padding="VALID"),
        c("conv_dilated", kernel_size=3, padding=2, dilation=2),
        c("conv_groups", kernel_size=3, padding=1, groups=2),
        c("conv_depthwise", kernel_size=3, padding=1, groups=4, cout=4),
        c("conv_depthwise_mult", kernel_size=5, padding=2, stride=2, groups=4, cout=8),
        c("conv_1x1_nobias", kernel_size=1, bias_attr=False),
        c("conv_rect", kernel_size=(1, 5), padding=(0, 2)),
        ct("convt_basic", kernel_size=3),
        ct("convt_stride2", kernel_size=4, stride=2, padding=1),
        ct("convt_outpad", kernel_size=3, stride=2, padding=1, output_padding=1),
        ct("convt_groups", kernel_size=3, stride=2, groups=2, cout=4),
        ct("convt_dilated", kernel_size=3, dilation=2, padding=1),
        ct("convt_outsize", kernel_size=3, stride=2, padding=1, out_size=[10, 12]),
        ct("convt_depthwise", kernel_size=2, stride=2, groups=4, cout=4),
    ]


def norm():
    return [
        one("batch_norm", lambda s, x: s.bn(x), subs={"bn": lambda: _bn(3)}),
        one("batch_norm_1d", lambda s, x: s.bn(x), specs=[("x", [4, 5], "float32")],
            subs={"bn": lambda: _bn(5, d1=True)}),
        one("layer_norm", lambda s, x: s.ln(x), specs=[("x", [2, 5, 8], "float32")],
            subs={"ln": lambda: _ln([8])}),
        one("layer_norm_2axes", lambda s, x: s.ln(x), specs=[("x", [2, 5, 8], "float32")],
            subs={"ln": lambda: _ln([5, 8])}),
        one("group_norm", lambda s, x: s.gn(x), specs=[("x", [2, 6, 4, 5], "float32")],
            subs={"gn": lambda: _affine(nn.GroupNorm(3, 6))}),
        one("instance_norm", lambda s, x: s.n(x),
            subs={"n": lambda: _affine(nn.InstanceNorm2D(3))}),
    ]


def _affine(layer):
    for p in layer.parameters():
        p.set_value(np.random.uniform(0.5, 1.5, p.shape).astype("float32"))
    return layer


def _bn(c, d1=False):
    bn = nn.BatchNorm1D(c) if d1 else nn.BatchNorm2D(c)
    bn.weight.set_value(np.random.uniform(0.5, 1.5, c).astype("float32"))
    bn.bias.set_value(np.random.uniform(-0.5, 0.5, c).astype("float32"))
    bn._mean.set_value(np.random.uniform(-0.5, 0.5, c).astype("float32"))
    bn._variance.set_value(np.random.uniform(0.5, 2.0, c).astype("float32"))
    return bn


def _ln(shape):
    ln = nn.LayerNorm(shape)
    ln.weight.set_value(np.random.uniform(0.5, 1.5, ln.weight.shape).astype("float32"))
    ln.bias.set_value(np.random.uniform(-0.5, 0.5, ln.bias.shape).astype("float32"))
    return ln


def pool():
    s = [("x", [2, 3, 9, 10], "float32")]
    neg = [((2, 3, 9, 10), "float32", "normal")]
    p = lambda name, f, specs=s: one(name, f, specs=specs, data=None)
    return [
        p("pool_max_k2", lambda s, x: F.max_pool2d(x, 2, 2)),
        p("pool_max_k3_p1", lambda s, x: F.max_pool2d(x - 10.0, 3, 2, 1)),
        p("pool_max_ceil", lambda s, x: F.max_pool2d(x, 3, 2, 0, ceil_mode=True)),
        p("pool_max_pad4", lambda s, x: F.max_pool2d(x, 3, 1, [1, 0, 2, 1])),
        p("pool_avg_k2", lambda s, x: F.avg_pool2d(x, 2, 2)),
        p("pool_avg_excl", lambda s, x: F.avg_pool2d(x, 3, 2, 1, exclusive=True)),
        p("pool_avg_incl", lambda s, x: F.avg_pool2d(x, 3, 2, 1, exclusive=False)),
        p("pool_avg_ceil", lambda s, x: F.avg_pool2d(x, 2, 2, 0, ceil_mode=True)),
        p("pool_avg_ceil_incl", lambda s, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, exclusive=False)),
        p("pool_global_avg", lambda s, x: F.adaptive_avg_pool2d(x, 1)),
        p("pool_global_max", lambda s, x: F.adaptive_max_pool2d(x, 1)),
        p("pool_adaptive_avg_div", lambda s, x: F.adaptive_avg_pool2d(x[:, :, :8, :10], [4, 5])),
        p("pool_adaptive_avg_nondiv", lambda s, x: F.adaptive_avg_pool2d(x, [4, 3])),
        p("pool_adaptive_max_nondiv", lambda s, x: F.adaptive_max_pool2d(x, [4, 3])),
        p("pool_global_avg_dyn", lambda s, x: F.adaptive_avg_pool2d(x, 1), specs=[("x", [None, 3, None, None], "float32")]),
    ]


def matmul():
    m = lambda name, f, a, b, **kw: one(name, f, specs=[("x", a, "float32"), ("y", b, "float32")], **kw)
    return [
        m("matmul_2d", lambda s, x, y: paddle.matmul(x, y), [3, 4], [4, 5]),
        m("matmul_batched", lambda s, x, y: paddle.matmul(x, y), [2, 3, 4], [2, 4, 5]),
        m("matmul_bcast", lambda s, x, y: paddle.matmul(x, y), [2, 3, 4], [4, 5]),
        m("matmul_trans", lambda s, x, y: paddle.matmul(x, y, transpose_x=True, transpose_y=True), [2, 4, 3], [5, 4]),
        m("matmul_vec", lambda s, x, y: paddle.matmul(x, y), [3, 4], [4]),
        one("linear", lambda s, x: s.l(x), specs=[("x", [None, 7], "float32")],
            subs={"l": lambda: nn.Linear(7, 5)}),
        one("linear_3d", lambda s, x: s.l(x), specs=[("x", [2, 3, 7], "float32")],
            subs={"l": lambda: nn.Linear(7, 5)}),
    ]


def elementwise():
    e = lambda name, f, a, b, data=None: one(name, f, specs=[("x", a, "float32"), ("y", b, "float32")], data=data)
    out = []
    for op, f in {
        "add": lambda s, x, y: x + y,
        "sub": lambda s, x, y: x - y,
        "mul": lambda s, x, y: x * y,
        "div": lambda s, x, y: x / y,
        "max": lambda s, x, y: paddle.maximum(x, y),
        "min": lambda s, x, y: paddle.minimum(x, y),
    }.items():
        out.append(e("ew_" + op, f, [2, 3, 4], [2, 3, 4]))
        out.append(e("ew_" + op + "_bcast", f, [2, 3, 4], [3, 1]))
    out.append(e("ew_pow", lambda s, x, y: paddle.pow(x, y), [2, 3], [2, 3],
                 data=[((2, 3), "float32", "positive"), ((2, 3), "float32", "normal")]))
    out.append(e("ew_floordiv", lambda s, x, y: paddle.floor_divide(x, y), [2, 3], [2, 3],
                 data=[((2, 3), "int64", ("int", -20, 20)), ((2, 3), "int64", ("int", 1, 6))]))
    out.append(e("ew_mod", lambda s, x, y: paddle.remainder(x, y), [2, 3], [2, 3],
                 data=[((2, 3), "float32", "normal"), ((2, 3), "float32", "positive")]))
    out[-2]["specs"] = [("x", [2, 3], "int64"), ("y", [2, 3], "int64")]
    out.append(e("ew_int_add", lambda s, x, y: x + y * 3, [2, 3], [2, 3],
                 data=[((2, 3), "int32", ("int", -9, 9)), ((2, 3), "int32", ("int", -9, 9))]))
    out[-1]["specs"] = [("x", [2, 3], "int32"), ("y", [2, 3], "int32")]
    cmp = {
        "equal": lambda s, x, y: paddle.cast(x == paddle.round(y), "float32"),
        "not_equal": lambda s, x, y: paddle.cast(x != paddle.round(y), "float32"),
        "greater": lambda s, x, y: paddle.cast(x > y, "float32"),
        "greater_equal": lambda s, x, y: paddle.cast(x >= y, "float32"),
        "less": lambda s, x, y: paddle.cast(x < y, "float32"),
        "less_equal": lambda s, x, y: paddle.cast(x <= y, "float32"),
        "logical": lambda s, x, y: paddle.cast(paddle.logical_or(paddle.logical_and(x > 0, y > 0),
                                                               paddle.logical_not(x > y)), "float32"),
        "where": lambda s, x, y: paddle.where(x > y, x, y * 2.0),
    }
    for k, f in cmp.items():
        out.append(e("cmp_" + k, f, [2, 3, 4], [3, 4],
                     data=[((2, 3, 4), "float32", ("int", -2, 3)), ((3, 4), "float32", ("int", -2, 3))]))
    return out


def _reshape_tensor(s, x):
    return paddle.reshape(x, [paddle.shape(x)[0], -1])


def shapes():
    s = lambda name, f, specs=X4, data=None: one(name, f, specs=specs, data=data)
    return [
        s("reshape", lambda s, x: paddle.reshape(x, [0, -1, 7])),
        s("reshape_dyn", lambda s, x: paddle.reshape(x, [0, 3, 42]), specs=X4D),
        s("reshape_tensor", _reshape_tensor),
        s("flatten", lambda s, x: paddle.flatten(x, 1)),
        s("flatten_mid", lambda s, x: paddle.flatten(x, 1, 2)),
        s("transpose", lambda s, x: paddle.transpose(x, [0, 2, 3, 1])),
        s("squeeze", lambda s, x: paddle.squeeze(x[:, :1], axis=1)),
        s("squeeze_all", lambda s, x: paddle.squeeze(x[:1, :, :1])),
        s("squeeze_non1", lambda s, x: paddle.squeeze(x, axis=[1, 2])),
        s("unsqueeze", lambda s, x: paddle.unsqueeze(x, [0, 2])),
        s("unsqueeze_neg", lambda s, x: paddle.unsqueeze(x, -1)),
        s("concat", lambda s, x: paddle.concat([x, x * 2.0, x[:, :1]], axis=1)),
        s("concat_neg", lambda s, x: paddle.concat([x, x + 1.0], axis=-1)),
        s("split_num", lambda s, x: paddle.split(x, 3, axis=1)[1] * 2.0),
        s("split_sections", lambda s, x: paddle.concat(paddle.split(x, [2, -1, 3], axis=3)[::-1], axis=3)),
        s("slice", lambda s, x: x[:, 1:3, -4:, ::1]),
        s("slice_decrease", lambda s, x: x[:, 1, 2:5]),
        s("slice_dyn", lambda s, x: x[:, :, 1:-1], specs=X4D),
        s("strided_slice", lambda s, x: x[:, ::2, 1::3, ::-2]),
        s("stack", lambda s, x: paddle.stack([x, x * 3.0], axis=2)),
        s("unbind", lambda s, x: paddle.unbind(x, axis=1)[2]),
        s("gather", lambda s, x: paddle.gather(x, paddle.to_tensor([2, 0, 1, 1]), axis=1)),
        s("gather_axis0", lambda s, x: paddle.gather(x, paddle.to_tensor([1, 0]))),
        s("expand", lambda s, x: paddle.expand(x[:, :1], [2, 4, 6, 7])),
        s("expand_rank", lambda s, x: paddle.expand(x[0, 0], [3, 6, 7])),
        s("expand_as", lambda s, x: paddle.expand_as(x[:, :1], x)),
        s("tile", lambda s, x: paddle.tile(x, [1, 2, 1, 3])),
        s("tile_short", lambda s, x: paddle.tile(x, [2, 1])),
        s("shape_cast", lambda s, x: x * paddle.cast(paddle.shape(x)[2], "float32")),
        s("cast_int", lambda s, x: paddle.cast(paddle.cast(x * 3.0, "int32"), "float32")),
        s("full", lambda s, x: x + paddle.full([1, 3, 1, 1], 2.5)),
        s("full_like", lambda s, x: x + paddle.full_like(x, 0.25)),
        s("zeros_like", lambda s, x: paddle.zeros_like(x) + paddle.ones_like(x) * 3.0 + x),
        s("arange", lambda s, x: x + paddle.arange(7, dtype="float32")),
        s("argmax", lambda s, x: paddle.argmax(x, axis=1)),
        s("argmax_keepdim", lambda s, x: paddle.argmax(x, axis=-1, keepdim=True)),
        s("argmin", lambda s, x: paddle.argmin(x, axis=2)),
        s("topk", lambda s, x: paddle.topk(x, 3, axis=-1)[0]),
        s("topk_idx", lambda s, x: paddle.topk(x, 2, axis=1)[1]),
        s("cumsum", lambda s, x: paddle.cumsum(x, axis=2)),
        s("assign", lambda s, x: paddle.assign(x) * 2.0),
        s("identity_dropout", lambda s, x: F.dropout(x, 0.3, training=False)),
        s("dropout_downscale", lambda s, x: F.dropout(x, 0.3, training=False, mode="downscale_in_infer")),
        one("embedding", lambda s, x: s.e(x), specs=[("x", [2, 5], "int64")],
            data=[((2, 5), "int64", ("int", 0, 10))], subs={"e": lambda: nn.Embedding(10, 4, padding_idx=3)}),
        one("gather_nd", lambda s, x, y: paddle.gather_nd(x, y),
            specs=[("x", [3, 4, 5], "float32"), ("y", [2, 2], "int64")],
            data=[((3, 4, 5), "float32", "normal"), ((2, 2), "int64", ("int", 0, 3))]),
        one("gather_tensor", lambda s, x, y: paddle.gather(x, y, axis=1),
            specs=[("x", [3, 4, 5], "float32"), ("y", [6], "int64")],
            data=[((3, 4, 5), "float32", "normal"), ((6,), "int64", ("int", 0, 4))]),
    ]


def reduce():
    r = lambda name, f: one(name, f)
    return [
        r("reduce_mean", lambda s, x: paddle.mean(x, axis=[2, 3], keepdim=True)),
        r("reduce_mean_all", lambda s, x: paddle.mean(x)),
        r("reduce_sum", lambda s, x: paddle.sum(x, axis=1)),
        r("reduce_sum_neg", lambda s, x: paddle.sum(x, axis=[-1, -2], keepdim=True)),
        r("reduce_max", lambda s, x: paddle.max(x, axis=-1)),
        r("reduce_min", lambda s, x: paddle.min(x, axis=[1, 3])),
        r("reduce_prod", lambda s, x: paddle.prod(x * 0.5, axis=1)),
        r("p_norm", lambda s, x: paddle.linalg.norm(x, p=2, axis=1, keepdim=True)),
        r("p_norm_l1", lambda s, x: paddle.linalg.norm(x, p=1, axis=-1)),
        one("normalize", lambda s, x: F.normalize(x, axis=1), formats=("pir",)),
        r("logsumexp", lambda s, x: paddle.logsumexp(x, axis=1)),
        r("mean_sub", lambda s, x: x - paddle.mean(x, axis=1, keepdim=True)),
    ]


def interp():
    i = lambda name, f, specs=[("x", [1, 2, 5, 6], "float32")], data=None: one(name, f, specs=specs, data=data)
    out = []
    for mode in ["nearest", "bilinear"]:
        for ac in [False, True] if mode == "bilinear" else [False]:
            for am in ([0, 1] if (mode == "bilinear" and not ac) else [0]):
                tag = f"{mode}_ac{int(ac)}_am{am}"
                kw = dict(mode=mode, align_corners=ac) | ({"align_mode": am} if mode == "bilinear" else {})
                out.append(i(f"interp_{tag}_size", lambda s, x, kw=kw: F.interpolate(x, size=[9, 11], **kw)))
                out.append(i(f"interp_{tag}_scale2", lambda s, x, kw=kw: F.interpolate(x, scale_factor=2, **kw)))
                out.append(i(f"interp_{tag}_down", lambda s, x, kw=kw: F.interpolate(x, size=[3, 4], **kw)))
                out.append(i(f"interp_{tag}_to1", lambda s, x, kw=kw: F.interpolate(x, size=[1, 3], **kw)))
    # nearest with align_corners: the Python API refuses it, the operator does not.
    out.append(one("interp_nearest_ac1_pir", lambda s, x: paddle._C_ops.nearest_interp(
        x, None, None, None, "NCHW", -1, 7, 9, [], "nearest", True, 0),
        specs=[("x", [1, 2, 4, 5], "float32")], formats=("pir",)))
    out.append(i("interp_bilinear_scale17", lambda s, x: F.interpolate(x, scale_factor=1.7, mode="bilinear")))
    out.append(i("interp_nearest_scale17", lambda s, x: F.interpolate(x, scale_factor=1.7, mode="nearest")))
    out.append(i("interp_bilinear_scale_hw", lambda s, x: F.interpolate(x, scale_factor=[2.0, 0.5], mode="bilinear")))
    out.append(i("interp_bicubic", lambda s, x: F.interpolate(x, size=[9, 11], mode="bicubic")))
    out.append(i("interp_bicubic_ac", lambda s, x: F.interpolate(x, size=[9, 11], mode="bicubic", align_corners=True)))
    out.append(i("interp_bilinear_like", lambda s, x, y: F.interpolate(x, size=paddle.shape(y)[2:], mode="bilinear"),
                 specs=[("x", [1, 2, 5, 6], "float32"), ("y", [1, 1, None, None], "float32")],
                 data=[((1, 2, 5, 6), "float32", "normal"), ((1, 1, 8, 13), "float32", "normal")]))
    out.append(i("interp_nearest_dyn", lambda s, x: F.interpolate(x, scale_factor=2, mode="nearest"),
                 specs=[("x", [None, 2, None, None], "float32")],
                 data=[((2, 2, 4, 5), "float32", "normal")]))
    out.append(i("interp_bilinear_sizelist", lambda s, x, y: F.interpolate(
        x, size=[paddle.shape(y)[2], paddle.shape(y)[3] * 2], mode="bilinear", align_corners=True),
        specs=[("x", [1, 2, 5, 6], "float32"), ("y", [1, 1, None, None], "float32")],
        data=[((1, 2, 5, 6), "float32", "normal"), ((1, 1, 7, 4), "float32", "normal")]))
    return out


def pad():
    p = lambda name, f: one(name, f)
    return [
        p("pad3d_constant", lambda s, x: F.pad(x, [1, 2, 0, 3], value=0.5)),
        p("pad3d_reflect", lambda s, x: F.pad(x, [2, 1, 1, 2], mode="reflect")),
        p("pad3d_replicate", lambda s, x: F.pad(x, [1, 0, 2, 1], mode="replicate")),
        p("pad_all_dims", lambda s, x: F.pad(x, [0, 0, 1, 0, 1, 2, 0, 1], value=-1.0)),
    ]


def legacy_only():
    """Operators only old programs contain, written with append_op into a static program."""
    from paddle.base.layer_helper import LayerHelper

    def static_case(name, build, feeds):
        def save(prefix):
            paddle.enable_static()
            try:
                main, startup = paddle.static.Program(), paddle.static.Program()
                with paddle.static.program_guard(main, startup):
                    xs = [paddle.static.data(n, s, d) for (n, s, d) in feeds]
                    out = build(LayerHelper, *xs)
                exe = paddle.static.Executor(paddle.CPUPlace())
                exe.run(startup)
                paddle.static.save_inference_model(prefix, xs, [out] if not isinstance(out, list) else out, exe,
                                                  program=main)
            finally:
                paddle.disable_static()
        return dict(path="ops/" + name, static=save, specs=feeds)

    def op(h, ty, inputs, attrs, out_dtype="float32", outs=("Out",), extra=None):
        helper = h(ty)
        o = {k: helper.create_variable_for_type_inference(out_dtype) for k in outs}
        for k in extra or []:
            o[k] = helper.create_variable_for_type_inference(out_dtype)
        helper.append_op(type=ty, inputs=inputs, outputs=o, attrs=attrs)
        return o[outs[0]]

    def param(shape, name):
        return paddle.static.create_parameter(
            shape, "float32", name=name, default_initializer=paddle.nn.initializer.Uniform(-1.0, 1.0))

    out = [
        static_case("legacy_mul", lambda h, x: op(h, "mul", {"X": x, "Y": param([12, 5], "mul_w")},
                                                  {"x_num_col_dims": 1, "y_num_col_dims": 1}),
                    [("x", [2, 3, 4], "float32")]),
        static_case("legacy_mul_cols2", lambda h, x: op(h, "mul", {"X": x, "Y": param([4, 5], "mul_w")},
                                                        {"x_num_col_dims": 2, "y_num_col_dims": 1}),
                    [("x", [2, 3, 4], "float32")]),
        static_case("legacy_matmul_v1", lambda h, x, y: op(h, "matmul", {"X": x, "Y": y},
                                                           {"transpose_X": False, "transpose_Y": True, "alpha": 0.5}),
                    [("x", [2, 3, 4], "float32"), ("y", [2, 5, 4], "float32")]),
        static_case("legacy_ew_add_axis1", lambda h, x: op(h, "elementwise_add", {"X": x, "Y": param([3], "b")},
                                                           {"axis": 1}),
                    [("x", [2, 3, 4, 5], "float32")]),
        static_case("legacy_ew_mul_axis1_2d", lambda h, x: op(h, "elementwise_mul", {"X": x, "Y": param([3, 4], "b")},
                                                              {"axis": 1}),
                    [("x", [2, 3, 4, 5], "float32")]),
        static_case("legacy_ew_div_axis0", lambda h, x: op(h, "elementwise_div", {"X": x, "Y": param([2], "b")},
                                                           {"axis": 0}),
                    [("x", [2, 3, 4], "float32")]),
        static_case("legacy_fc", lambda h, x: op(h, "fc", {"Input": x, "W": param([12, 5], "fc_w"), "Bias": param([5], "fc_b")},
                                                 {"in_num_col_dims": 1, "activation_type": "relu"}),
                    [("x", [2, 3, 4], "float32")]),
        static_case("legacy_dropout_downgrade", lambda h, x: op(h, "dropout", {"X": x},
                                                               {"dropout_prob": 0.25, "is_test": True,
                                                                "dropout_implementation": "downgrade_in_infer"},
                                                               extra=["Mask"]),
                    [("x", [2, 3, 4], "float32")]),
        static_case("legacy_hard_sigmoid_default", lambda h, x: op(h, "hard_sigmoid", {"X": x}, {}),
                    [("x", [2, 3, 4], "float32")]),
        static_case("legacy_swish_beta", lambda h, x: op(h, "swish", {"X": x}, {"beta": 1.5}),
                    [("x", [2, 3, 4], "float32")]),
        static_case("legacy_relu6_threshold", lambda h, x: op(h, "relu6", {"X": x}, {"threshold": 4.0}),
                    [("x", [2, 3, 4], "float32")]),
        static_case("legacy_hard_swish_attrs", lambda h, x: op(h, "hard_swish", {"X": x},
                                                              {"threshold": 5.0, "scale": 7.0, "offset": 2.5}),
                    [("x", [2, 3, 4], "float32")]),
        static_case("legacy_nearest_interp_v1", lambda h, x: op(h, "nearest_interp", {"X": x},
                                                               {"out_h": 7, "out_w": 9, "interp_method": "nearest",
                                                                "align_corners": False}),
                    [("x", [1, 2, 4, 5], "float32")]),
        static_case("legacy_bilinear_interp_v1", lambda h, x: op(h, "bilinear_interp", {"X": x},
                                                                {"out_h": 7, "out_w": 9, "interp_method": "bilinear",
                                                                 "align_corners": False, "align_mode": 1}),
                    [("x", [1, 2, 4, 5], "float32")]),
        static_case("legacy_nearest_v2_ac1", lambda h, x: op(h, "nearest_interp_v2", {"X": x},
                                                            {"out_h": 7, "out_w": 9, "interp_method": "nearest",
                                                             "align_corners": True}),
                    [("x", [1, 2, 4, 5], "float32")]),
        static_case("legacy_interp_defaults", lambda h, x: op(h, "bilinear_interp_v2", {"X": x},
                                                             {"out_h": 7, "out_w": 9, "interp_method": "bilinear"}),
                    [("x", [1, 2, 4, 5], "float32")]),
        static_case("legacy_fill_constant_str", lambda h, x: op(h, "elementwise_add", {
            "X": x, "Y": op(h, "fill_constant", {}, {"shape": [1], "dtype": 5, "value": 0.0, "str_value": "1.25"})},
            {"axis": -1}), [("x", [2, 3], "float32")]),
        static_case("legacy_reduce_default_dim", lambda h, x: op(h, "reduce_sum", {"X": x}, {}),
                    [("x", [2, 3, 4], "float32")]),
        static_case("legacy_reduce_all", lambda h, x: op(h, "reduce_mean", {"X": x}, {"reduce_all": True, "dim": [1]}),
                    [("x", [2, 3, 4], "float32")]),
        static_case("legacy_sum", lambda h, x: op(h, "sum", {"X": [x, x, x]}, {}),
                    [("x", [2, 3], "float32")]),
    ]
    return out


def rnns():
    r = lambda name, layer: one(name, lambda s, x: s.l(x)[0], specs=[("x", [None, 5, 8], "float32")],
                                data=[((2, 5, 8), "float32", "normal")], subs={"l": layer}, legacy_static=True)
    return [
        r("rnn_lstm", lambda: nn.LSTM(8, 6)),
        r("rnn_lstm_bidir_2layers", lambda: nn.LSTM(8, 6, num_layers=2, direction="bidirect")),
        r("rnn_gru_bidir", lambda: nn.GRU(8, 6, direction="bidirect")),
        r("rnn_gru", lambda: nn.GRU(8, 6, num_layers=2)),
        r("rnn_simple_tanh", lambda: nn.SimpleRNN(8, 6)),
        r("rnn_simple_relu", lambda: nn.SimpleRNN(8, 6, activation="relu", direction="bidirect")),
    ]


def step2():
    return [
        one("pool_adaptive_avg_dyn", lambda s, x: F.adaptive_avg_pool2d(x, [4, 3]),
            specs=[("x", [None, 3, None, None], "float32")], data=[((2, 3, 9, 10), "float32", "normal")]),
        one("pool_adaptive_max_dyn", lambda s, x: F.adaptive_max_pool2d(x, [2, 3]),
            specs=[("x", [None, 3, None, None], "float32")], data=[((1, 3, 7, 8), "float32", "normal")]),
        one("argmax_int32", lambda s, x: paddle.argmax(x, axis=1, keepdim=True, dtype="int32")),
        one("conv_nhwc", lambda s, x: s.c(x), specs=[("x", [2, 9, 10, 4], "float32")],
            subs={"c": lambda: nn.Conv2D(4, 6, 3, padding=1, data_format="NHWC")}),
        one("upsample_nearest_x2", lambda s, x: F.upsample(x, scale_factor=2, mode="nearest", align_mode=1),
            specs=[("x", [None, 3, None, None], "float32")], data=[((1, 3, 5, 6), "float32", "normal")]),
    ]


def more():
    """Operators the translator supports that the model families do not use."""
    unit = [((2, 3, 6, 7), "float32", "uniform")]
    return [
        one("act_celu", lambda s, x: F.celu(x, 0.8)),
        one("act_thresholded_relu", lambda s, x: F.thresholded_relu(x, 0.7)),
        one("act_tan", lambda s, x: paddle.tan(x * 0.3)),
        one("act_asin", lambda s, x: paddle.asin(x * 0.9), data=unit),
        one("act_acos", lambda s, x: paddle.acos(x * 0.9), data=unit),
        one("act_atan", lambda s, x: paddle.atan(x)),
        one("act_sinh", lambda s, x: paddle.sinh(x)),
        one("act_cosh", lambda s, x: paddle.cosh(x)),
        one("isnan_isinf", lambda s, x: paddle.cast(paddle.isnan(paddle.log(x)), "float32")
            + paddle.cast(paddle.isinf(paddle.log(paddle.abs(x) - paddle.abs(x))), "float32"), formats=("pir",)),
        one("bmm", lambda s, x, y: paddle.bmm(x, y), specs=[("x", [2, 3, 4], "float32"), ("y", [2, 4, 5], "float32")],
            formats=("pir",)),
        one("index_select", lambda s, x, y: paddle.index_select(x, y, axis=2),
            specs=[("x", [2, 3, 6, 7], "float32"), ("y", [4], "int64")],
            data=[((2, 3, 6, 7), "float32", "normal"), ((4,), "int64", ("int", 0, 6))]),
            specs=[("x", [2, 3], "float32"), ("y", [2, 3], "float32")]),
        one("amax", lambda s, x: paddle.amax(x, axis=[1, 2]), formats=("pir",)),
    ]


def legacy_flatten2():
    from paddle.base.layer_helper import LayerHelper

    def save(prefix):
        paddle.enable_static()
        try:
            main, startup = paddle.static.Program(), paddle.static.Program()
            with paddle.static.program_guard(main, startup):
                x = paddle.static.data("x", [2, 3, 4, 5], "float32")
                h = LayerHelper("flatten2")
                out = h.create_variable_for_type_inference("float32")
                xs = h.create_variable_for_type_inference("float32")
                h.append_op(type="flatten2", inputs={"X": x}, outputs={"Out": out, "XShape": xs}, attrs={"axis": 2})
            exe = paddle.static.Executor(paddle.CPUPlace())
            exe.run(startup)
            paddle.static.save_inference_model(prefix, [x], [out], exe, program=main)
        finally:
            paddle.disable_static()
    return [dict(path="ops/legacy_flatten2", static=save, specs=[("x", [2, 3, 4, 5], "float32")])]


def cases():
    return (activations() + conv() + norm() + pool() + matmul() + elementwise() + shapes() + reduce()
            + interp() + pad() + legacy_only() + rnns() + step2() + more() + legacy_flatten2())
