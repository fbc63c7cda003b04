#!/usr/bin/env python3
"""Reference Paddle programs and Paddle Inference outputs for the modelseal-paddle importer tests.

Builds small programs of every operator and model family the importer supports with
paddlepaddle==3.3.1 (seeded random weights, reduced widths/depths of the real architectures),
saves each in BOTH program formats (legacy ProgramDesc `.pdmodel` and PIR `.json`, each with its
`.pdiparams`), runs Paddle Inference (`paddle.inference.Config`, `disable_mkldnn()`,
`create_predictor`) on seeded inputs, and writes everything under
`crates/modelseal-paddle/tests/data/<suite>/<case>/`:

    legacy.pdmodel legacy.pdiparams  pir.json pir.pdiparams
    in_<i>.npy                       the inputs, in feed order
    legacy_out_<i>.npy pir_out_<i>.npy   Paddle Inference's outputs, in fetch order
    case.json                        names, comparison kind, output names per format

Paddle reads FLAGS_enable_pir_api when it is imported, so each format is written by a child
process of this script (`--format legacy|pir`). Run once, by hand, never in CI (CI has no Paddle;
the Rust tests read the committed files):

    python3 -m venv /work/venvs/paddle
    /work/venvs/paddle/bin/pip install paddlepaddle==3.3.1 paddle2onnx==2.1.0 onnxruntime==1.32.0 numpy
    /work/venvs/paddle/bin/python scripts/reference/paddle_programs.py [--only SUBSTRING] [--suite ops|models|det]
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.join(ROOT, "crates", "modelseal-paddle", "tests", "data")
sys.path.insert(0, HERE)


def seed_of(name):
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def child(fmt, suites, only):
    os.environ["FLAGS_enable_pir_api"] = "1" if fmt == "pir" else "0"
    import numpy as np
    import paddle
    from paddle import inference

    import ref_cases

    if fmt == "legacy":
        import ref_compat
        ref_compat.patch()
    paddle.set_device("cpu")
    written = 0
    failed = []
    for case in ref_cases.all_cases(suites):
        if only and only not in case.path:
            continue
        if fmt not in case.formats:
            continue
        try:
            one_case(case, fmt, np, paddle, inference)
            written += 1
        except Exception as e:  # report every failing case, then fail
            failed.append(case.path)
            print(f"FAILED {case.path} ({fmt}): {type(e).__name__}: {str(e)[-2000:]}", file=sys.stderr)
            if os.environ.get("REF_TRACE"):
                import traceback
                traceback.print_exc()
    print(f"{fmt}: {written} cases written", file=sys.stderr)
    if failed:
        raise SystemExit(f"{fmt}: {len(failed)} cases failed: {failed}")


def one_case(case, fmt, np, paddle, inference):
    out_dir = os.path.join(DATA, case.path)
    os.makedirs(out_dir, exist_ok=True)
    shared = os.path.join(out_dir, "params.pdiparams")
    if os.path.exists(shared):  # undo the sharing; dedupe() redoes it
        other = "pir" if fmt == "legacy" else "legacy"
        shutil.move(shared, os.path.join(out_dir, f"{other}.pdiparams"))
    rng = np.random.default_rng(seed_of(case.path))
    inputs = case.make_inputs(rng)
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "inference")
        paddle.seed(seed_of(case.path) % (2**31))
        np.random.seed(seed_of(case.path) % (2**31))
        case.save(prefix, fmt)
        model_file = prefix + (".json" if fmt == "pir" else ".pdmodel")
        if not os.path.exists(model_file):
            raise SystemExit(f"{case.path}: {model_file} was not written ({fmt})")
        ext = "json" if fmt == "pir" else "pdmodel"
        params = prefix + ".pdiparams"
        if not case.fetched:
            shutil.copy(model_file, os.path.join(out_dir, f"{fmt}.{ext}"))
            if os.path.exists(params):
                shutil.copy(params, os.path.join(out_dir, f"{fmt}.pdiparams"))
            else:  # a program without parameters: an empty parameters file
                open(os.path.join(out_dir, f"{fmt}.pdiparams"), "wb").close()
        config = inference.Config(model_file, params if os.path.exists(params) else "")
        config.disable_gpu()
        config.disable_mkldnn()
        # The program's own semantics and fetch names: no fusion passes (they rename outputs).
        config.switch_ir_optim(False)
        config.set_cpu_math_library_num_threads(1)
        pred = inference.create_predictor(config)
        names = pred.get_input_names()
        if len(names) != len(inputs):
            raise SystemExit(f"{case.path}: {len(names)} feeds, {len(inputs)} inputs")
        for n, x in zip(names, inputs):
            h = pred.get_input_handle(n)
            h.reshape(x.shape)
            h.copy_from_cpu(x)
        pred.run()
        outs = []
        for i, n in enumerate(pred.get_output_names()):
            y = pred.get_output_handle(n).copy_to_cpu()
            np.save(os.path.join(out_dir, f"{fmt}_out_{i}.npy"), y)
            outs.append({"name": n, "dtype": str(y.dtype), "shape": list(y.shape)})
    for i, x in enumerate(inputs):
        np.save(os.path.join(out_dir, f"in_{i}.npy"), x)
    meta_path = os.path.join(out_dir, "case.json")
    meta = {}
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
    meta.update(case.meta())
    meta["inputs"] = [{"name": n, "dtype": str(x.dtype), "shape": list(x.shape)}
                      for n, x in zip(names, inputs)]
    meta.setdefault("outputs", {})[fmt] = outs
    meta["formats"] = sorted(set(meta.get("formats", [])) | {fmt})
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")


def dedupe():
    """Both formats' parameter files identical: keep one, `params.pdiparams`."""
    for root, _, files in os.walk(DATA):
        if "legacy.pdiparams" in files and "pir.pdiparams" in files:
            a, b = os.path.join(root, "legacy.pdiparams"), os.path.join(root, "pir.pdiparams")
            with open(a, "rb") as fa, open(b, "rb") as fb:
                same = fa.read() == fb.read()
            if same:
                shutil.move(a, os.path.join(root, "params.pdiparams"))
                os.remove(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--format", choices=["legacy", "pir"])
    ap.add_argument("--suite", action="append", help="ops, models, real, det (default: all)")
    ap.add_argument("--only", default="", help="only cases whose path contains this")
    a = ap.parse_args()
    suites = a.suite or ["ops", "models", "real", "det"]
    if a.format:
        child(a.format, suites, a.only)
        return
    for fmt in ("legacy", "pir"):
        cmd = [sys.executable, os.path.abspath(__file__), "--format", fmt, "--only", a.only]
        for s in suites:
            cmd += ["--suite", s]
        subprocess.run(cmd)
    dedupe()


if __name__ == "__main__":
    main()
