"""Start-up refusals with their exit codes, the bounded queue (503 and gRPC UNAVAILABLE), and
SIGTERM under load: every request the server accepted is answered and the process exits 0
within 30 s."""

import base64
import concurrent.futures
import shutil
import subprocess
import threading
import time

import numpy as np
import requests
import tritonclient.grpc as tgrpc
import tritonclient.http as thttp
from tritonclient.utils import InferenceServerException


def run_serve(binary, env, args, timeout=60):
    return subprocess.run([binary, "serve", "--http-port", "0", "--grpc-port", "0", *args],
                          env=env, capture_output=True, text=True, timeout=timeout)


def test_start_up_refusals_carry_the_exit_codes(binary, env, sealed, key_file, models_dir, work, tmp_path):
    other = tmp_path / "other.key"
    subprocess.run([binary, "keygen", "--out", str(other)], check=True, env=env)
    # Wrong key: 4.
    r = run_serve(binary, env, ["--model", f"cls={sealed['cls']}", "--key-file", str(other)])
    assert r.returncode == 4, r.stderr
    assert "wrong key" in r.stderr
    # Tampered member: 5.
    bad = tmp_path / "tampered"
    shutil.copytree(sealed["cls"], bad)
    member = max((p for p in bad.iterdir() if p.name != "modelseal.manifest"), key=lambda p: p.stat().st_size)
    blob = bytearray(member.read_bytes())
    blob[len(blob) // 2] ^= 0x40
    member.write_bytes(bytes(blob))
    r = run_serve(binary, env, ["--model", f"cls={bad}", "--key-file", str(key_file)])
    assert r.returncode == 5, r.stderr
    # A plain directory with a key: 6.
    r = run_serve(binary, env, ["--model", f"cls={models_dir / 'cls'}", "--key-file", str(key_file)])
    assert r.returncode == 6, r.stderr
    assert "not sealed" in r.stderr
    # A sealed directory without a key, a bad key string, a malformed --seal-id: 2.
    r = run_serve(binary, env, ["--model", f"cls={sealed['cls']}"])
    assert r.returncode == 2, r.stderr
    e = dict(env)
    e["MODELSEAL_KEY"] = "not a key"
    r = run_serve(binary, e, ["--model", f"cls={sealed['cls']}"])
    assert r.returncode == 2, r.stderr
    r = run_serve(binary, env, ["--model", f"cls={sealed['cls']}", "--key-file", str(key_file), "--seal-id", "00"])
    assert r.returncode == 2, r.stderr
    # Another sealing's id pinned: 5 (integrity), naming the mismatch; MODELSEAL_SEAL_ID the same.
    r = run_serve(binary, env, ["--model", f"cls={sealed['cls']}", "--key-file", str(key_file), "--seal-id", "00" * 16])
    assert r.returncode == 5 and "seal" in r.stderr.lower(), r.stderr
    e = dict(env)
    e["MODELSEAL_SEAL_ID"] = "00" * 16
    r = run_serve(binary, e, ["--model", f"cls={sealed['cls']}", "--key-file", str(key_file)])
    assert r.returncode == 5, r.stderr
    # Missing directory: 3. A good model and a bad one: nothing starts.
    r = run_serve(binary, env, ["--model", "cls=/nonexistent/dir", "--key-file", str(key_file)])
    assert r.returncode == 3, r.stderr
    r = run_serve(binary, env, ["--model", f"cls={sealed['cls']}", "--model", f"bad={bad}", "--key-file", str(key_file)])
    assert r.returncode == 5, r.stderr
    assert "listening" not in r.stderr
    # The key never appears in the logs.
    key_text = key_file.read_text().strip()
    assert key_text not in r.stderr


def test_the_key_comes_from_MODELSEAL_KEY_FILE_and_never_reaches_the_log(start_server, sealed, key_file):
    s = start_server(["--model", f"cls={sealed['cls']}"], {"MODELSEAL_KEY_FILE": str(key_file)})
    assert requests.get(f"{s.url}/v2/health/ready", timeout=10).json() == {"ready": True}
    assert s.stop() == 0
    key_text = key_file.read_text().strip()
    assert all(key_text not in line for line in s.lines)
    assert s.event("model opened and verified")["sealed"] is True


def test_a_full_queue_answers_503_and_recovers(start_server, sealed, key_file, images):
    s = start_server(["--model", f"seg={sealed['det_db']}", "--key-file", str(key_file),
                      "--max-queue", "1", "--max-batch-size", "1"])
    img = images["page.png"]

    def one(_):
        c = thttp.InferenceServerClient(s.http)
        i = thttp.InferInput("image", [1], "BYTES")
        i.set_data_from_numpy(np.array([img], dtype=np.object_))
        try:
            c.infer("seg", [i])
            return 200
        except Exception as e:  # noqa: BLE001 - the status is what is checked
            return int(e.status()) if hasattr(e, "status") and e.status() else str(e)

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(one, range(16)))
    assert set(codes) <= {200, 503}, codes
    assert 503 in codes and 200 in codes, codes
    assert one(0) == 200
    text = requests.get(f"{s.url}/metrics", timeout=10).text
    assert 'modelseal_requests_total{model="seg",protocol="rest",outcome="unavailable"}' in text
    assert s.stop() == 0


