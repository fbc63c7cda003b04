"""The package itself: version, documentation on everything, type stubs that match the module."""

import ast
import importlib.resources
import inspect
import pathlib
import pydoc
import re

import modelseal

ROOT = pathlib.Path(__file__).resolve().parents[3]
STUB = pathlib.Path(modelseal.__file__).with_name("_native.pyi")


def workspace_version():
    text = (ROOT / "Cargo.toml").read_text()
    return re.search(r'\[workspace\.package\][^\[]*?version\s*=\s*"([^"]+)"', text).group(1)


def test_version_is_the_crates():
    assert modelseal.__version__ == workspace_version()


def test_everything_public_is_documented():
    assert len(modelseal.__doc__) > 200
    for name in modelseal.__all__:
        obj = getattr(modelseal, name)
        if name == "__version__":
            continue
        assert obj.__doc__ and len(obj.__doc__.strip()) > 20, name
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for attr, member in vars(obj).items():
                if not attr.startswith("_"):
                    assert member.__doc__, f"{name}.{attr}"
    text = pydoc.render_doc(modelseal, renderer=pydoc.plaintext)
    for name in modelseal.__all__:
        assert name in text, name
    assert "predict(self, /, x, *, batch_size=1, topk=1, threshold=None)" in text
    assert "seal_dir(model_dir, save_dir, key, *, format='v2', force=False)" in text
    assert "Predictor(model_dir, key=None, *, key_file=None, backend='auto', threads=None" in text
    assert "Ellipsis" not in text


def test_stubs_and_py_typed_ship_with_the_package():
    files = importlib.resources.files("modelseal")
    assert files.joinpath("py.typed").is_file()
    assert STUB.is_file()


def test_stubs_describe_the_module():
    tree = ast.parse(STUB.read_text())
    top = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            top[node.name] = node
        elif isinstance(node, ast.AnnAssign):
            top[node.target.id] = node
    assert set(top) >= set(modelseal.__all__)
    for name, node in top.items():
        if name not in modelseal.__all__:
            continue
        obj = getattr(modelseal, name)
        if isinstance(node, ast.FunctionDef):
            sig = inspect.signature(obj)
            stub_args = [a.arg for a in node.args.args + node.args.kwonlyargs]
            assert stub_args == list(sig.parameters), name
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("__"):
                    member = getattr(obj, item.name)
                    if isinstance(member, property) or type(member).__name__ == "getset_descriptor":
                        continue
                    sig = inspect.signature(member)
                    stub_args = [a.arg for a in item.args.args + item.args.kwonlyargs]
                    assert stub_args == list(sig.parameters), f"{name}.{item.name}"
            runtime = {a for a in vars(obj) if not a.startswith("_")}
            stubbed = {i.name for i in node.body if isinstance(i, ast.FunctionDef)}
            assert runtime <= stubbed, f"{name}: {runtime - stubbed} not in the stub"
