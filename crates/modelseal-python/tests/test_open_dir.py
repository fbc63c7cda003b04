"""open_dir and SealedDir under the open policy: refusals first, then sealed, plain and PaddleX v1."""

import base64
import os
import re
import warnings

import pytest

import modelseal
from conftest import flip_byte


def test_a_plain_directory_with_a_key_is_refused(models, key):
    with pytest.raises(modelseal.NotSealedError, match="not sealed") as e:
        modelseal.open_dir(models / "cls", key)
    assert (e.value.kind, e.value.name) == ("unsupported", "not_sealed")


def test_a_sealed_directory_without_a_key_is_refused(sealed):
    with pytest.raises(modelseal.Error, match="key") as e:
        modelseal.open_dir(sealed["cls"])
    assert (e.value.kind, e.value.name) == ("usage", "key_required")
    assert type(e.value) is modelseal.Error


def test_wrong_key_and_tampering_are_told_apart(sealed, key, copy_of):
    with pytest.raises(modelseal.WrongKeyError) as e:
        modelseal.open_dir(sealed["cls"], modelseal.generate_key())
    assert (e.value.kind, e.value.name) == ("wrong_key", "wrong_key")
    # A flipped payload byte: the directory opens (headers verify), the member read fails whole.
    payload = copy_of(sealed["cls"])
    flip_byte(payload / "model.onnx.sealed")
    d = modelseal.open_dir(payload, key)
    with pytest.raises(modelseal.IntegrityError) as e:
        d.read("model.onnx")
    assert e.value.name == "chunk_corrupted"
    assert d.read("inference.yml")
    # A flipped header byte: refused at open.
    header = copy_of(sealed["cls"])
    flip_byte(header / "model.onnx.sealed", offset_from_end=os.path.getsize(header / "model.onnx.sealed") - 20)
    with pytest.raises(modelseal.IntegrityError):
        modelseal.open_dir(header, key)


def test_members_swapped_removed_or_added_are_refused(sealed, key, copy_of):
    swapped = copy_of(sealed["cls"])
    a, b = swapped / "model.onnx.sealed", swapped / "inference.yml.sealed"
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    with pytest.raises(modelseal.IntegrityError) as e:
        modelseal.open_dir(swapped, key)
    assert e.value.name == "member_swapped"
    foreign = copy_of(sealed["cls"])
    (foreign / "model.onnx.sealed").write_bytes((sealed["layout"] / "model.onnx.sealed").read_bytes())
    with pytest.raises(modelseal.IntegrityError) as e:
        modelseal.open_dir(foreign, key)
    assert e.value.name == "foreign_member"
    removed = copy_of(sealed["cls"])
    os.remove(removed / "modelseal.manifest")
    with pytest.raises(modelseal.IntegrityError):
        modelseal.open_dir(removed, key)


def test_paddlex_v1_needs_the_opt_in(v1_cls, key):
    with pytest.raises(modelseal.UnsupportedError) as e:
        modelseal.open_dir(v1_cls, key)
    assert e.value.name == "paddlex_v1_not_allowed"
    with pytest.raises(modelseal.IntegrityError):
        modelseal.open_dir(v1_cls, key, allow_paddlex_v1=True,
                           seal_id="00112233445566778899aabbccddeeff")


def test_pinned_sealing_ids(models, sealed, key, tmp_path):
    d = modelseal.open_dir(sealed["cls"], key)
    assert re.fullmatch(r"[0-9a-f]{32}", d.seal_id)
    assert modelseal.open_dir(sealed["cls"], key, seal_id=d.seal_id).seal_id == d.seal_id
    assert modelseal.open_dir(sealed["cls"], key, seal_id=d.seal_id.upper()).seal_id == d.seal_id
    # Another sealing of the same model under the same key is refused once the id is pinned.
    again = tmp_path / "again"
    modelseal.seal_dir(models / "cls", again, key)
    with pytest.raises(modelseal.IntegrityError) as e:
        modelseal.open_dir(again, key, seal_id=d.seal_id)
    assert e.value.name == "seal_id_mismatch"
    for bad in ["", "xyz", d.seal_id + "00"]:
        with pytest.raises(ValueError, match="sealing id"):
            modelseal.open_dir(sealed["cls"], key, seal_id=bad)
    with pytest.raises(modelseal.Error) as e:
        modelseal.open_dir(models / "cls", seal_id=d.seal_id)
    assert e.value.kind == "usage"