def test_a_full_queue_answers_grpc_unavailable_and_recovers(start_server, sealed, key_file, images):
    s = start_server(["--model", f"seg={sealed['det_db']}", "--key-file", str(key_file),
                      "--max-queue", "1", "--max-batch-size", "1"])
    img = images["page.png"]

    def one(_):
        c = tgrpc.InferenceServerClient(s.grpc)
        i = tgrpc.InferInput("image", [1], "BYTES")
        i.set_data_from_numpy(np.array([img], dtype=np.object_))
        try:
            c.infer("seg", [i])
            return "OK"
        except InferenceServerException as e:
            return e.status()

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(one, range(16)))
    assert set(codes) <= {"OK", "StatusCode.UNAVAILABLE"}, codes
    assert "StatusCode.UNAVAILABLE" in codes and "OK" in codes, codes
    assert one(0) == "OK"
    text = requests.get(f"{s.url}/metrics", timeout=10).text
    assert 'modelseal_requests_total{model="seg",protocol="grpc",outcome="unavailable"}' in text
    assert s.stop() == 0


def test_sigterm_under_load_answers_every_accepted_request(start_server, sealed, key_file, images):
    s = start_server(["--model", f"cls={sealed['cls']}", "--model", f"seg={sealed['det_db']}",
                      "--key-file", str(key_file)])
    data = [images["text.png"], images["page.png"]]
    body = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                        "data": [base64.b64encode(data[1]).decode()]}]}
    stop = threading.Event()
    lock = threading.Lock()
    outcome = {"ok": 0, "unavailable": 0, "other_status": [], "refused": 0, "broken": [], "ok_after_term": 0}
    term_sent = [float("inf")]

    def client(i):
        sess = requests.Session()
        model = "seg" if i % 2 else "cls"
        deadline = time.time() + 60
        while not stop.is_set() and time.time() < deadline:
            try:
                r = sess.post(f"{s.url}/v2/models/{model}/infer", json=body, timeout=60)
            except requests.ConnectionError as e:
                with lock:
                    # Refused or closed before the request was read: the server never accepted it.
                    if "Connection refused" in str(e) or "RemoteDisconnected" in str(e) or "reset" in str(e):
                        outcome["refused"] += 1
                    else:
                        outcome["broken"].append(str(e))
                time.sleep(0.05)
                continue
            with lock:
                if r.status_code == 200:
                    outcome["ok"] += 1
                    if time.time() > term_sent[0]:
                        outcome["ok_after_term"] += 1
                elif r.status_code == 503:
                    outcome["unavailable"] += 1
                else:
                    outcome["other_status"].append((r.status_code, r.text))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(3)
    t0 = time.time()
    term_sent[0] = t0
    rc = s.stop(timeout=30)
    elapsed = time.time() - t0
    stop.set()
    for t in threads:
        t.join(70)
    print("sigterm under load:", outcome, s.event("stopped"))
    assert rc == 0, "\n".join(s.lines[-20:])
    assert elapsed < 30
    ev = s.event("stopped")
    assert ev is not None, "\n".join(s.lines[-20:])
    assert outcome["other_status"] == [] and outcome["broken"] == [], outcome
    # Every request the server accepted was answered, and every answer reached its client.
    assert ev["accepted"] == ev["answered"], ev
    assert ev["succeeded"] == outcome["ok"], (ev, outcome)
    assert ev["answered"] == outcome["ok"] + outcome["unavailable"], (ev, outcome)
    # Requests in flight when SIGTERM came were finished and answered.
    assert outcome["ok_after_term"] > 0, outcome
