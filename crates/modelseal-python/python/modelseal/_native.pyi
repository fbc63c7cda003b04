"""Type stubs of the extension module `modelseal._native` (re-exported by `modelseal`)."""

import os
import pathlib
import sys
from types import TracebackType
from typing import Any, Dict, List, Literal, Optional, Sequence, Type, Union, overload

import numpy as np
import numpy.typing as npt

if sys.version_info >= (3, 10):
    from typing import TypeAlias
else:
    from typing_extensions import TypeAlias

__version__: str

StrPath: TypeAlias = Union[str, "os.PathLike[str]"]
#: A key: base64 text of 32 bytes (as `generate_key` returns it), or 32 raw bytes.
KeyLike: TypeAlias = Union[str, bytes, bytearray]
#: An image: a path, or a numpy uint8 array of shape (H, W, 3) in BGR order (as cv2.imread returns it).
ImageLike: TypeAlias = Union[StrPath, npt.NDArray[np.uint8]]
#: One result object of the JSON schema (docs/JSON.md) as a dict.
Result: TypeAlias = Dict[str, Any]

class Error(Exception):
    """A modelseal failure, with the CLI's kind name and the precise cause."""

    kind: str
    """usage, io, wrong_key, integrity, unsupported, invalid_input or backend."""
    name: Optional[str]
    """The precise cause (e.g. "chunk_corrupted", "key_required"), or None."""

class BadKeyError(Error):
    """A key that is not base64 of exactly 32 bytes, or not 32 raw bytes."""

class WrongKeyError(Error):
    """The key does not open this sealed data."""

class IntegrityError(Error):
    """Sealed data tampered with, truncated, extended, swapped, mixed, or not the pinned sealing."""

class UnsupportedError(Error):
    """Input this build does not open (format version, PaddleX v1 without opt-in, model, config)."""

class NotSealedError(UnsupportedError):
    """Not sealed data where sealed data is required (a plain directory given with a key)."""

def generate_key() -> str:
    """A new key: base64 of 32 bytes from the OS CSPRNG (44 characters)."""

def seal_dir(
    model_dir: StrPath,
    save_dir: StrPath,
    key: KeyLike,
    *,
    format: Literal["v2", "paddlex-v1"] = "v2",
    force: bool = False,
) -> List[str]:
    """Seals every file of `model_dir` into the new directory `save_dir`; returns the member names."""

def verify(path: StrPath, key: KeyLike, *, allow_paddlex_v1: bool = False) -> List[Dict[str, Any]]:
    """Authenticates every byte of a sealed directory or file: one dict per member
    (name, size, sha256, format)."""

def open_file(path: StrPath, key: KeyLike) -> bytes:
    """The plaintext of one sealed file (v2, PaddleX v1 or FastDeploy's base64 v1)."""

def open_bytes(data: Union[bytes, bytearray], key: KeyLike) -> bytes:
    """The plaintext of one sealed file image held in memory."""

def open_dir(
    path: StrPath,
    key: Optional[KeyLike] = None,
    *,
    key_file: Optional[StrPath] = None,
    allow_paddlex_v1: bool = False,
    seal_id: Optional[str] = None,
) -> SealedDir:
    """Opens a model directory under the open policy."""

class SealedDir:
    """A model directory opened for reading; a context manager that wipes its key on exit."""

    @property
    def names(self) -> List[str]:
        """Member names, sorted."""
    @property
    def storage(self) -> Literal["sealed-v2", "paddlex-v1", "plain"]:
        """How the directory is stored."""
    @property
    def seal_id(self) -> Optional[str]:
        """The sealing id of a v2 directory (32 hex digits), else None."""
    @property
    def model_name(self) -> Optional[str]:
        """The member that is the model, or None."""
    @property
    def params_name(self) -> Optional[str]:
        """The member holding a Paddle program's parameters, or None."""
    @property
    def config_name(self) -> Optional[str]:
        """The member that is the config, or None."""
    @property
    def path(self) -> pathlib.Path:
        """The directory this was opened from."""
    @property
    def closed(self) -> bool:
        """Whether the directory was closed (its key wiped)."""
    def read(self, name: str) -> bytes:
        """The plaintext of member `name`, decrypted and authenticated in memory."""
    def close(self) -> None:
        """Wipes the key this directory holds; later reads fail."""
    def __enter__(self) -> SealedDir: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

class Predictor:
    """A model opened for classification, detection or segmentation from a (sealed) directory."""

    def __init__(
        self,
        model_dir: StrPath,
        key: Optional[KeyLike] = None,
        *,
        key_file: Optional[StrPath] = None,
        backend: Literal["auto", "onnxruntime", "tract"] = "auto",
        threads: Optional[int] = None,
        use_gpu: bool = False,
        gpu_id: int = 0,
        use_trt: bool = False,
        allow_paddlex_v1: bool = False,
        seal_id: Optional[str] = None,
    ) -> None: ...
    @property
    def task(self) -> Literal["classification", "detection", "segmentation"]:
        """The task."""
    @property
    def labels(self) -> List[str]:
        """Class labels in class-id order."""
    @property
    def backend(self) -> Literal["onnxruntime", "tract"]:
        """The inference backend in use."""
    @property
    def model_dir(self) -> pathlib.Path:
        """The model directory this was opened from."""
    @property
    def sealed(self) -> bool:
        """Whether the model came from a sealed directory."""
    @overload
    def predict(
        self,
        x: ImageLike,
        *,
        batch_size: int = 1,
        topk: int = 1,
        threshold: Optional[float] = None,
    ) -> Result: ...
    @overload
    def predict(
        self,
        x: Sequence[ImageLike],
        *,
        batch_size: int = 1,
        topk: int = 1,
        threshold: Optional[float] = None,
    ) -> List[Result]: ...
    def predict(
        self,
        x: Union[ImageLike, Sequence[ImageLike]],
        *,
        batch_size: int = 1,
        topk: int = 1,
        threshold: Optional[float] = None,
    ) -> Union[Result, List[Result]]:
        """Predicts one image (one dict) or a list of images (a list of dicts)."""