def test_key_argument_forms(sealed, key, key_file, tmp_path):
    with pytest.raises(ValueError, match="not both"):
        modelseal.open_dir(sealed["cls"], key, key_file=key_file)
    bad_file = tmp_path / "bad.key"
    bad_file.write_text("not a key")
    with pytest.raises(modelseal.BadKeyError, match="bad.key"):
        modelseal.open_dir(sealed["cls"], key_file=bad_file)
    with pytest.raises(modelseal.Error) as e:
        modelseal.open_dir(sealed["cls"], key_file=tmp_path / "missing.key")
    assert e.value.kind == "io"
    ids = {modelseal.open_dir(sealed["cls"], k, **kw).seal_id
           for k, kw in [(key, {}), (None, {"key_file": key_file}), (None, {"key_file": str(key_file)}),
                         (base64.b64decode(key), {}), (key.encode(), {}), (key + "\n", {})]}
    assert len(ids) == 1


def test_reading_members_and_leaving_the_context(models, sealed, key):
    with modelseal.open_dir(sealed["cls"], key) as d:
        assert isinstance(d, modelseal.SealedDir)
        assert d.names == ["inference.yml", "model.onnx"]
        assert d.storage == "sealed-v2"
        assert (d.model_name, d.params_name, d.config_name) == ("model.onnx", None, "inference.yml")
        assert d.path == sealed["cls"]
        assert not d.closed
        for n in d.names:
            assert d.read(n) == (models / "cls" / n).read_bytes()
        with pytest.raises(modelseal.Error) as e:
            d.read("missing.onnx")
        assert e.value.name == "member_missing"
        assert key not in repr(d)
    assert d.closed and "closed" in repr(d)
    with pytest.raises(modelseal.Error, match="closed") as e:
        d.read("model.onnx")
    assert e.value.kind == "usage"
    assert d.names == ["inference.yml", "model.onnx"]
    d.close()


def test_an_exception_inside_the_context_still_wipes(sealed, key):
    with pytest.raises(RuntimeError):
        with modelseal.open_dir(sealed["cls"], key) as d:
            raise RuntimeError("boom")
    assert d.closed


def test_plain_and_paddlex_v1_directories(models, v1_cls, key):
    with modelseal.open_dir(models / "layout") as d:
        assert d.storage == "plain" and d.seal_id is None
        assert (d.model_name, d.config_name) == ("model.onnx", "infer_cfg.yml")
        assert d.read("infer_cfg.yml") == (models / "layout" / "infer_cfg.yml").read_bytes()
    with pytest.warns(UserWarning, match="PaddleX v1"):
        d = modelseal.open_dir(v1_cls, key, allow_paddlex_v1=True)
    assert d.storage == "paddlex-v1" and d.seal_id is None
    assert d.names == [".success", "inference.yml", "model.onnx"]
    assert d.read("model.onnx") == (models / "cls" / "model.onnx").read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        modelseal.open_dir(models / "cls")


def test_paddle_programs_name_their_parameters(models, key, tmp_path):
    src = models / "paddle" / "cls"
    if not (src / "inference.pdmodel").is_file():
        pytest.fail("the Paddle-format models of scripts/fetch_models.sh are missing")
    out = tmp_path / "paddle"
    modelseal.seal_dir(src, out, key)
    with modelseal.open_dir(out, key) as d:
        assert (d.model_name, d.params_name, d.config_name) == (
            "inference.pdmodel", "inference.pdiparams", None)
        assert d.read(d.params_name) == (src / "inference.pdiparams").read_bytes()
