"""Fixtures of the Python package's tests: the fetched real models (required under CI=true), the
`modelseal` binary whose --json output results are compared with, keys, and sealed copies of the
models (v2 and PaddleX v1) made once per session in a temporary directory."""

import importlib.util
import json
import os
import pathlib
import shutil
import subprocess

import pytest

import modelseal

ROOT = pathlib.Path(__file__).resolve().parents[3]
IN_CI = os.environ.get("CI") == "true"


def need(ok, what):
    """Skips (outside CI) or fails (under CI=true) when `what` is missing."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def models():
    m = pathlib.Path(os.environ.get("MODELSEAL_MODELS", ROOT / ".models"))
    need((m / "cls" / "model.onnx").is_file(), f"the fetched models under {m} (scripts/fetch_models.sh)")
    return m


@pytest.fixture(scope="session")
def images(models):
    """The real test images, PNG first (lossless: numpy and path inputs decode to the same pixels)."""
    names = ["text.png", "page.png", "astronaut.png", "chelsea.png", "coffee.png", "camera.png",
             "logo.png", "motorcycle_left.png", "china.jpg", "flower.jpg", "dog.jpg", "person.jpg",
             "horses.jpg", "giraffe.jpg", "eagle.jpg"]
    paths = [str(models / "images" / n) for n in names]
    need(all(os.path.isfile(p) for p in paths), "the fetched images")
    return paths


@pytest.fixture(scope="session")
def ort_library():
    """The libonnxruntime of the onnxruntime package installed beside modelseal."""
    spec = importlib.util.find_spec("onnxruntime")
    need(spec is not None, "the onnxruntime package")
    capi = pathlib.Path(list(spec.submodule_search_locations)[0]) / "capi"
    libs = sorted(capi.glob("libonnxruntime.so*"))
    need(bool(libs), f"libonnxruntime in {capi}")
    return str(libs[-1])


@pytest.fixture(scope="session")
def cli(ort_library):
    """Runs the `modelseal` binary with the same ONNX Runtime library and no key in its environment."""
    binary = os.environ.get("MODELSEAL_BIN") or shutil.which("modelseal")
    need(binary is not None and os.path.isfile(binary), "the modelseal binary (MODELSEAL_BIN)")

    def run(*args, check=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODELSEAL_")}
        env["ORT_DYLIB_PATH"] = ort_library
        r = subprocess.run([binary, *map(str, args)], env=env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=600)
        if check and r.returncode != 0:
            raise AssertionError(f"modelseal {args} exited {r.returncode}: {r.stderr}")
        return r

    return run


def cli_json(cli, task, model_dir, paths, tmp_path, *extra):
    """The CLI's --json objects for `paths` (an image list file), in order."""
    lst = tmp_path / f"list-{len(paths)}.txt"
    lst.write_text("".join(p + "\n" for p in paths))
    r = cli(task, "--model_dir", model_dir, "--image_list", lst, "--json", *extra)
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="session")
def key():
    return modelseal.generate_key()


@pytest.fixture(scope="session")
def key_file(tmp_path_factory, key):
    p = tmp_path_factory.mktemp("keys") / "model.key"
    p.write_text(key + "\n")
    os.chmod(p, 0o600)
    return p


@pytest.fixture(scope="session")
def sealed(tmp_path_factory, models, key):
    """Sealed v2 copies of the real models: name -> directory."""
    out = tmp_path_factory.mktemp("sealed")
    dirs = {}
    for name in ["cls", "layout", "det_db"]:
        dirs[name] = out / name
        modelseal.seal_dir(models / name, dirs[name], key)
    return dirs


@pytest.fixture(scope="session")
def v1_cls(tmp_path_factory, models, key):
    """A PaddleX v1 sealing of the classifier, with a plain extra file as PaddleX's tool leaves it."""
    src = tmp_path_factory.mktemp("v1src") / "cls"
    shutil.copytree(models / "cls", src)
    (src / ".success").write_text("")
    out = tmp_path_factory.mktemp("v1") / "cls"
    with pytest.warns(UserWarning, match="nonce"):
        modelseal.seal_dir(src, out, key, format="paddlex-v1")
    return out


@pytest.fixture
def copy_of(tmp_path):
    """A fresh copy of a (sealed) directory, to tamper with."""

    made = []

    def copy(src):
        dst = tmp_path / f"copy{len(made)}-{pathlib.Path(src).name}"
        shutil.copytree(src, dst)
        made.append(dst)
        return dst

    return copy


def flip_byte(path, offset_from_end=20):
    """Flips one byte of a file, `offset_from_end` bytes before its end (inside the payload)."""
    data = bytearray(pathlib.Path(path).read_bytes())
    data[len(data) - offset_from_end] ^= 0x01
    pathlib.Path(path).write_bytes(bytes(data))
