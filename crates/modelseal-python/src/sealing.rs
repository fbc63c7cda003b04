//! The module functions on keys and sealed data: `generate_key`, `seal_dir`, `verify`,
//! `open_file` and `open_bytes`, each a call into the `modelseal` crate with the GIL released.

use std::ffi::CString;
use std::path::PathBuf;

use modelseal::{Key, OpenOptions, OutputFormat, SealOptions, Secret, Storage};
use pyo3::exceptions::PyUserWarning;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString};

use crate::errors::{value, Failure};
use crate::keys;

/// Issues a Python `UserWarning` (the caller's line is blamed).
pub(crate) fn warn(py: Python<'_>, message: &str) -> PyResult<()> {
    let text = CString::new(message.replace('\0', " ")).expect("no NUL left");
    PyErr::warn(py, &py.get_type::<PyUserWarning>(), &text, 1)
}

/// Warns about a PaddleX v1 directory opened on opt-in.
pub(crate) fn warn_if_paddlex_v1(py: Python<'_>, storage: Storage) -> PyResult<()> {
    if storage == Storage::PaddleV1 {
        warn(py, "opened a PaddleX v1 directory (allow_paddlex_v1=True): v1 uses one AES-GCM nonce per key and binds no manifest; migrate it with `modelseal rekey`")?;
    }
    Ok(())
}

/// Copies decrypted bytes into a new Python `bytes` object; `plain` is wiped when dropped.
pub(crate) fn to_bytes(py: Python<'_>, plain: Secret) -> PyResult<Bound<'_, PyBytes>> {
    PyBytes::new_with(py, plain.len(), |buf| {
        buf.copy_from_slice(&plain);
        Ok(())
    })
}

/// A new key: base64 of 32 bytes from the operating system's CSPRNG (44 characters), in the
/// format of `modelseal keygen` and PaddleX's tool. The returned `str` is a copy Python owns
/// and modelseal cannot wipe: write it to a key file (mode 0600) and drop it.
#[pyfunction]
pub(crate) fn generate_key(py: Python<'_>) -> PyResult<Bound<'_, PyString>> {
    let key = Key::generate().map_err(|e| Failure::from(e).into_pyerr(py))?;
    // Straight from the zeroize-on-drop text into the Python string: no other copy is left.
    Ok(PyString::new(py, &key.to_base64()))
}

fn output_format(format: &str) -> Result<OutputFormat, Failure> {
    match format {
        "v2" => Ok(OutputFormat::V2),
        "paddlex-v1" => Ok(OutputFormat::PaddleV1),
        other => Err(value(format!(
            "unknown format {other:?}; accepted: \"v2\", \"paddlex-v1\""
        ))),
    }
}

/// Seals every file of the plain model directory `model_dir` into the new directory `save_dir`
/// under `key` and returns the member names, sorted. The output appears whole or not at all;
/// the input is never touched. `format="paddlex-v1"` writes PaddleX's format v1 for old
/// loaders (one AES-GCM nonce per key: weak; a `UserWarning` says so). An existing earlier
/// sealing in `save_dir` is replaced only with `force=True`.
#[pyfunction]
#[pyo3(
    signature = (model_dir, save_dir, key, *, format = "v2".to_string(), force = false),
    text_signature = "(model_dir, save_dir, key, *, format='v2', force=False)"
)]
pub(crate) fn seal_dir(
    py: Python<'_>,
    model_dir: PathBuf,
    save_dir: PathBuf,
    key: &Bound<'_, PyAny>,
    format: String,
    force: bool,
) -> PyResult<Vec<String>> {
    let run = || -> Result<Vec<String>, Failure> {
        let key = keys::required(key)?;
        let format = output_format(&format)?;
        if format == OutputFormat::PaddleV1 {
            warn(py, modelseal::PADDLEX_V1_WARNING)?;
        }
        let opts = SealOptions {
            format,
            chunk_log2: modelseal::DEFAULT_CHUNK_LOG2,
            force,
        };
        py.detach(|| {
            let src = match OpenOptions::new().open(&model_dir) {
                Err(modelseal::Error::KeyRequired { .. }) => {
                    return Err(Failure::Usage(format!(
                        "{} is already sealed; `modelseal rekey` re-seals it under another key or format",
                        model_dir.display()
                    )))
                }
                other => other?,
            };
            let members = modelseal::seal_dir(&key, &src, &save_dir, &opts, &|_| {})?;
            Ok(members.into_iter().map(|m| m.name).collect())
        })
    };
    run().map_err(|f| f.into_pyerr(py))
}

