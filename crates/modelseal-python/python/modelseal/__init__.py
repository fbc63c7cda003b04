"""Seal ML model directories with a 256-bit key and run them from memory only.

A model owner seals an exported model directory (``seal_dir``); a service opens the sealed
directory with the key (``open_dir``, ``Predictor``): every member is authenticated and decrypted
into memory, never onto the disk. With a key only a sealing that verifies is opened; a plain
directory runs without a key. PaddleX v1 directories open only with ``allow_paddlex_v1=True``.

    import modelseal
    key = modelseal.generate_key()
    modelseal.seal_dir("exported/", "sealed/", key)
    p = modelseal.Predictor("sealed/", key)
    print(p.predict("image.jpg"))            # the CLI's JSON object, as a dict
    with modelseal.open_dir("sealed/", key) as d:
        model = d.read(d.model_name)         # plaintext bytes, e.g. for onnxruntime

Keys are base64 strings of 32 bytes (``generate_key``) or 32 raw bytes; ``key_file=`` reads one
from a file. A key held in a Python ``str`` or ``bytes``, and the ``bytes`` that
``SealedDir.read``, ``open_file`` and ``open_bytes`` return, are copies owned by Python's memory
manager: modelseal cannot wipe them. Prefer ``key_file=`` and drop decrypted bytes as soon as
they have been handed on.

Errors are ``modelseal.Error`` or one of its subclasses (``BadKeyError``, ``WrongKeyError``,
``IntegrityError``, ``UnsupportedError``, ``NotSealedError``), with ``.kind`` (the kind name of
the CLI's JSON output: usage, io, wrong_key, integrity, unsupported, invalid_input, backend) and
``.name`` (the precise cause, e.g. ``chunk_corrupted``, or None).
"""

from ._native import (
    BadKeyError,
    Error,
    IntegrityError,
    NotSealedError,
    Predictor,
    SealedDir,
    UnsupportedError,
    WrongKeyError,
    __version__,
    generate_key,
    open_bytes,
    open_dir,
    open_file,
    seal_dir,
    verify,
)

__all__ = [
    "__version__",
    "generate_key",
    "seal_dir",
    "verify",
    "open_dir",
    "open_file",
    "open_bytes",
    "SealedDir",
    "Predictor",
    "Error",
    "BadKeyError",
    "WrongKeyError",
    "IntegrityError",
    "UnsupportedError",
    "NotSealedError",
]
