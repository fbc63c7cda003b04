//! The Python extension `modelseal._native` (re-exported as `modelseal`): sealing, verifying and
//! opening model directories, and the SDK's predictor, on the `modelseal` crate's open policy.
//!
//! Every open goes through `modelseal::OpenOptions`; predictions come from
//! `modelseal_deploy::Predictor` and are turned into dicts by `modelseal_deploy::json`, so that
//! they are the objects `modelseal classify|detect|segment --json` prints. The GIL is released
//! while files are decrypted, images decoded and models run. `unsafe` code lives only inside
//! pyo3's macros (the extension's boundary); this crate writes none.
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod dir;
mod errors;
mod inputs;
mod keys;
mod members;
mod ort;
mod predict;
mod sealing;
mod values;

use pyo3::prelude::*;

/// Seal ML model directories with a 256-bit key and run them from memory only.
///
/// A model owner seals an exported model directory (`seal_dir`); a service opens the sealed
/// directory with the key (`open_dir`, `Predictor`): every member is authenticated and decrypted
/// into memory, never onto the disk. With a key only a sealing that verifies is opened; a plain
/// directory runs without a key. PaddleX v1 directories open only with `allow_paddlex_v1=True`.
///
/// Keys are base64 strings of 32 bytes (`generate_key`), or 32 raw bytes. A key held in a Python
/// `str` or `bytes`, and the `bytes` that `SealedDir.read` and `open_file` return, are copies
/// that Python's memory manager owns: modelseal cannot wipe them. Prefer `key_file=` and drop
/// decrypted bytes as soon as they have been handed on.
///
/// Errors are `modelseal.Error` or one of its subclasses (`BadKeyError`, `WrongKeyError`,
/// `IntegrityError`, `UnsupportedError`, `NotSealedError`), with `.kind` (the kind name the
/// CLI's JSON output uses: usage, io, wrong_key, integrity, unsupported, invalid_input, backend)
/// and `.name` (the precise cause, e.g. `chunk_corrupted`, or `None`).
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_function(wrap_pyfunction!(sealing::generate_key, m)?)?;
    m.add_function(wrap_pyfunction!(sealing::seal_dir, m)?)?;
    m.add_function(wrap_pyfunction!(sealing::verify, m)?)?;
    m.add_function(wrap_pyfunction!(sealing::open_file, m)?)?;
    m.add_function(wrap_pyfunction!(sealing::open_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(dir::open_dir, m)?)?;
    m.add_class::<dir::SealedDir>()?;
    m.add_class::<predict::Predictor>()?;
    Ok(())
}
