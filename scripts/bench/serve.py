#!/usr/bin/env python3
"""Load benchmark of `modelseal serve` next to KServe's own Python model server (kserve 0.21 with
onnxruntime and the same pre/post-processing, scripts/bench/kserve_peer.py), side by side in one
run: the same model, the same images, the same client (closed-loop HTTP/1.1 keep-alive connections
sending JSON requests of one base64 image), at each concurrency. Also times the CLI's own batch
pipeline (`modelseal classify|detect --batch_size 32`) on the same images for reference, without
its start-up: two image lists of different lengths, the rate from the difference (see cli_rate).

Everything runs on 127.0.0.1; each point runs for --seconds seconds, the CLI reference about
--cli-seconds beyond one batch (bounded).

Usage: scripts/bench/serve.py --binary target/release/modelseal [--kind cls|layout]
           [--concurrency 1,8,32] [--seconds 8] [--cli-seconds S] [--models .models]
Prints a Markdown table: images/s, p50 and p99 latency per server and concurrency.
"""
import argparse
import asyncio
import base64
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, model, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/v2/models/{model}/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.2)
    raise RuntimeError("server not ready in time")


def request_bytes(model, image):
    """One HTTP/1.1 request: JSON tensors, the image as base64 text. (KServe 0.21's Python server
    turns binary BYTES inputs back into JSON strings and fails on non-UTF-8 image bytes, so the
    common form of both servers is JSON with base64 images.)"""
    body = json.dumps({"id": "bench", "inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                                   "data": [base64.b64encode(image).decode()]}]}).encode()
    head = (f"POST /v2/models/{model}/infer HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return head + body


async def read_response(reader):
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
        if k.strip().lower() == "transfer-encoding" and "chunked" in v.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(length)
    return status


async def load(port, reqs, concurrency, seconds):
    """Closed loop: `concurrency` connections, each sending its next request when answered."""
    lat = []
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def conn(i):
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        k = i
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            writer.write(reqs[k % len(reqs)])
            await writer.drain()
            status = await read_response(reader)
            if status == 200:
                lat.append(time.perf_counter() - t0)
            else:
                errors += 1
            k += 1
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(conn(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - t0
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")  # noqa: E731
    return {"n": len(lat), "errors": errors, "rate": len(lat) / elapsed, "p50": pct(0.50), "p99": pct(0.99)}


CLI_BATCH = 32


def cli_rate(cmd, images, tmp, env, budget):
    """Images/s of the CLI's batch pipeline without its start-up (process start, key, opening
    and verifying the model, building the session) and exit: two runs over lists of N1 and N2
    images, both multiples of the batch size, and (N2 - N1) / (T2 - T1). N1 is one batch; N2 is
    sized from the first run (whose time per image, start-up included, is an upper bound) so that
    the second run's extra images take about `budget` seconds, and capped: the reference is
    bounded in time."""

    def run(n):
        lst = tmp / f"cli_list_{n}.txt"
        lst.write_text("\n".join(str(images[i % len(images)]) for i in range(n)) + "\n")
        t0 = time.perf_counter()
        subprocess.run([*cmd, "--image_list", str(lst)], check=True, env=env, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0

    n1 = CLI_BATCH
    t1 = run(n1)
    extra = int(budget * n1 / t1) // CLI_BATCH * CLI_BATCH
    n2 = n1 + min(max(extra, CLI_BATCH), 64 * CLI_BATCH)
    t2 = run(n2)
    if t2 <= t1:
        print(f"# CLI: {n2} images took no longer than {n1} ({t2:.2f} s vs {t1:.2f} s): noise dominates; "
              "raise --cli-seconds", file=sys.stderr)
        rate = float("nan")
    else:
        rate = (n2 - n1) / (t2 - t1)
    print(f"# CLI: {n1} images in {t1:.2f} s, {n2} in {t2:.2f} s: {rate:.1f} images/s without start-up",
          file=sys.stderr, flush=True)
    return {"rate": rate, "n1": n1, "t1": t1, "n2": n2, "t2": t2}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(REPO / "target" / "release" / "modelseal"))
    ap.add_argument("--kind", default="cls", choices=["cls", "layout"])
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--models", default=str(REPO / ".models"))
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads of both servers (0: default)")
    ap.add_argument("--cli-seconds", type=float, default=0.0,
                    help="about how long the CLI reference's longer run goes beyond its shorter one "
                         "(0: twice --seconds)")
    a = ap.parse_args()
    models = pathlib.Path(a.models)
    model_dir = models / a.kind
    names = ["astronaut.png", "chelsea.png", "coffee.png", "page.png", "text.png", "camera.png",
             "china.jpg", "flower.jpg", "dog.jpg", "person.jpg", "horses.jpg", "eagle.jpg"]
    images = [(models / "images" / n).read_bytes() for n in names]
    conc = [int(c) for c in a.concurrency.split(",")]
    env = dict(os.environ)
    env.pop("MODELSEAL_KEY", None)
    if "ORT_DYLIB_PATH" not in env:
        import onnxruntime
        capi = pathlib.Path(onnxruntime.__file__).parent / "capi"
        env["ORT_DYLIB_PATH"] = str(sorted(capi.glob("libonnxruntime.so*"))[-1])
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="serve-bench-"))
    key = tmp / "key"
    subprocess.run([a.binary, "keygen", "--out", str(key)], check=True, env=env)
    sealed = tmp / "sealed"
    subprocess.run([a.binary, "encrypt", "--model-dir", str(model_dir), "--save-dir", str(sealed),
                    "--key-file", str(key)], check=True, env=env, capture_output=True)
    threads = ["--thread_num", str(a.threads)] if a.threads else []

    # The CLI's own batch pipeline on the same images (batch 32), for reference, start-up excluded.
    task = "classify" if a.kind == "cls" else "detect"
    cli_cmd = [a.binary, task, "--model_dir", str(sealed), "--key-file", str(key),
               "--batch_size", str(CLI_BATCH), "--json", "--save_dir", str(tmp / "cli_out"), *threads]
    cli = cli_rate(cli_cmd, [models / "images" / n for n in names], tmp, env,
                   a.cli_seconds if a.cli_seconds > 0 else 2 * a.seconds)
    cli_rate_value = cli["rate"]

    servers = []
    mport, mgrpc, kport = free_port(), free_port(), free_port()
    ms = subprocess.Popen([a.binary, "serve", "--model", f"{a.kind}={sealed}", "--key-file", str(key),
                           "--http-port", str(mport), "--grpc-port", str(mgrpc), *threads],
                          env=env, stderr=subprocess.DEVNULL)
    servers.append(ms)
    ks = subprocess.Popen([sys.executable, str(HERE / "kserve_peer.py"), "--kind", a.kind, "--model-dir", str(model_dir),
                           "--name", a.kind, "--http-port", str(kport), "--threads", str(a.threads)],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    servers.append(ks)
    try:
        wait_ready(f"http://127.0.0.1:{mport}", a.kind, ms)
        wait_ready(f"http://127.0.0.1:{kport}", a.kind, ks)
        reqs = [request_bytes(a.kind, im) for im in images]
        rows = []
        for c in conc:
            for label, port in (("modelseal serve", mport), ("KServe 0.21 (Python)", kport)):
                asyncio.run(load(port, reqs, c, min(2.0, a.seconds / 4)))  # warm-up
                r = asyncio.run(load(port, reqs, c, a.seconds))
                rows.append((c, label, r))
                print(f"# c={c} {label}: {r}", file=sys.stderr, flush=True)
    finally:
        for p in servers:
            p.send_signal(signal.SIGTERM)
        for p in servers:
            try:
                p.wait(35)
            except subprocess.TimeoutExpired:
                p.kill()
    print(f"model: {a.kind}, {len(images)} images cycled, one base64 image per JSON request, "
          f"{a.seconds:.0f} s per point, {os.cpu_count()} cores shared by the servers and the client")
    print(f"CLI batch pipeline (`modelseal {task} --batch_size {CLI_BATCH}`): {cli_rate_value:.1f} images/s, "
          f"start-up excluded ({cli['n2']} - {cli['n1']} images in {cli['t2']:.2f} - {cli['t1']:.2f} s)\n")
    print("| concurrency | server | images/s | p50 ms | p99 ms | errors |")
    print("|---:|---|---:|---:|---:|---:|")
    for c, label, r in rows:
        print(f"| {c} | {label} | {r['rate']:.1f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} |")
    by = {(c, l): r for c, l, r in rows}
    print()
    for c in conc:
        m, k = by[(c, "modelseal serve")], by[(c, "KServe 0.21 (Python)")]
        print(f"c={c}: modelseal/KServe throughput x{m['rate'] / k['rate']:.2f}, p99 {m['p99']:.1f} vs {k['p99']:.1f} ms"
              + (f"; modelseal/CLI batch x{m['rate'] / cli_rate_value:.2f}" if c == max(conc) else ""))


if __name__ == "__main__":
    main()
