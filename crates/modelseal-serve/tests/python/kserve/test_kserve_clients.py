"""`modelseal serve` against kserve 0.21's own clients, InferenceRESTClient (v2, binary and JSON
tensors) and InferenceGRPCClient: readiness and every task, checked against the CLI's --json.
(Run in a process of its own: kserve's protobuf package clashes with tritonclient's.)"""

import asyncio
import json
import subprocess

import numpy as np
import pytest

from kserve import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest, RESTConfig


def cli_json(binary, env, task, model_dir, key_file, paths, tmp_path, extra=()):
    lst = tmp_path / f"{task}_list.txt"
    lst.write_text("\n".join(str(p) for p in paths) + "\n")
    out = subprocess.run(
        [binary, task, "--model_dir", str(model_dir), "--key-file", str(key_file),
         "--image_list", str(lst), "--json", "--save_dir", str(tmp_path / f"{task}_out"), *extra],
        check=True, env=env, capture_output=True, text=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def images_input(data, binary=True):
    inp = InferInput("image", [len(data)], "BYTES")
    inp.set_data_from_numpy(np.array(data, dtype=np.object_), binary_data=binary)
    return inp


async def rest_infer(server, model, data, parameters=None, binary=True):
    req = InferRequest(model_name=model, infer_inputs=[images_input(data, binary)], parameters=parameters)
    c = InferenceRESTClient(RESTConfig(protocol="v2"))
    try:
        res = await c.infer(server.url, req, model_name=model)
    finally:
        await c.close()
    return {o.name: o.as_numpy() for o in res.outputs}


async def grpc_infer(server, model, data, parameters=None):
    req = InferRequest(model_name=model, infer_inputs=[images_input(data)], parameters=parameters)
    c = InferenceGRPCClient(server.grpc)
    try:
        res = await c.infer(req)
    finally:
        await c.close()
    return {o.name: o.as_numpy() for o in res.outputs}


def test_readiness_over_kserve_rest_and_grpc(server):
    async def go():
        rest = InferenceRESTClient(RESTConfig(protocol="v2"))
        try:
            assert await rest.is_server_live(server.url)
            assert await rest.is_server_ready(server.url)
            assert await rest.is_model_ready(server.url, "cls")
            assert await rest.is_model_ready(server.url, "layout-raw")
            assert not await rest.is_model_ready(server.url, "nope")
        finally:
            await rest.close()
        g = InferenceGRPCClient(server.grpc)
        try:
            assert await g.is_server_live()
            assert await g.is_server_ready()
            assert await g.is_model_ready("layout")
        finally:
            await g.close()

    asyncio.run(go())


def test_classification_over_kserve_clients_matches_the_cli(server, sealed, key_file, images, models_dir, binary, env, tmp_path):
    names = sorted(images)
    want = cli_json(binary, env, "classify", sealed["cls"], key_file,
                    [models_dir / "images" / n for n in names], tmp_path, ["--topk", "2"])
    data = [images[n] for n in names]
    for outs in (asyncio.run(rest_infer(server, "cls", data, {"topk": 2})),
                 asyncio.run(grpc_infer(server, "cls", data, {"topk": 2}))):
        assert outs["class_id"].shape == (len(names), 2)
        for row, w in enumerate(want):
            assert list(outs["class_id"][row]) == [c["class_id"] for c in w["topk"]]
            labels = [x.decode() if isinstance(x, bytes) else x for x in outs["label"][row]]
            assert labels == [c["label"] for c in w["topk"]]
            np.testing.assert_allclose(outs["score"][row], [c["score"] for c in w["topk"]], atol=2e-5)


def test_detection_and_segmentation_over_kserve_clients(server, sealed, key_file, images, models_dir, binary, env, tmp_path):
    names = ["page.png", "text.png", "dog.jpg"]
    want = cli_json(binary, env, "detect", sealed["layout"], key_file,
                    [models_dir / "images" / n for n in names], tmp_path)
    for outs in (asyncio.run(rest_infer(server, "layout", [images[n] for n in names])),
                 asyncio.run(grpc_infer(server, "layout", [images[n] for n in names]))):
        assert list(outs["num_detections"]) == [len(w["boxes"]) for w in want]
        for row, w in enumerate(want):
            for j, b in enumerate(w["boxes"]):
                assert outs["class_ids"][row, j] == b["class_id"]
                np.testing.assert_allclose(outs["boxes"][row, j], b["bbox"], atol=1e-2)
    seg = asyncio.run(grpc_infer(server, "seg", [images["text.png"]]))["label_map"]
    assert seg.dtype == np.uint8 and seg.ndim == 3 and seg.max() == 1


def test_kserve_errors_surface_as_http_and_grpc_errors(server, images):
    import grpc
    import httpx

    with pytest.raises(httpx.HTTPStatusError) as e:
        asyncio.run(rest_infer(server, "nope", [images["dog.jpg"]]))
    assert e.value.response.status_code == 404
    with pytest.raises(httpx.HTTPStatusError) as e:
        asyncio.run(rest_infer(server, "cls", [b"not an image"]))
    assert e.value.response.status_code == 400
    with pytest.raises(grpc.aio.AioRpcError) as e:
        asyncio.run(grpc_infer(server, "cls", [b"not an image"]))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
