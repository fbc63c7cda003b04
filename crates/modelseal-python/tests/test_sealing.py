"""Keys, the exception classes, seal_dir, verify, open_file and open_bytes: the refusals first."""

import base64
import hashlib
import os
import pathlib
import shutil

import pytest

import modelseal
from conftest import flip_byte

BAD_KEYS = ["", "   ", "MTIz", "not base64!!", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaA==",
            b"short", b"\xff" * 31, b"\xff" * 33, bytearray(b"\x00" * 16)]


def test_exceptions_form_one_hierarchy():
    for cls in [modelseal.BadKeyError, modelseal.WrongKeyError, modelseal.IntegrityError,
                modelseal.UnsupportedError, modelseal.NotSealedError]:
        assert issubclass(cls, modelseal.Error), cls
        assert cls.__module__ == "modelseal", cls
        assert cls.__doc__, cls
    assert issubclass(modelseal.NotSealedError, modelseal.UnsupportedError)
    assert issubclass(modelseal.Error, Exception)
    assert not issubclass(modelseal.WrongKeyError, modelseal.IntegrityError)


@pytest.mark.parametrize("bad", BAD_KEYS, ids=repr)
def test_malformed_keys_raise_bad_key_error_without_echoing_them(models, tmp_path, bad):
    for call in [lambda: modelseal.seal_dir(models / "cls", tmp_path / "out", bad),
                 lambda: modelseal.open_dir(models / "cls", bad),
                 lambda: modelseal.open_bytes(b"x", bad)]:
        with pytest.raises(modelseal.BadKeyError) as e:
            call()
        assert e.value.kind == "usage" and e.value.name == "bad_key"
        text = bad if isinstance(bad, str) else bad.decode("latin-1")
        if len(text.strip()) > 3:
            assert text.strip() not in str(e.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bad", [12345, 1.5, ["k"], object()], ids=repr)
def test_keys_of_other_types_are_type_errors(models, bad):
    with pytest.raises(TypeError, match="key must be"):
        modelseal.open_dir(models / "cls", bad)


def test_generated_keys_are_44_characters_of_32_random_bytes():
    keys = {modelseal.generate_key() for _ in range(8)}
    assert len(keys) == 8
    for k in keys:
        assert len(k) == 44 and len(base64.b64decode(k, validate=True)) == 32


def test_seal_dir_refusals(models, tmp_path, key, sealed):
    with pytest.raises(ValueError, match="unknown format"):
        modelseal.seal_dir(models / "cls", tmp_path / "a", key, format="v3")
    with pytest.raises(modelseal.Error) as e:
        modelseal.seal_dir(models / "cls", tmp_path / "b", None)
    assert e.value.kind == "usage"
    with pytest.raises(modelseal.Error) as e:
        modelseal.seal_dir(tmp_path / "missing", tmp_path / "c", key)
    assert e.value.kind == "io"
    # An already sealed directory is not sealed again (re-keying is `modelseal rekey`).
    with pytest.raises(modelseal.Error, match="already sealed") as e:
        modelseal.seal_dir(sealed["cls"], tmp_path / "d", key)
    assert e.value.kind == "usage"
    # An earlier sealing is replaced only with force=True.
    out = tmp_path / "e"
    modelseal.seal_dir(models / "cls", out, key)
    first = modelseal.open_dir(out, key).seal_id
    with pytest.raises(modelseal.Error) as e:
        modelseal.seal_dir(models / "cls", out, key)
    assert (e.value.kind, e.value.name) == ("usage", "output_exists")
    assert modelseal.open_dir(out, key).seal_id == first
    modelseal.seal_dir(models / "cls", out, key, force=True)
    assert modelseal.open_dir(out, key).seal_id != first
    for name in ["a", "b", "c", "d"]:
        assert not (tmp_path / name).exists()


def test_seal_dir_writes_every_member_sealed(models, tmp_path, key):
    out = tmp_path / "s"
    names = modelseal.seal_dir(models / "layout", out, key)
    assert names == sorted(os.listdir(models / "layout"))
    files = sorted(os.listdir(out))
    assert files == sorted([n + ".sealed" for n in names] + ["modelseal.manifest"])
    for n in names:
        plain = (models / "layout" / n).read_bytes()
        sealed = (out / (n + ".sealed")).read_bytes()
        assert plain[:64] not in sealed
        assert modelseal.open_file(out / (n + ".sealed"), key) == plain


def test_verify_refusals(models, sealed, v1_cls, key, copy_of):
    with pytest.raises(modelseal.WrongKeyError) as e:
        modelseal.verify(sealed["cls"], modelseal.generate_key())
    assert e.value.kind == "wrong_key"
    with pytest.raises(modelseal.NotSealedError) as e:
        modelseal.verify(models / "cls", key)
    assert (e.value.kind, e.value.name) == ("unsupported", "not_sealed")
    with pytest.raises(modelseal.UnsupportedError) as e:
        modelseal.verify(v1_cls, key)
    assert e.value.name == "paddlex_v1_not_allowed"
    tampered = copy_of(sealed["cls"])
    flip_byte(tampered / "model.onnx.sealed")
    with pytest.raises(modelseal.IntegrityError, match="model.onnx") as e:
        modelseal.verify(tampered, key)
    assert e.value.kind == "integrity"
    removed = copy_of(sealed["cls"])
    os.remove(removed / "inference.yml.sealed")
    with pytest.raises(modelseal.IntegrityError) as e:
        modelseal.verify(removed, key)
    assert e.value.name == "member_missing"
    added = copy_of(sealed["cls"])
    (added / "extra.txt").write_text("decoy")
    with pytest.raises(modelseal.IntegrityError) as e:
        modelseal.verify(added, key)
    assert e.value.name == "member_added"


def test_verify_reports_every_member(models, sealed, v1_cls, key):
    report = modelseal.verify(sealed["layout"], key)
    assert [m["name"] for m in report] == sorted(os.listdir(models / "layout"))
    for m in report:
        plain = (models / "layout" / m["name"]).read_bytes()
        assert m == {"name": m["name"], "size": len(plain),
                     "sha256": hashlib.sha256(plain).hexdigest(), "format": "sealed-v2"}
    with pytest.warns(UserWarning, match="PaddleX v1"):
        v1 = modelseal.verify(v1_cls, key, allow_paddlex_v1=True)
    formats = {m["name"]: m["format"] for m in v1}
    assert formats == {"model.onnx": "paddlex-v1", "inference.yml": "paddlex-v1", ".success": "plain"}
    # One sealed file verifies too.
    (one,) = modelseal.verify(sealed["cls"] / "model.onnx.sealed", key)
    assert one["sha256"] == hashlib.sha256((models / "cls" / "model.onnx").read_bytes()).hexdigest()


def test_open_file_and_bytes_refusals(models, sealed, key, tmp_path):
    member = sealed["cls"] / "inference.yml.sealed"
    plain = models / "cls" / "inference.yml"
    with pytest.raises(modelseal.NotSealedError):
        modelseal.open_file(plain, key)
    with pytest.raises(modelseal.NotSealedError):
        modelseal.open_bytes(plain.read_bytes(), key)
    with pytest.raises(modelseal.WrongKeyError):
        modelseal.open_file(member, modelseal.generate_key())
    with pytest.raises(modelseal.WrongKeyError):
        modelseal.open_bytes(member.read_bytes(), modelseal.generate_key())
    data = bytearray(member.read_bytes())
    data[-5] ^= 0x80
    with pytest.raises(modelseal.IntegrityError):
        modelseal.open_bytes(bytes(data), key)
    with pytest.raises(modelseal.IntegrityError):
        modelseal.open_bytes(member.read_bytes()[:-1], key)
    with pytest.raises(TypeError, match="bytes or bytearray"):
        modelseal.open_bytes(str(member), key)
    with pytest.raises(modelseal.Error) as e:
        modelseal.open_file(tmp_path / "missing.sealed", key)
    assert e.value.kind == "io"


def test_open_file_and_bytes_return_the_plaintext(models, sealed, v1_cls, key):
    for d, suffix in [(sealed["cls"], ".sealed"), (v1_cls, ".encrypted")]:
        for name in ["model.onnx", "inference.yml"]:
            plain = (models / "cls" / name).read_bytes()
            path = d / (name + suffix)
            assert modelseal.open_file(path, key) == plain
            assert modelseal.open_file(str(path), key) == plain
            assert modelseal.open_bytes(path.read_bytes(), key) == plain
            assert modelseal.open_bytes(bytearray(path.read_bytes()), key) == plain
    raw = base64.b64decode(key)
    assert modelseal.open_file(sealed["cls"] / "inference.yml.sealed", raw) == (
        models / "cls" / "inference.yml").read_bytes()


def test_paddlex_v1_sealing_looks_like_paddlex_tool_output(v1_cls, models):
    assert sorted(os.listdir(v1_cls)) == [".success", "inference.yml.encrypted", "model.onnx.encrypted"]
    for n in ["model.onnx", "inference.yml"]:
        assert (v1_cls / (n + ".encrypted")).read_bytes()[:7] == b"PADDLE1"
        assert (models / "cls" / n).read_bytes()[:64] not in (v1_cls / (n + ".encrypted")).read_bytes()


def test_sealing_a_directory_with_a_nested_file(tmp_path, key, models):
    src = tmp_path / "src"
    shutil.copytree(models / "cls", src)
    (src / "extra").mkdir()
    (src / "extra" / "labels.txt").write_text("a\nb\n")
    names = modelseal.seal_dir(src, tmp_path / "out", key)
    assert "extra/labels.txt" in names
    with modelseal.open_dir(tmp_path / "out", key) as d:
        assert d.read("extra/labels.txt") == b"a\nb\n"
    assert pathlib.Path(tmp_path / "out" / "extra" / "labels.txt.sealed").is_file()


def test_a_v1_warning_turned_into_an_error_stops_the_sealing(models, tmp_path, key):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="nonce"):
            modelseal.seal_dir(models / "cls", tmp_path / "v1", key, format="paddlex-v1")
    assert not (tmp_path / "v1").exists()
