"""Fixtures of the `modelseal serve` tests: the binary, a key, the real models sealed with it,
and servers started on 127.0.0.1 with ports picked by the system (read back from the log).

Environment: MODELSEAL_BIN (the `modelseal` binary), MODELSEAL_MODELS (default <repo>/.models),
ORT_DYLIB_PATH (default: the onnxruntime package of this interpreter). Under CI=true a missing
piece fails the run instead of skipping it.
"""

import glob
import json
import os
import pathlib
import signal
import subprocess
import threading
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[4]
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(cond, what):
    if cond:
        return
    if CI:
        pytest.fail(f"missing under CI: {what}")
    pytest.skip(f"missing: {what}")


def ort_library():
    if os.environ.get("ORT_DYLIB_PATH"):
        return os.environ["ORT_DYLIB_PATH"]
    import onnxruntime

    capi = pathlib.Path(onnxruntime.__file__).parent / "capi"
    libs = sorted(glob.glob(str(capi / "libonnxruntime.so*")))
    return libs[-1] if libs else None


@pytest.fixture(scope="session")
def binary():
    b = os.environ.get("MODELSEAL_BIN", str(REPO / "target" / "debug" / "modelseal"))
    need(os.path.isfile(b), f"the modelseal binary ({b}); build it with cargo build -p modelseal-cli")
    return b


@pytest.fixture(scope="session")
def models_dir():
    d = pathlib.Path(os.environ.get("MODELSEAL_MODELS", REPO / ".models"))
    for m in ("cls", "layout", "det_db", "images"):
        need((d / m).is_dir(), f"{d / m} (run scripts/fetch_models.sh)")
    return d


@pytest.fixture(scope="session")
def env():
    lib = ort_library()
    need(lib is not None, "the ONNX Runtime library (pip install onnxruntime==1.32.0)")
    e = dict(os.environ)
    e["ORT_DYLIB_PATH"] = lib
    e.pop("MODELSEAL_KEY", None)
    e.pop("MODELSEAL_KEY_FILE", None)
    return e


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("serve")


@pytest.fixture(scope="session")
def key_file(binary, work, env):
    k = work / "key"
    subprocess.run([binary, "keygen", "--out", str(k)], check=True, env=env)
    return k


@pytest.fixture(scope="session")
def sealed(binary, models_dir, work, key_file, env):
    """The three real models sealed with the test key: {name: sealed dir}."""
    out = {}
    for name in ("cls", "layout", "det_db"):
        dst = work / f"sealed_{name}"
        if not dst.exists():
            subprocess.run(
                [binary, "encrypt", "--model-dir", str(models_dir / name), "--save-dir", str(dst),
                 "--key-file", str(key_file)],
                check=True, env=env, capture_output=True,
            )
        out[name] = dst
    return out


@pytest.fixture(scope="session")
def images(models_dir):
    """Real test images: {file name: bytes}."""
    d = models_dir / "images"
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.suffix in (".jpg", ".png")}


class Server:
    """A `modelseal serve` process on 127.0.0.1 with system-chosen ports."""

    def __init__(self, binary, args, env, timeout=120):
        cmd = [binary, "serve", "--host", "127.0.0.1", "--http-port", "0", "--grpc-port", "0",
               "--log-format", "json"] + args
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.events = []
        self.lines = []
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.time() + timeout
        while not self._listening.wait(0.1):
            if self.proc.poll() is not None:
                self._reader.join(5)
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n" + "\n".join(self.lines))
            if time.time() > deadline:
                self.proc.kill()
                raise RuntimeError("server did not start:\n" + "\n".join(self.lines))
        ev = self.event("listening")
        self.http_port = int(ev["http_port"])
        self.grpc_port = int(ev["grpc_port"])
        self.http = f"127.0.0.1:{self.http_port}"
        self.grpc = f"127.0.0.1:{self.grpc_port}"
        self.url = f"http://{self.http}"

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            self.events.append(ev)
            if ev.get("message") == "listening":
                self._listening.set()

    def event(self, message):
        for ev in self.events:
            if ev.get("message") == message:
                return ev
        return None

    def stop(self, timeout=30):
        """SIGTERM, then the exit code (killed and failed after `timeout` seconds)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        self._reader.join(5)
        return rc


@pytest.fixture(scope="session")
def start_server(binary, env):
    started = []

    def start(args, extra_env=None):
        e = dict(env)
        e.update(extra_env or {})
        s = Server(binary, args, e)
        started.append(s)
        return s

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


@pytest.fixture(scope="session")
def server(start_server, sealed, key_file):
    """The three sealed models as cls, layout and seg; bodies limited to 16 MiB."""
    return start_server([
        "--model", f"cls={sealed['cls']}",
        "--model", f"layout={sealed['layout']}",
        "--model", f"seg={sealed['det_db']}",
        "--key-file", str(key_file),
        "--max-body-bytes", str(16 << 20),
        "--max-batch-size", "8",
    ])