/// Authenticates a sealed directory (or one sealed file) without writing plaintext anywhere:
/// every chunk of every member is decrypted, authenticated and hashed. Returns one dict per
/// member: `name`, `size` (plaintext bytes), `sha256` (hex of the plaintext) and `format`
/// (`"sealed-v2"`, `"paddlex-v1"`, or `"plain"` for a file a v1 sealing copies as it is).
/// Raises the first failure (`WrongKeyError`, `IntegrityError`, `NotSealedError`, ...).
#[pyfunction]
#[pyo3(signature = (path, key, *, allow_paddlex_v1 = false))]
pub(crate) fn verify<'py>(
    py: Python<'py>,
    path: PathBuf,
    key: &Bound<'py, PyAny>,
    allow_paddlex_v1: bool,
) -> PyResult<Bound<'py, PyList>> {
    let key = keys::required(key).map_err(|f| f.into_pyerr(py))?;
    let opts = OpenOptions::new()
        .key(key)
        .allow_paddlex_v1(allow_paddlex_v1);
    let report = py
        .detach(|| modelseal::verify(&path, &opts))
        .map_err(|e| Failure::from(e).into_pyerr(py))?;
    warn_if_paddlex_v1(py, report.storage)?;
    let out = PyList::empty(py);
    for (_, outcome) in report.members {
        let m = outcome.map_err(|e| Failure::from(e).into_pyerr(py))?;
        let d = PyDict::new(py);
        d.set_item("name", m.name)?;
        d.set_item("size", m.size)?;
        d.set_item("sha256", m.sha256)?;
        d.set_item("format", m.storage.as_str())?;
        out.append(d)?;
    }
    Ok(out)
}

/// Decrypts one sealed file (format v2, PaddleX v1, or FastDeploy's base64 v1) into memory and
/// returns its plaintext. Refuses a file that is not sealed (`NotSealedError`). The returned
/// `bytes` is a copy Python owns; modelseal wipes its own buffer.
#[pyfunction]
pub(crate) fn open_file<'py>(
    py: Python<'py>,
    path: PathBuf,
    key: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let key = keys::required(key).map_err(|f| f.into_pyerr(py))?;
    let plain = py
        .detach(|| modelseal::open_file(&key, &path))
        .map_err(|e| Failure::from(e).into_pyerr(py))?;
    to_bytes(py, plain)
}

/// Decrypts one sealed file image held in memory (`bytes` or `bytearray`: format v2, PaddleX v1
/// or FastDeploy's base64 v1) and returns its plaintext. Refuses data that is not sealed
/// (`NotSealedError`). The returned `bytes` is a copy Python owns.
#[pyfunction]
pub(crate) fn open_bytes<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    key: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let key = keys::required(key).map_err(|f| f.into_pyerr(py))?;
    let open = |bytes: &[u8]| modelseal::open_bytes(&key, bytes, "<bytes>");
    let plain = if let Ok(b) = data.cast::<PyBytes>() {
        // `bytes` is immutable and kept alive by `data`: read it without the GIL.
        let slice = b.as_bytes();
        py.detach(|| open(slice))
    } else if let Ok(b) = data.cast::<PyByteArray>() {
        let copy = b.to_vec();
        py.detach(|| open(&copy))
    } else {
        return Err(Failure::Type(format!(
            "data must be bytes or bytearray, not {}",
            keys::type_name(data)
        ))
        .into_pyerr(py));
    };
    to_bytes(py, plain.map_err(|e| Failure::from(e).into_pyerr(py))?)
}
