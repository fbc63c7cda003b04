#!/usr/bin/env python3
"""Benchmark of the Python package: images/s of `modelseal.Predictor.predict` over the image list,
next to the `modelseal` CLI (`classify|detect|segment --json`, a release build) on the same sealed
model and list, and to the Python OpenCV + onnxruntime pipeline of scripts/bench/python_pipeline.py
on the same model, all with the same intra-op thread count and the same ONNX Runtime library.

Run it with the interpreter of an environment where the package is installed from a release build
(`pip install crates/modelseal-python`, onnxruntime==1.32.0, opencv-python-headless) after
`cargo build --release -p modelseal-cli` and scripts/fetch_models.sh:

    python scripts/bench/python_predict.py [--models cls,layout,det_db] [--threads 1] [--runs 3] [--repeat 1]

Each rate is the best of `--runs` runs over the list. The CLI's rate is given as measured (process
start and model opening included) and as its steady rate, (N - 1) / (t(N) - t(1)), which leaves
them out; the ratios are taken against the steady rate. Prints one line per model.
"""

import argparse
import importlib.util
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import modelseal

ROOT = pathlib.Path(__file__).resolve().parents[2]
TASKS = {"cls": "classify", "layout": "detect", "det_db": "segment"}


def ort_library():
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None:
        sys.exit("python_predict: the onnxruntime package is required (the same library for every side)")
    capi = pathlib.Path(list(spec.submodule_search_locations)[0]) / "capi"
    return str(sorted(capi.glob("libonnxruntime.so*"))[-1])


def best(runs, f):
    return min(f() for _ in range(runs))


def cli_seconds(cli, task, model_dir, key_file, paths, threads, workdir):
    lst = pathlib.Path(workdir) / f"list-{len(paths)}.txt"
    lst.write_text("".join(p + "\n" for p in paths))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELSEAL_")}
    env["ORT_DYLIB_PATH"] = ort_library()
    t0 = time.perf_counter()
    r = subprocess.run([cli, task, "--model_dir", str(model_dir), "--key-file", str(key_file),
                        "--image_list", str(lst), "--json", "--thread_num", str(threads)],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"python_predict: the CLI failed: {r.stderr}")
    return dt


def pipeline_rate(kind, model_dir, list_file, threads):
    r = subprocess.run([sys.executable, str(ROOT / "scripts/bench/python_pipeline.py"), kind,
                        str(model_dir), str(list_file), str(threads)],
                       capture_output=True, text=True, env=dict(os.environ, ORT_DYLIB_PATH=ort_library()))
    for word in r.stdout.split():
        if word.startswith("images_per_s="):
            return float(word.split("=", 1)[1])
    sys.exit(f"python_predict: python_pipeline.py failed: {r.stderr}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="cls,layout,det_db")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "1")))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="go through the list this many times per run")
    ap.add_argument("--list", default=os.environ.get("BENCH_LIST", str(ROOT / ".models/bench/list.txt")))
    ap.add_argument("--cli", default=str(ROOT / "target/release/modelseal"))
    args = ap.parse_args()
    models = pathlib.Path(os.environ.get("MODELSEAL_MODELS", ROOT / ".models"))
    paths = [line.strip() for line in open(args.list) if line.strip()] * args.repeat
    if not os.path.isfile(args.cli):
        sys.exit(f"python_predict: {args.cli} missing: cargo build --release -p modelseal-cli")
    print(f"python_predict: modelseal {modelseal.__version__}, {len(paths)} images, threads={args.threads}, "
          f"batch_size={args.batch_size}, best of {args.runs}, ONNX Runtime {ort_library()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        key = modelseal.generate_key()
        key_file = pathlib.Path(tmp) / "model.key"
        key_file.write_text(key)
        for name in args.models.split(","):
            sealed = pathlib.Path(tmp) / name
            modelseal.seal_dir(models / name, sealed, key)
            p = modelseal.Predictor(sealed, key_file=key_file, threads=args.threads)
            assert p.backend == "onnxruntime", p.backend
            p.predict(paths[0])

            def run_predict():
                t0 = time.perf_counter()
                out = p.predict(paths, batch_size=args.batch_size)
                dt = time.perf_counter() - t0
                assert len(out) == len(paths) and all(r["error"] is None for r in out)
                return dt

            py_rate = len(paths) / best(args.runs, run_predict)
            cli_n = best(args.runs, lambda: cli_seconds(args.cli, TASKS[name], sealed, key_file, paths,
                                                          args.threads, tmp))
            cli_1 = best(args.runs, lambda: cli_seconds(args.cli, TASKS[name], sealed, key_file, paths[:1],
                                                          args.threads, tmp))
            cli_rate = len(paths) / cli_n
            cli_steady = (len(paths) - 1) / (cli_n - cli_1)
            repeated = pathlib.Path(tmp) / "pipeline-list.txt"
            repeated.write_text("".join(p + "\n" for p in paths))
            pipe = max(pipeline_rate(name, models / name, repeated, args.threads) for _ in range(args.runs))
            print(f"{name}: python_predict={py_rate:.1f}/s cli={cli_rate:.1f}/s cli_steady={cli_steady:.1f}/s "
                  f"python_pipeline={pipe:.1f}/s predict/cli_steady={py_rate / cli_steady:.2f}x "
                  f"predict/pipeline={py_rate / pipe:.2f}x", flush=True)


if __name__ == "__main__":
    main()
