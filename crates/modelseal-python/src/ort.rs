//! Finding the ONNX Runtime library from inside the interpreter, starting no process:
//! `ORT_DYLIB_PATH` (read by the SDK), else the `onnxruntime` package that `importlib` finds
//! (without importing it), else the SDK's own search; none found means tract for `auto`.

use std::path::PathBuf;

use modelseal_deploy::backend::onnxruntime;
use pyo3::prelude::*;

/// The directories holding the `onnxruntime` package (`submodule_search_locations` of its spec
/// with the package name dropped), as `importlib.util.find_spec` sees them. Nothing is imported.
fn package_parents(py: Python<'_>) -> PyResult<Vec<PathBuf>> {
    let spec = py
        .import("importlib.util")?
        .call_method1("find_spec", ("onnxruntime",))?;
    if spec.is_none() {
        return Ok(Vec::new());
    }
    let locations = spec.getattr("submodule_search_locations")?;
    if locations.is_none() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for loc in locations.try_iter()? {
        let dir: PathBuf = loc?.extract()?;
        if let Some(parent) = dir.parent() {
            out.push(parent.to_path_buf());
        }
    }
    Ok(out)
}

/// The library of the `onnxruntime` Python package (`onnxruntime/capi/libonnxruntime*`) visible
/// to this interpreter, if any.
pub(crate) fn python_package_library(py: Python<'_>) -> Option<PathBuf> {
    let parents = package_parents(py).ok()?;
    onnxruntime::library_in_site_dirs(&parents)
}

/// Hands the SDK the library to use for ONNX Runtime sessions: unless `ORT_DYLIB_PATH` is set
/// (the SDK reads it), the `onnxruntime` package's library when there is one. Without either,
/// the SDK searches next to the interpreter and in the loader's path, and `auto` falls back to
/// tract when that finds nothing.
pub(crate) fn prepare(py: Python<'_>) {
    if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        if let Some(lib) = python_package_library(py) {
            onnxruntime::use_library(lib);
        }
    }
}
