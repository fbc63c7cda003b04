"""Predictor: the refusals first (open policy, arguments, unreadable images), then results checked
against the CLI's --json output on the real models, numpy against path inputs, threads and the GIL."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

import modelseal
from conftest import cli_json, flip_byte

THREADS = 2
TASKS = {"cls": ("classify", "classification", 15), "layout": ("detect", "detection", 5),
         "det_db": ("segment", "segmentation", 3)}


@pytest.fixture(scope="module")
def predictors(sealed, key):
    return {name: modelseal.Predictor(sealed[name], key, threads=THREADS) for name in TASKS}


def without_image(r):
    return {k: v for k, v in r.items() if k not in ("image", "label_map")}


def same(a, b):
    """Whether two lists of results are equal, label maps compared as arrays."""
    return len(a) == len(b) and all(
        {k: v for k, v in x.items() if k != "label_map"} == {k: v for k, v in y.items() if k != "label_map"}
        and ("label_map" in x) == ("label_map" in y)
        and ("label_map" not in x or np.array_equal(x["label_map"], y["label_map"]))
        for x, y in zip(a, b))


def test_the_open_policy_refuses(models, sealed, v1_cls, key, copy_of, tmp_path):
    with pytest.raises(modelseal.NotSealedError) as e:
        modelseal.Predictor(models / "cls", key)
    assert e.value.kind == "unsupported"
    with pytest.raises(modelseal.WrongKeyError):
        modelseal.Predictor(sealed["cls"], modelseal.generate_key())
    tampered = copy_of(sealed["cls"])
    flip_byte(tampered / "model.onnx.sealed")
    with pytest.raises(modelseal.IntegrityError) as e:
        modelseal.Predictor(tampered, key)
    assert e.value.kind == "integrity" and "model.onnx" in str(e.value)
    with pytest.raises(modelseal.UnsupportedError) as e:
        modelseal.Predictor(v1_cls, key)
    assert e.value.name == "paddlex_v1_not_allowed"
    with pytest.raises(modelseal.Error) as e:
        modelseal.Predictor(sealed["cls"])
    assert e.value.name == "key_required"
    with pytest.raises(modelseal.Error) as e:
        modelseal.Predictor(tmp_path / "missing")
    assert e.value.kind == "io"
    no_config = tmp_path / "no_config"
    no_config.mkdir()
    shutil.copy(models / "cls" / "model.onnx", no_config)
    with pytest.raises(modelseal.UnsupportedError, match="config") as e:
        modelseal.Predictor(no_config)
    assert e.value.name is None


def test_bad_options_are_value_errors(models):
    with pytest.raises(ValueError, match="backend"):
        modelseal.Predictor(models / "cls", backend="gpu")
    with pytest.raises(ValueError, match="threads"):
        modelseal.Predictor(models / "cls", threads=0)
    with pytest.raises(modelseal.Error) as e:
        modelseal.Predictor(models / "cls", backend="tract", use_gpu=True)
    assert e.value.kind == "usage"


def test_bad_inputs_and_arguments(predictors, images):
    p = predictors["cls"]
    for bad in [42, None, b"/tmp/x.png", {"path": images[0]}, [images[0], 3.5]]:
        with pytest.raises(TypeError):
            p.predict(bad)
    with pytest.raises(TypeError, match="uint8"):
        p.predict(np.zeros((8, 8, 3), np.float32))
    for shape in [(8, 8), (8, 8, 4), (0, 8, 3), (8, 8, 3, 1)]:
        with pytest.raises(ValueError, match="H x W x 3"):
            p.predict(np.zeros(shape, np.uint8))
    with pytest.raises(ValueError, match="batch_size"):
        p.predict(images[0], batch_size=0)
    with pytest.raises(ValueError, match="topk"):
        p.predict(images[0], topk=0)
    with pytest.raises(ValueError, match="detection"):
        p.predict(images[0], threshold=0.5)
    with pytest.raises(ValueError, match="finite"):
        predictors["layout"].predict(images[0], threshold=float("nan"))
    assert p.predict([]) == []


def test_unreadable_images(predictors, images, tmp_path):
    p = predictors["cls"]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    missing = str(tmp_path / "missing.png")
    for bad in [str(broken), missing, broken]:
        with pytest.raises(modelseal.Error, match=os.path.basename(str(bad))) as e:
            p.predict(bad)
        assert type(e.value) is modelseal.Error and e.value.kind == "invalid_input"
    good = p.predict(images[0])
    for inputs in [[images[0], str(broken), images[0]], [images[0], missing, cv2.imread(images[0])]]:
        out = p.predict(inputs, batch_size=2)
        assert len(out) == 3
        assert out[0] == good and without_image(out[2]) == without_image(good)
        failed = out[1]
        assert set(failed) == set(good)
        assert failed["error"]["kind"] == "invalid_input"
        assert os.path.basename(inputs[1]) in failed["error"]["message"]
        assert failed["class_id"] is None and failed["topk"] is None


@pytest.mark.parametrize("name", list(TASKS))
def test_results_are_the_clis_json(name, predictors, sealed, key_file, images, cli, tmp_path):
    task, task_name, n = TASKS[name]
    p = predictors[name]
    assert p.task == task_name and p.backend == "onnxruntime"
    paths = images[:n]
    want = cli_json(cli, task, sealed[name], paths, tmp_path, "--key-file", key_file,
                    "--thread_num", THREADS)
    assert len(want) == n
    got = p.predict(paths)
    assert [without_image(g) for g in got] == [without_image(w) for w in want]
    assert [g["image"] for g in got] == [w["image"] for w in want] == paths
    assert same([p.predict(x) for x in paths], got)
    if name == "cls":
        assert {r["class_id"] for r in got} == {0, 1}, "both classes occur on the real images"
    if name == "layout":
        assert sum(len(r["boxes"]) for r in got) > 0


def test_topk_and_batches_are_the_clis(predictors, sealed, key_file, images, cli, tmp_path):
    p = predictors["cls"]
    want = cli_json(cli, "classify", sealed["cls"], images, tmp_path, "--key-file", key_file,
                    "--thread_num", THREADS, "--topk", 2, "--batch_size", 4)
    got = p.predict(images, topk=2, batch_size=4)
    assert got == want
    assert all(len(r["topk"]) == 2 and r["topk"][0]["score"] >= r["topk"][1]["score"] for r in got)
    assert [r["topk"][:1] for r in got] == [r["topk"] for r in p.predict(images)]


def test_tract_gives_the_clis_tract_results(sealed, key, key_file, images, cli, tmp_path):
    p = modelseal.Predictor(sealed["cls"], key, backend="tract", threads=1)
    assert p.backend == "tract"
    want = cli_json(cli, "classify", sealed["cls"], images[:6], tmp_path, "--key-file", key_file,
                    "--backend", "tract", "--thread_num", 1)
    assert p.predict(images[:6]) == want


def test_numpy_and_path_inputs_agree(predictors, images):
    pngs = [p for p in images if p.endswith(".png")]
    for name, n in [("cls", len(pngs)), ("layout", 3), ("det_db", 2)]:
        p = predictors[name]
        by_path = p.predict(pngs[:n])
        arrays = [cv2.imread(x, cv2.IMREAD_COLOR) for x in pngs[:n]]
        by_array = p.predict(arrays)
        for a, b in zip(by_path, by_array):
            assert b["image"] == "<array>"
            assert without_image(a) == without_image(b)
            if "label_map" in a:
                assert np.array_equal(a["label_map"], b["label_map"])
        # A strided view and a tuple give the same as a contiguous array.
        wide = np.zeros((arrays[0].shape[0], arrays[0].shape[1] * 2, 3), np.uint8)
        wide[:, ::2] = arrays[0]
        view = wide[:, ::2]
        assert not view.flags["C_CONTIGUOUS"]
        assert without_image(p.predict(view)) == without_image(by_path[0])
        assert without_image(p.predict((arrays[0],))[0]) == without_image(by_path[0])


def test_detection_threshold_leaves_out_low_boxes(predictors, images):
    p = predictors["layout"]
    full = p.predict(images[1])
    scores = sorted(b["score"] for b in full["boxes"])
    assert len(scores) >= 2, "the page image has several layout boxes"
    t = scores[len(scores) // 2]
    cut = p.predict(images[1], threshold=t)
    assert cut["boxes"] == [b for b in full["boxes"] if b["score"] >= t]
    assert 0 < len(cut["boxes"]) < len(full["boxes"])


def test_segmentation_label_maps_are_the_clis_pngs(predictors, sealed, key_file, images, cli, tmp_path):
    p = predictors["det_db"]
    paths = images[:2]
    out = tmp_path / "seg"
    want = cli_json(cli, "segment", sealed["det_db"], paths, tmp_path, "--key-file", key_file,
                    "--thread_num", THREADS, "--save_dir", out)
    for r, w in zip(p.predict(paths), want):
        m = r["label_map"]
        assert isinstance(m, np.ndarray) and m.dtype == np.uint8
        assert m.shape == (r["height"], r["width"]) == cv2.imread(r["image"]).shape[:2]
        assert sorted(np.unique(m).tolist()) == r["classes"]
        png = cv2.imread(w["label_map_png"], cv2.IMREAD_UNCHANGED)
        assert np.array_equal(m, png)
        m[0, 0] = 7  # the array is the caller's own
    assert 1 in p.predict(paths[0])["classes"], "text is found on the text image"


def test_one_predictor_shared_by_eight_threads(predictors, images):
    p = predictors["cls"]
    arrays = [cv2.imread(x) for x in images[:3]]
    want_list = p.predict(images, batch_size=3)
    want_single = [p.predict(x) for x in images]
    want_arrays = p.predict(arrays)

    def work(i):
        for _ in range(3):
            if i % 3 == 0:
                assert p.predict(images, batch_size=3) == want_list
            elif i % 3 == 1:
                assert [p.predict(x) for x in images] == want_single
            else:
                assert p.predict(arrays) == want_arrays
        return i

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(work, range(8))) == list(range(8))


def test_the_gil_is_released_while_predicting(predictors, images):
    """A Python thread keeps running (and time-stamping) while predict works, well inside the
    call: with the GIL held it could run only at the call's edges (one switch interval each)."""
    p = predictors["det_db"]
    stamps = []
    stop = threading.Event()

    def spin():
        n = 0
        while not stop.is_set():
            n += 1
            if n % 200 == 0:
                stamps.append(time.perf_counter())

    t = threading.Thread(target=spin)
    t.start()
    try:
        t0 = time.perf_counter()
        p.predict(images[:3])
        t1 = time.perf_counter()
    finally:
        stop.set()
        t.join()
    margin = 20 * sys.getswitchinterval()
    assert t1 - t0 > 4 * margin, "predict too quick to tell"
    inside = [s for s in stamps if t0 + margin < s < t1 - margin]
    assert len(inside) > 10, (len(inside), t1 - t0)


