"""Case definitions for paddle_programs.py: what to build, how to save it, which inputs to feed.

A case is a dygraph layer saved with `paddle.jit.save` (both formats), or a static program built
operator by operator (`append_op`, legacy format only) for operators the Python API no longer
emits (mul, matmul v1, elementwise ops with an `axis`, ...).
"""
import numpy as np
import paddle

import ref_ops
import ref_models


class Case:
    """One reference program.

    path: `<suite>/<name>`; build: () -> paddle.nn.Layer; specs: [(name, shape, dtype)] with None
    for dynamic dims; data: [(shape, dtype, kind)] concrete inputs (defaults to specs with None ->
    2); kind: how the Rust test compares (raw, top1, seg, det); static: a function (prefix) that
    writes a legacy program itself instead of `build`.
    """

    def __init__(self, path, build=None, specs=(), data=None, kind="raw", static=None,
                 formats=("legacy", "pir"), tol=None, gen=None):
        self.path = path
        self.build = build
        self.specs = list(specs)
        self.data = data
        self.kind = kind
        self.static = static
        self.formats = ("legacy",) if static else formats
        self.tol = tol
        self.gen = gen

    def make_inputs(self, rng):
        if self.gen is not None:
            return self.gen(rng)
        shapes = self.data or [
            (tuple(2 if d is None else d for d in shape), dtype, "normal")
            for (_, shape, dtype) in self.specs
        ]
        out = []
        for shape, dtype, kind in shapes:
            if kind == "normal":
                x = rng.standard_normal(shape) * 2.0
            elif kind == "uniform":
                x = rng.uniform(0.0, 1.0, shape)
            elif kind == "positive":
                x = rng.uniform(0.1, 4.0, shape)
            elif kind == "image":
                x = rng.uniform(-1.0, 1.0, shape)
            elif isinstance(kind, tuple) and kind[0] == "int":
                x = rng.integers(kind[1], kind[2], shape)
            elif isinstance(kind, tuple) and kind[0] == "const":
                x = np.array(kind[1]).reshape(shape)
            else:
                raise ValueError(kind)
            out.append(np.ascontiguousarray(x.astype(dtype)))
        return out

    def save(self, prefix, fmt):
        if self.static is not None:
            self.static(prefix)
            return
        # Fresh parameter names in each case, so both formats name (and so order) them alike
        # and the two parameter files are byte-identical.
        with paddle.utils.unique_name.guard():
            layer = self.build()
            layer.eval()
            spec = [paddle.static.InputSpec(list(shape), dtype, name) for (name, shape, dtype) in self.specs]
            paddle.jit.save(layer, prefix, input_spec=spec)

    def meta(self):
        m = {"kind": self.kind}
        if self.tol is not None:
            m["tol"] = self.tol
        return m


def all_cases(suites):
    cases = []
    if "ops" in suites:
        cases += [Case(**c) for c in ref_ops.cases()]
    if "models" in suites:
        cases += [Case(**c) for c in ref_models.cases()]
    if "det" in suites:
        import ref_det
        cases += [Case(**c) for c in ref_det.cases()]
    return cases
