"""The interop recipes of the README: a model read from a sealed directory handed to onnxruntime's
own Python session, and (where Paddle is installed) to paddle.inference with set_model_buffer."""

import importlib.util

import numpy as np
import pytest

import modelseal


def test_onnxruntime_sessions_from_sealed_bytes(models, sealed, key):
    import onnxruntime as ort

    rng = np.random.default_rng(7)
    for name in ["cls", "layout"]:
        with modelseal.open_dir(sealed[name], key) as d:
            session = ort.InferenceSession(d.read(d.model_name), providers=["CPUExecutionProvider"])
        reference = ort.InferenceSession(str(models / name / "model.onnx"), providers=["CPUExecutionProvider"])
        feeds = {}
        for i in session.get_inputs():
            shape = [s if isinstance(s, int) and s > 0 else 1 for s in i.shape]
            if name == "cls":
                shape = [1, 3, 48, 192]
            feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
        assert [i.name for i in session.get_inputs()] == [i.name for i in reference.get_inputs()]
        for a, b in zip(session.run(None, feeds), reference.run(None, feeds)):
            assert np.array_equal(a, b)


def test_a_wrong_key_hands_nothing_to_onnxruntime(sealed):
    with pytest.raises(modelseal.WrongKeyError):
        with modelseal.open_dir(sealed["cls"], modelseal.generate_key()) as d:
            d.read(d.model_name)


@pytest.mark.skipif(importlib.util.find_spec("paddle") is None,
                    reason="Paddle is not installed (the recipe is checked where it is)")
def test_paddle_inference_from_sealed_buffers(models, key, tmp_path):
    import paddle.inference as pi

    src = models / "paddle" / "cls"
    sealed = tmp_path / "paddle"
    modelseal.seal_dir(src, sealed, key)
    with modelseal.open_dir(sealed, key) as d:
        program, params = d.read(d.model_name), d.read(d.params_name)
    config = pi.Config()
    config.set_model_buffer(program, len(program), params, len(params))
    config.disable_gpu()
    predictor = pi.create_predictor(config)
    del program, params
    reference = pi.create_predictor(pi.Config(str(src / "inference.pdmodel"), str(src / "inference.pdiparams")))
    x = np.random.default_rng(3).standard_normal((1, 3, 48, 192)).astype(np.float32)
    outs = []
    for p in [predictor, reference]:
        h = p.get_input_handle(p.get_input_names()[0])
        h.copy_from_cpu(x)
        p.run()
        outs.append(p.get_output_handle(p.get_output_names()[0]).copy_to_cpu())
    assert np.allclose(outs[0], outs[1])
