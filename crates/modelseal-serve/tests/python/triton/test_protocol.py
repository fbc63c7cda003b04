"""`modelseal serve` against tritonclient 2.73 (HTTP and gRPC) and plain HTTP: metadata,
readiness, every task and the raw view with outputs checked against the CLI's --json and a local
onnxruntime run, JSON and binary tensors, concurrency, malformed requests and metrics. (The kserve
clients are in ../kserve: their protobuf package clashes with tritonclient's in one process.)"""

import base64
import concurrent.futures
import json
import subprocess

import cv2
import numpy as np
import onnxruntime as ort
import pytest
import requests
import tritonclient.grpc as tgrpc
import tritonclient.http as thttp
from tritonclient.utils import InferenceServerException


def bytes_input(mod, data_list, name="image", binary=True):
    arr = np.array(data_list, dtype=np.object_)
    i = mod.InferInput(name, [len(data_list)], "BYTES")
    if mod is thttp:
        i.set_data_from_numpy(arr, binary_data=binary)
    else:
        i.set_data_from_numpy(arr)
    return i


def cli_json(binary, env, task, model_dir, key_file, paths, tmp_path, extra=()):
    lst = tmp_path / f"{task}_list.txt"
    lst.write_text("\n".join(str(p) for p in paths) + "\n")
    out = subprocess.run(
        [binary, task, "--model_dir", str(model_dir), "--key-file", str(key_file),
         "--image_list", str(lst), "--json", "--save_dir", str(tmp_path / f"{task}_out"), *extra],
        check=True, env=env, capture_output=True, text=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


# ---------------------------------------------------------------- health and metadata


def test_health_and_server_metadata_over_http_and_grpc(server):
    h = thttp.InferenceServerClient(server.http)
    assert h.is_server_live() and h.is_server_ready()
    md = h.get_server_metadata()
    assert md["name"] == "modelseal" and "binary_tensor_data" in md["extensions"]
    g = tgrpc.InferenceServerClient(server.grpc)
    assert g.is_server_live() and g.is_server_ready()
    assert g.get_server_metadata().name == "modelseal"
    for m in ("cls", "layout", "seg", "cls-raw", "seg-raw"):
        assert h.is_model_ready(m) and g.is_model_ready(m)
        assert h.is_model_ready(m, "1") and g.is_model_ready(m, "1")
    assert not h.is_model_ready("nope")
    assert not h.is_model_ready("cls", "2")
    # Over gRPC an unknown model or version is NOT_FOUND.
    for args in (("nope",), ("cls", "2")):
        with pytest.raises(InferenceServerException) as e:
            g.is_model_ready(*args)
        assert e.value.status() == "StatusCode.NOT_FOUND"


def test_metadata_describes_both_views(server, models_dir):
    h = thttp.InferenceServerClient(server.http)
    g = tgrpc.InferenceServerClient(server.grpc)
    for client_md in (h.get_model_metadata("cls"), h.get_model_metadata("cls", "1")):
        assert client_md["name"] == "cls" and client_md["versions"] == ["1"]
        assert client_md["inputs"] == [{"name": "image", "datatype": "BYTES", "shape": [-1]}]
        assert [o["name"] for o in client_md["outputs"]] == ["class_id", "score", "label"]
        assert [o["datatype"] for o in client_md["outputs"]] == ["INT64", "FP32", "BYTES"]
    lay = h.get_model_metadata("layout")
    assert [o["name"] for o in lay["outputs"]] == ["num_detections", "boxes", "scores", "class_ids", "labels"]
    assert lay["outputs"][1]["shape"] == [-1, -1, 4]
    seg = g.get_model_metadata("seg")
    assert [(o.name, o.datatype, list(o.shape)) for o in seg.outputs] == [("label_map", "UINT8", [-1, -1, -1])]
    # The raw views describe the model's own tensors, as onnxruntime does.
    for name, model in (("cls", "cls"), ("layout", "layout"), ("seg", "det_db")):
        raw = h.get_model_metadata(f"{name}-raw")
        sess = ort.InferenceSession(str(models_dir / model / "model.onnx"))
        assert [i["name"] for i in raw["inputs"]] == [i.name for i in sess.get_inputs()]
        assert [o["name"] for o in raw["outputs"]] == [o.name for o in sess.get_outputs()]
        for mine, theirs in zip(raw["inputs"] + raw["outputs"], sess.get_inputs() + sess.get_outputs()):
            assert mine["datatype"] == "FP32" and theirs.type == "tensor(float)"
            want = [d if isinstance(d, int) else -1 for d in theirs.shape]
            assert mine["shape"] == want, (mine, theirs.shape)
        graw = g.get_model_metadata(f"{name}-raw")
        assert [i.name for i in graw.inputs] == [i["name"] for i in raw["inputs"]]
        assert "onnx" in graw.platform
    with pytest.raises(InferenceServerException) as e:
        h.get_model_metadata("cls", "7")
    assert "404" in str(e.value.status()) or "version" in str(e.value)


# ---------------------------------------------------------------- every task against the CLI


def test_classification_matches_the_cli_over_http_grpc_and_json(server, sealed, key_file, images, models_dir, binary, env, tmp_path):
    names = sorted(images)
    paths = [models_dir / "images" / n for n in names]
    want = cli_json(binary, env, "classify", sealed["cls"], key_file, paths, tmp_path, ["--topk", "2"])
    assert len(want) == len(names)
    data = [images[n] for n in names]

    def check(ids, scores, labels, k):
        assert ids.shape == (len(names), k)
        for row, w in enumerate(want):
            exp = w["topk"][:k]
            assert list(ids[row]) == [c["class_id"] for c in exp], names[row]
            assert [x.decode() if isinstance(x, bytes) else x for x in labels[row]] == [c["label"] for c in exp]
            np.testing.assert_allclose(scores[row], [c["score"] for c in exp], rtol=0, atol=2e-5)

    # tritonclient HTTP, binary tensors, top-2.
    h = thttp.InferenceServerClient(server.http)
    r = h.infer("cls", [bytes_input(thttp, data)], parameters={"topk": 2})
    check(r.as_numpy("class_id"), r.as_numpy("score"), r.as_numpy("label"), 2)
    # tritonclient gRPC, top-1: outputs are [N].
    g = tgrpc.InferenceServerClient(server.grpc)
    r = g.infer("cls", [bytes_input(tgrpc, data)])
    assert r.as_numpy("class_id").shape == (len(names),)
    check(r.as_numpy("class_id")[:, None], r.as_numpy("score")[:, None], r.as_numpy("label")[:, None], 1)
    # JSON over plain HTTP: base64 text of each file, JSON outputs.
    body = {"id": "json-1", "parameters": {"topk": 2},
            "inputs": [{"name": "image", "datatype": "BYTES", "shape": [len(data)],
                        "data": [base64.b64encode(d).decode() for d in data]}]}
    resp = requests.post(f"{server.url}/v2/models/cls/infer", json=body, timeout=60)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    out = {o["name"]: o for o in resp.json()["outputs"]}
    assert resp.json()["id"] == "json-1" and out["class_id"]["shape"] == [len(data), 2]
    check(np.array(out["class_id"]["data"]).reshape(-1, 2), np.array(out["score"]["data"]).reshape(-1, 2),
          np.array(out["label"]["data"]).reshape(-1, 2), 2)


def test_detection_matches_the_cli(server, sealed, key_file, images, models_dir, binary, env, tmp_path):
    names = sorted(images)[:8]
    want = cli_json(binary, env, "detect", sealed["layout"], key_file,
                    [models_dir / "images" / n for n in names], tmp_path)
    h = thttp.InferenceServerClient(server.http)
    r = h.infer("layout", [bytes_input(thttp, [images[n] for n in names])])
    num = r.as_numpy("num_detections")
    boxes, scores = r.as_numpy("boxes"), r.as_numpy("scores")
    ids, labels = r.as_numpy("class_ids"), r.as_numpy("labels")
    k = max(len(w["boxes"]) for w in want)
    assert boxes.shape == (len(names), k, 4) and scores.shape == (len(names), k)
    assert k > 0, "the layout model finds boxes on the page images"
    for row, w in enumerate(want):
        n = len(w["boxes"])
        assert num[row] == n, names[row]
        for j, b in enumerate(w["boxes"]):
            assert ids[row, j] == b["class_id"] and labels[row, j].decode() == b["label"]
            assert abs(scores[row, j] - b["score"]) < 1e-4
            np.testing.assert_allclose(boxes[row, j], b["bbox"], atol=1e-2)
        # Padding: class id -1, score 0, box 0, label empty.
        assert (ids[row, n:] == -1).all() and (scores[row, n:] == 0).all()
        assert (boxes[row, n:] == 0).all() and all(x == b"" for x in labels[row, n:])
    # A threshold keeps the boxes at or above it.
    g = tgrpc.InferenceServerClient(server.grpc)
    r = g.infer("layout", [bytes_input(tgrpc, [images[n] for n in names])], parameters={"threshold": 0.7})
    for row, w in enumerate(want):
        assert r.as_numpy("num_detections")[row] == sum(1 for b in w["boxes"] if b["score"] >= 0.7)


def test_segmentation_matches_the_cli(server, sealed, key_file, images, models_dir, binary, env, tmp_path):
    names = ["page.png", "text.png", "chelsea.png"]
    cli_json(binary, env, "segment", sealed["det_db"], key_file,
             [models_dir / "images" / n for n in names], tmp_path)
    h = thttp.InferenceServerClient(server.http)
    for n in names:
        want = cv2.imread(str(tmp_path / "segment_out" / (n.rsplit(".", 1)[0] + "_label.png")), cv2.IMREAD_UNCHANGED)
        r = h.infer("seg", [bytes_input(thttp, [images[n], images[n]])])
        got = r.as_numpy("label_map")
        assert got.dtype == np.uint8 and got.shape == (2,) + want.shape
        assert (got[0] == got[1]).all()
        differ = np.count_nonzero(got[0] != want)
        assert differ <= want.size * 1e-4, f"{n}: {differ} of {want.size} pixels differ"
        assert got[0].max() == 1, "the text images have text pixels"
    # Images of different sizes in one request: 400.
    with pytest.raises(InferenceServerException) as e:
        h.infer("seg", [bytes_input(thttp, [images["page.png"], images["chelsea.png"]])])
    assert "same size" in str(e.value)


def test_raw_views_match_onnxruntime(server, models_dir):
    rng = np.random.default_rng(7)
    h = thttp.InferenceServerClient(server.http)
    g = tgrpc.InferenceServerClient(server.grpc)
    cases = [("cls", "cls", (3, 3, 48, 192)), ("layout", "layout", (1, 3, 800, 608)), ("seg", "det_db", (1, 3, 320, 320))]
    for name, model, shape in cases:
        sess = ort.InferenceSession(str(models_dir / model / "model.onnx"), providers=["CPUExecutionProvider"])
        x = rng.standard_normal(shape, dtype=np.float32)
        iname = sess.get_inputs()[0].name
        want = sess.run(None, {iname: x})
        onames = [o.name for o in sess.get_outputs()]
        for mod, client in ((thttp, h), (tgrpc, g)):
            i = mod.InferInput(iname, list(shape), "FP32")
            i.set_data_from_numpy(x)
            r = client.infer(f"{name}-raw", [i])
            for o, w in zip(onames, want):
                got = r.as_numpy(o)
                assert got.shape == w.shape, (name, o)
                np.testing.assert_allclose(got, w, rtol=1e-4, atol=1e-4)
    # JSON tensors on the raw view: nested data, outputs asked for by name in JSON.
    sess = ort.InferenceSession(str(models_dir / "cls" / "model.onnx"), providers=["CPUExecutionProvider"])
    x = rng.standard_normal((1, 3, 48, 192), dtype=np.float32)
    want = sess.run(None, {"x": x})[0]
    body = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3, 48, 192], "data": x.tolist()}],
            "outputs": [{"name": sess.get_outputs()[0].name}]}
    resp = requests.post(f"{server.url}/v2/models/cls-raw/versions/1/infer", json=body, timeout=60)
    assert resp.status_code == 200, resp.text
    out = resp.json()["outputs"][0]
    assert out["shape"] == [1, 2] and out["datatype"] == "FP32"
    np.testing.assert_allclose(np.array(out["data"]).reshape(1, 2), want, rtol=1e-4, atol=1e-5)


