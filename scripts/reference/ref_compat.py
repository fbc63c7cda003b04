"""Legacy-format export with paddlepaddle 3.3.1.

In 3.3.1 a number of Python functions (`paddle.sigmoid`, `paddle.tanh`, `paddle.multiply`,
`paddle.matmul`, `paddle.maximum`, `paddle.argmax`, `paddle.sum`, ...) are bound straight to the
PIR/dygraph C++ entry points and fail on a legacy static `Variable` ("must be Value, but got
Variable"), so `FLAGS_enable_pir_api=0` + `paddle.jit.save` cannot trace them. `patch()` rebinds
them, in the legacy child process only, to functions that append the legacy operator with
`LayerHelper` in static mode and call the original in dygraph mode.
"""
import paddle
from paddle.base.layer_helper import LayerHelper


def _static():
    return not paddle.in_dynamic_mode()


def _unary(orig, op, attrs=None):
    def f(x, *args, **kw):
        if not _static():
            return orig(x, *args, **kw)
        h = LayerHelper(op)
        out = h.create_variable_for_type_inference(x.dtype)
        h.append_op(type=op, inputs={"X": x}, outputs={"Out": out}, attrs=(attrs(*args, **kw) if attrs else {}))
        return out
    return f


def _binary(orig, op, dtype=None, attrs=None):
    def f(x, y, *args, **kw):
        if not _static():
            return orig(x, y, *args, **kw)
        h = LayerHelper(op)
        out = h.create_variable_for_type_inference(dtype or x.dtype)
        h.append_op(type=op, inputs={"X": x, "Y": y}, outputs={"Out": out},
                    attrs=(attrs(*args, **kw) if attrs else {"axis": -1}))
        return out
    return f


def _arg(orig, op):
    def f(x, axis=None, keepdim=False, dtype="int64", name=None):
        if not _static():
            return orig(x, axis=axis, keepdim=keepdim, dtype=dtype, name=name)
        h = LayerHelper(op)
        out = h.create_variable_for_type_inference("int64" if dtype == "int64" else "int32")
        h.append_op(type=op, inputs={"X": x}, outputs={"Out": out},
                    attrs={"axis": 0 if axis is None else axis, "keepdims": keepdim, "flatten": axis is None,
                           "dtype": 3 if dtype == "int64" else 2})
        return out
    return f


def _sum(orig):
    def f(x, axis=None, dtype=None, keepdim=False, name=None):
        if not _static():
            return orig(x, axis=axis, dtype=dtype, keepdim=keepdim, name=name)
        h = LayerHelper("reduce_sum")
        out = h.create_variable_for_type_inference(x.dtype)
        dims = [] if axis is None else ([axis] if isinstance(axis, int) else list(axis))
        h.append_op(type="reduce_sum", inputs={"X": x}, outputs={"Out": out},
                    attrs={"dim": dims or [0], "keep_dim": keepdim, "reduce_all": not dims})
        return out
    return f


def _logsumexp(orig):
    def f(x, axis=None, keepdim=False, name=None):
        if not _static():
            return orig(x, axis=axis, keepdim=keepdim, name=name)
        h = LayerHelper("logsumexp")
        out = h.create_variable_for_type_inference(x.dtype)
        dims = [] if axis is None else ([axis] if isinstance(axis, int) else list(axis))
        h.append_op(type="logsumexp", inputs={"X": x}, outputs={"Out": out},
                    attrs={"axis": dims or [0], "keepdim": keepdim, "reduce_all": not dims})
        return out
    return f


def _expand_as(orig):
    def f(x, y, name=None):
        if not _static():
            return orig(x, y, name=name)
        h = LayerHelper("expand_as_v2")
        out = h.create_variable_for_type_inference(x.dtype)
        h.append_op(type="expand_as_v2", inputs={"X": x, "Y": y}, outputs={"Out": out},
                    attrs={"target_shape": list(y.shape)})
        return out
    return f


def _matmul(orig):
    def f(x, y, transpose_x=False, transpose_y=False, name=None):
        if not _static():
            return orig(x, y, transpose_x, transpose_y, name=name)
        h = LayerHelper("matmul_v2")
        out = h.create_variable_for_type_inference(x.dtype)
        h.append_op(type="matmul_v2", inputs={"X": x, "Y": y}, outputs={"Out": out},
                    attrs={"trans_x": transpose_x, "trans_y": transpose_y})
        return out
    return f


def patch():
    F = paddle.nn.functional
    targets = [paddle, paddle.tensor, F]
    fns = {}
    for name in ["sigmoid", "tanh", "exp", "abs", "ceil", "floor", "cos", "sin", "log", "rsqrt", "sign", "sqrt",
                 "round", "log1p", "log2", "log10", "expm1", "sinh", "cosh", "acos", "asin", "atanh", "acosh"]:
        orig = getattr(paddle, name, None) or getattr(F, name)
        fns[name] = _unary(orig, name)
    fns["gelu"] = _unary(F.gelu, "gelu", lambda approximate=False, name=None: {"approximate": approximate})
    fns["softplus"] = _unary(F.softplus, "softplus",
                             lambda beta=1, threshold=20, name=None: {"beta": float(beta), "threshold": float(threshold)})
    fns["multiply"] = _binary(paddle.multiply, "elementwise_mul", attrs=lambda name=None: {"axis": -1})
    fns["maximum"] = _binary(paddle.maximum, "elementwise_max", attrs=lambda name=None: {"axis": -1})
    fns["minimum"] = _binary(paddle.minimum, "elementwise_min", attrs=lambda name=None: {"axis": -1})
    fns["greater_than"] = _binary(paddle.greater_than, "greater_than", "bool", lambda name=None: {"axis": -1})
    for op in ["logical_and", "logical_or", "logical_xor"]:
        fns[op] = _binary(getattr(paddle, op), op, "bool", lambda out=None, name=None: {})
    fns["logical_not"] = _unary(paddle.logical_not, "logical_not")
    fns["argmax"] = _arg(paddle.argmax, "arg_max")
    fns["argmin"] = _arg(paddle.argmin, "arg_min")
    fns["sum"] = _sum(paddle.sum)
    fns["logsumexp"] = _logsumexp(paddle.logsumexp)
    fns["expand_as"] = _expand_as(paddle.expand_as)
    fns["matmul"] = _matmul(paddle.matmul)
    for name, f in fns.items():
        for t in targets:
            if hasattr(t, name):
                setattr(t, name, f)
    # Layers that captured the functions at import time.
    import paddle.tensor.math as tm
    import paddle.tensor.linalg as tl
    import paddle.tensor.search as ts
    for mod in [tm, tl, ts, paddle.nn.functional.activation]:
        for name, f in fns.items():
            if hasattr(mod, name):
                setattr(mod, name, f)