def test_attributes_and_other_storages(models, sealed, v1_cls, key, key_file, images):
    p = modelseal.Predictor(sealed["layout"], key_file=key_file)
    assert p.task == "detection" and p.labels[:3] == ["text", "title", "figure"] and len(p.labels) == 10
    assert p.sealed and p.model_dir == sealed["layout"]
    assert key not in repr(p) and "detection" in repr(p)
    plain = modelseal.Predictor(models / "cls", threads=THREADS)
    assert not plain.sealed and plain.labels == ["0", "180"]
    with pytest.warns(UserWarning, match="PaddleX v1"):
        v1 = modelseal.Predictor(v1_cls, key, allow_paddlex_v1=True, threads=THREADS)
    pinned = modelseal.Predictor(sealed["cls"], key, seal_id=modelseal.open_dir(sealed["cls"], key).seal_id,
                                 threads=THREADS)
    want = modelseal.Predictor(sealed["cls"], key, threads=THREADS).predict(images)
    assert plain.predict(images) == v1.predict(images) == pinned.predict(images) == want


def run_python(code, env_changes):
    env = dict(os.environ)
    env.pop("ORT_DYLIB_PATH", None)
    env.update(env_changes)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_onnx_runtime_is_found_in_process(models, ort_library):
    code = f"""
import json, sys, modelseal
p = modelseal.Predictor({str(models / 'cls')!r})
print(json.dumps([p.backend, "onnxruntime" in sys.modules]))
"""
    # From the onnxruntime package, found by importlib without importing it.
    assert run_python(code, {}) == ["onnxruntime", False]
    assert run_python(code, {"ORT_DYLIB_PATH": ort_library}) == ["onnxruntime", False]
    # ORT_DYLIB_PATH decides when set: a wrong one means tract for "auto", an error for "onnxruntime".
    assert run_python(code, {"ORT_DYLIB_PATH": "/nonexistent/libonnxruntime.so"}) == ["tract", False]
    strict = f"""
import json, modelseal
try:
    modelseal.Predictor({str(models / 'cls')!r}, backend="onnxruntime")
    print(json.dumps(None))
except modelseal.Error as e:
    print(json.dumps([e.kind, "ORT_DYLIB_PATH" in str(e)]))
"""
    assert run_python(strict, {"ORT_DYLIB_PATH": "/nonexistent/libonnxruntime.so"}) == ["usage", True]


def test_paddle_format_directories(models, key, key_file, tmp_path, images, cli):
    src = tmp_path / "paddle_cls"
    shutil.copytree(models / "paddle" / "cls", src)
    shutil.copy(models / "cls" / "inference.yml", src)
    sealed = tmp_path / "paddle_cls_sealed"
    modelseal.seal_dir(src, sealed, key)
    p = modelseal.Predictor(sealed, key, threads=THREADS)
    assert p.task == "classification" and p.labels == ["0", "180"]
    got = p.predict(images[:6])
    assert got == cli_json(cli, "classify", sealed, images[:6], tmp_path, "--key-file", key_file,
                           "--thread_num", THREADS)
    # The same network as the ONNX classifier.
    onnx = modelseal.Predictor(models / "cls", threads=THREADS)
    for a, b in zip(got, onnx.predict(images[:6])):
        assert a["class_id"] == b["class_id"]
        assert abs(a["score"] - b["score"]) < 1e-3