def test_json_and_binary_requests_agree(server, images):
    data = [images["dog.jpg"], images["astronaut.png"]]
    h = thttp.InferenceServerClient(server.http)
    binary = h.infer("layout", [bytes_input(thttp, data)],
                     outputs=[thttp.InferRequestedOutput("scores", binary_data=True),
                              thttp.InferRequestedOutput("num_detections", binary_data=False)])
    body = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [2],
                        "data": [base64.b64encode(d).decode() for d in data]}]}
    resp = requests.post(f"{server.url}/v2/models/layout/infer", json=body, timeout=60).json()
    out = {o["name"]: o for o in resp["outputs"]}
    assert binary.as_numpy("num_detections").tolist() == out["num_detections"]["data"]
    np.testing.assert_allclose(binary.as_numpy("scores").reshape(-1), out["scores"]["data"], atol=1e-6)
    # Only the outputs asked for come back, in the order asked.
    assert [o["name"] for o in binary.get_response()["outputs"]] == ["scores", "num_detections"]


# ---------------------------------------------------------------- concurrency


def test_sixteen_concurrent_clients_get_the_sequential_answers(server, images):
    names = sorted(images)
    h = thttp.InferenceServerClient(server.http)
    expected = {}
    for n in names:
        r = h.infer("cls", [bytes_input(thttp, [images[n]])])
        expected[n] = (int(r.as_numpy("class_id")[0]), float(r.as_numpy("score")[0]))

    def client(i):
        mod = thttp if i % 2 == 0 else tgrpc
        c = mod.InferenceServerClient(server.http if mod is thttp else server.grpc)
        got = []
        for j in range(12):
            n = names[(i + j) % len(names)]
            r = c.infer("cls", [bytes_input(mod, [images[n]])])
            got.append((n, int(r.as_numpy("class_id")[0]), float(r.as_numpy("score")[0])))
        return got

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        results = list(ex.map(client, range(16)))
    assert sum(len(r) for r in results) == 16 * 12
    for r in results:
        for n, cid, score in r:
            assert cid == expected[n][0], n
            assert abs(score - expected[n][1]) < 2e-5, n
    # The requests were batched together at least once.
    metrics = requests.get(f"{server.url}/metrics", timeout=10).text
    sizes = [line for line in metrics.splitlines() if line.startswith('modelseal_batch_size_bucket{model="cls",le="1"}')]
    total = [line for line in metrics.splitlines() if line.startswith('modelseal_batch_size_count{model="cls"}')]
    assert float(sizes[0].split()[-1]) < float(total[0].split()[-1]), "no batch larger than one image"


