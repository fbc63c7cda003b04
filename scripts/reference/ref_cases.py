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
                 formats=("legacy", "pir"), tol=None, gen=None, legacy_static=False, fetched=None):
        self.path = path
        self.build = build
        self.specs = list(specs)
        self.data = data
        self.kind = kind
        self.static = static
        self.formats = ("legacy",) if static else formats
        self.tol = tol
        self.gen = gen
        # Legacy format built by calling the layer in static-graph mode instead of dy2static
        # (paddle 3.3.1's legacy jit.save cannot trace nn.LSTM).
        self.legacy_static = legacy_static
        # A real model fetched by fetch_paddle_models.sh (<repo>/.models/paddle/<fetched>):
        # only its inputs and Paddle's outputs are committed, never the model.
        self.fetched = fetched
        if fetched:
            self.formats = ("legacy",)

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
        if self.fetched:
            import os, shutil
            src = os.path.join(os.path.dirname(__file__), "..", "..", ".models", "paddle", self.fetched)
            if not os.path.isdir(src):
                raise SystemExit(f"{src} missing: run scripts/reference/fetch_paddle_models.sh")
            shutil.copy(os.path.join(src, "inference.pdmodel"), prefix + ".pdmodel")
            shutil.copy(os.path.join(src, "inference.pdiparams"), prefix + ".pdiparams")
            return
        if self.legacy_static and fmt == "legacy":
            paddle.enable_static()
            try:
                main, startup = paddle.static.Program(), paddle.static.Program()
                with paddle.static.program_guard(main, startup), paddle.utils.unique_name.guard():
                    xs = [paddle.static.data(n, [-1 if d is None else d for d in s], d2)
                          for (n, s, d2) in self.specs]
                    layer = self.build()
                    layer.eval()
                    out = layer(*xs)
                exe = paddle.static.Executor(paddle.CPUPlace())
                exe.run(startup)
                paddle.static.save_inference_model(prefix, xs, [out], exe, program=main)
            finally:
                paddle.disable_static()
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
        if self.fetched:
            m["fetched"] = self.fetched
        if self.tol is not None:
            m["tol"] = self.tol
        return m


def text_page(rng, h, w, lines=3):
    """A synthetic text-like image (dark glyph-sized blocks in rows on a light background),
    normalized like PP-OCR's detector input, NCHW float32."""
    img = np.full((h, w, 3), 235.0) + rng.normal(0, 6, (h, w, 3))
    row_h = h // (lines + 1)
    for r in range(lines):
        y0 = row_h // 2 + r * row_h + row_h // 4
        x = int(rng.integers(2, 10))
        while x < w - 8:
            gw, gh = int(rng.integers(3, 7)), int(rng.integers(max(3, row_h // 3), max(4, row_h // 2)))
            img[y0:y0 + gh, x:x + gw] = rng.uniform(10, 60)
            x += gw + int(rng.integers(1, 4))
    img = np.clip(img, 0, 255) / 255.0
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    x = ((img - mean) / std).transpose(2, 0, 1)[None]
    return np.ascontiguousarray(x.astype("float32"))


def all_cases(suites):
    cases = []
    if "ops" in suites:
        cases += [Case(**c) for c in ref_ops.cases()]
    if "models" in suites:
        import ref_seg
        cases += [Case(**c) for c in ref_models.cases()]
        cases += [Case(**c) for c in ref_seg.cases()]
    if "real" in suites:
        cases += [
            Case("real/ppocr_cls", fetched="cls", specs=[("x", [None, 3, 48, 192], "float32")],
                 data=[((2, 3, 48, 192), "float32", "image")], kind="top1"),
            Case("real/ppocrv4_det", fetched="det", specs=[("x", [None, 3, None, None], "float32")],
                 gen=lambda rng: [text_page(rng, 96, 128)]),
            Case("real/ppocrv4_rec", fetched="rec", specs=[("x", [None, 3, 48, None], "float32")],
                 gen=lambda rng: [text_page(rng, 48, 64, lines=1)]),
        ]
    if "det" in suites:
        import ref_det
        cases += [Case(**c) for c in ref_det.cases()]
    return cases