# ---------------------------------------------------------------- malformed requests


def post(server, path, data, headers=None):
    return requests.post(f"{server.url}{path}", data=data, headers=headers or {}, timeout=60)


def still_serving(server, images):
    h = thttp.InferenceServerClient(server.http)
    r = h.infer("cls", [bytes_input(thttp, [images["dog.jpg"]])])
    assert r.as_numpy("class_id").shape == (1,)


def test_malformed_rest_requests_get_their_status_and_the_server_keeps_serving(server, images):
    img = base64.b64encode(images["dog.jpg"]).decode()
    good = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "data": [img]}]}

    def with_input(**kw):
        b = json.loads(json.dumps(good))
        b["inputs"][0].update(kw)
        return json.dumps(b)

    cases = [
        ("/v2/models/cls/infer", b"{not json", 400),
        ("/v2/models/cls/infer", b"[]", 400),
        ("/v2/models/cls/infer", with_input(datatype="FP32", data=[1.0]), 400),   # wrong dtype
        ("/v2/models/cls/infer", with_input(shape=[1, 1]), 400),                 # wrong shape
        ("/v2/models/cls/infer", with_input(shape=[2]), 400),                    # shape vs data
        ("/v2/models/cls/infer", with_input(name="x"), 400),                     # wrong input
        ("/v2/models/cls/infer", with_input(data=[base64.b64encode(b"not an image").decode()]), 400),
        ("/v2/models/cls/infer", with_input(data=["@@@ not base64"]), 400),
        ("/v2/models/cls/infer", json.dumps({**good, "parameters": {"topk": 0}}), 400),
        ("/v2/models/cls/infer", json.dumps({**good, "outputs": [{"name": "nope"}]}), 400),
        ("/v2/models/cls-raw/infer", json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3, 4], "data": [0.0] * 12}]}), 400),
        ("/v2/models/cls-raw/infer", json.dumps({"inputs": [{"name": "x", "datatype": "INT64", "shape": [1, 3, 2, 2], "data": [0] * 12}]}), 400),
        ("/v2/models/nope/infer", json.dumps(good), 404),
        ("/v2/models/cls/versions/2/infer", json.dumps(good), 404),
        ("/v2/models/nope", None, 404),
        ("/v2/nowhere", None, 404),
    ]
    for path, body, status in cases:
        if body is None:
            r = requests.get(f"{server.url}{path}", timeout=30)
        else:
            r = post(server, path, body, {"content-type": "application/json"})
        assert r.status_code == status, (path, body if body is None else body[:80], r.status_code, r.text)
        assert isinstance(r.json()["error"], str) and r.json()["error"]
        still_serving(server, images)
    # Binary framing errors.
    head = json.dumps({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1],
                                   "parameters": {"binary_data_size": 100}}]}).encode()
    r = post(server, "/v2/models/cls/infer", head + b"\x05\x00\x00\x00abc", {"Inference-Header-Content-Length": str(len(head))})
    assert r.status_code == 400 and "binary" in r.json()["error"]
    r = post(server, "/v2/models/cls/infer", head, {"Inference-Header-Content-Length": str(len(head) + 5)})
    assert r.status_code == 400
    # Oversized body: 413, then the server still answers.
    big = b"x" * ((16 << 20) + 1)
    r = post(server, "/v2/models/cls/infer", big, {"content-type": "application/octet-stream"})
    assert r.status_code == 413 and "limit" in r.json()["error"]
    still_serving(server, images)


def test_malformed_grpc_requests_get_their_codes(server, images):
    g = tgrpc.InferenceServerClient(server.grpc)

    def code(f):
        with pytest.raises(InferenceServerException) as e:
            f()
        return e.value.status()

    i = tgrpc.InferInput("image", [1], "FP32")
    i.set_data_from_numpy(np.zeros(1, np.float32))
    assert code(lambda: g.infer("cls", [i])) == "StatusCode.INVALID_ARGUMENT"
    assert code(lambda: g.infer("cls", [bytes_input(tgrpc, [b"garbage"])])) == "StatusCode.INVALID_ARGUMENT"
    assert code(lambda: g.infer("nope", [bytes_input(tgrpc, [images["dog.jpg"]])])) == "StatusCode.NOT_FOUND"
    assert code(lambda: g.infer("cls", [bytes_input(tgrpc, [images["dog.jpg"]])], model_version="3")) == "StatusCode.NOT_FOUND"
    assert code(lambda: g.get_model_metadata("nope")) == "StatusCode.NOT_FOUND"
    big = tgrpc.InferInput("image", [1], "BYTES")
    big.set_data_from_numpy(np.array([b"x" * ((16 << 20) + 10)], dtype=np.object_))
    assert code(lambda: g.infer("cls", [big])) == "StatusCode.RESOURCE_EXHAUSTED"
    still_serving(server, images)
    assert g.infer("cls", [bytes_input(tgrpc, [images["dog.jpg"]])]).as_numpy("label").shape == (1,)


def test_metrics_count_requests_and_time_them(server, images):
    h = thttp.InferenceServerClient(server.http)
    h.infer("seg", [bytes_input(thttp, [images["text.png"]])])
    requests.post(f"{server.url}/v2/models/nope/infer", data=b"{}", timeout=10)
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    assert 'modelseal_requests_total{model="seg",protocol="rest",outcome="success"}' in text
    assert 'outcome="not_found"' in text
    for fam in ("modelseal_queue_duration_seconds", "modelseal_compute_duration_seconds",
                "modelseal_request_duration_seconds", "modelseal_batch_size"):
        assert f"# TYPE {fam} histogram" in text
        line = [x for x in text.splitlines() if x.startswith(f'{fam}_count{{model="seg"}}')][0]
        assert float(line.split()[-1]) >= 1
