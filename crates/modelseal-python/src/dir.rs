//! `open_dir` and `SealedDir`: a model directory opened through the one open policy
//! (`modelseal::OpenOptions`), whose members are read decrypted and authenticated into memory.

use std::path::PathBuf;
use std::sync::RwLock;

use modelseal::{ModelDir, OpenOptions, SealId, Storage};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::errors::{value, Failure};
use crate::keys;
use crate::members::{self, Members};
use crate::sealing::{to_bytes, warn_if_paddlex_v1};

/// The open policy for the Python arguments: a key (or none), PaddleX v1 on opt-in, a pinned
/// sealing id (32 hexadecimal digits).
pub(crate) fn policy(
    key: Option<&Bound<'_, PyAny>>,
    key_file: Option<PathBuf>,
    allow_paddlex_v1: bool,
    seal_id: Option<&str>,
) -> Result<OpenOptions, Failure> {
    let seal_id = seal_id
        .map(|s| s.parse::<SealId>().map_err(|e| value(e.to_string())))
        .transpose()?;
    Ok(OpenOptions::new()
        .key(keys::resolve(key, key_file)?)
        .allow_paddlex_v1(allow_paddlex_v1)
        .expect_seal_id(seal_id))
}

/// A model directory opened for reading (sealed v2, PaddleX v1 on opt-in, or plain without a
/// key), as `open_dir` returns it.
///
/// Attributes: `names` (member names, sorted), `storage` (`"sealed-v2"`, `"paddlex-v1"` or
/// `"plain"`), `seal_id` (32 hex digits for a v2 sealing, else None), `model_name`,
/// `params_name` and `config_name` (the member that is the model, its parameters and its
/// config, or None), `path`, `closed`.
///
/// `read(name)` returns a member's plaintext, decrypted and authenticated in memory. Used as a
/// context manager (`with modelseal.open_dir(...) as d:`), the directory wipes the key it
/// holds on exit and refuses further reads; `close()` does the same. The `bytes` that `read`
/// returns are copies Python owns: modelseal cannot wipe them.
#[pyclass(module = "modelseal", name = "SealedDir", frozen)]
pub struct SealedDir {
    path: PathBuf,
    names: Vec<String>,
    storage: Storage,
    seal_id: Option<String>,
    members: Members,
    dir: RwLock<Option<ModelDir>>,
}

impl SealedDir {
    fn new(path: PathBuf, dir: ModelDir) -> SealedDir {
        SealedDir {
            path,
            names: dir.names(),
            storage: dir.storage(),
            seal_id: dir.seal_id().map(|id| id.to_string()),
            members: members::of_dir(&dir),
            dir: RwLock::new(Some(dir)),
        }
    }

    fn read_secret(&self, name: &str) -> Result<modelseal::Secret, Failure> {
        let guard = self.dir.read().unwrap_or_else(|p| p.into_inner());
        let dir = guard.as_ref().ok_or_else(|| {
            Failure::Usage(format!(
                "{}: the directory was closed (its key wiped); open it again to read",
                self.path.display()
            ))
        })?;
        Ok(dir.read(name)?)
    }

    fn wipe(&self) {
        let taken = self.dir.write().unwrap_or_else(|p| p.into_inner()).take();
        // Dropping the directory wipes the key it holds.
        drop(taken);
    }
}

#[pymethods]
impl SealedDir {
    /// Member names, sorted.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    /// How the directory is stored: "sealed-v2", "paddlex-v1" or "plain".
    #[getter]
    fn storage(&self) -> &'static str {
        self.storage.as_str()
    }

    /// The sealing id of a v2 directory (32 hex digits, as `modelseal verify` prints it), else None.
    #[getter]
    fn seal_id(&self) -> Option<String> {
        self.seal_id.clone()
    }

    /// The member that is the model (as the predictor picks it), or None.
    #[getter]
    fn model_name(&self) -> Option<String> {
        self.members.model.clone()
    }

    /// The member holding the parameters of a Paddle program, or None.
    #[getter]
    fn params_name(&self) -> Option<String> {
        self.members.params.clone()
    }

    /// The member that is the config (model.yml, inference.yml, infer_cfg.yml, deploy.yaml), or None.
    #[getter]
    fn config_name(&self) -> Option<String> {
        self.members.config.clone()
    }

    /// The directory this was opened from.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Whether the directory was closed (its key wiped).
    #[getter]
    fn closed(&self) -> bool {
        self.dir.read().map(|g| g.is_none()).unwrap_or(true)
    }

    /// The plaintext of member `name`, decrypted and authenticated in memory (the GIL is released
    /// meanwhile). Raises IntegrityError for a tampered member and Error (name
    /// "member_missing") for an unknown name. The `bytes` is a copy Python owns.
    fn read<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyBytes>> {
        let plain = py
            .detach(|| self.read_secret(&name))
            .map_err(|f| f.into_pyerr(py))?;
        to_bytes(py, plain)
    }

    /// Wipes the key this directory holds; later reads fail. Called on leaving a `with` block.
    fn close(&self) {
        self.wipe();
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, PyTuple>) -> bool {
        self.wipe();
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "<modelseal.SealedDir {:?} {}, {} members{}>",
            self.path.display().to_string(),
            self.storage.as_str(),
            self.names.len(),
            if self.closed() { ", closed" } else { "" }
        )
    }
}

/// Opens the model directory `path` under the open policy and returns a `SealedDir`.
///
/// With a key (`key`: base64 `str` or 32 raw bytes; or `key_file`: a file holding the base64
/// key) only a sealing that verifies opens: a plain directory is refused (`NotSealedError`),
/// a wrong key raises `WrongKeyError`, a tampered, added, removed or swapped member
/// `IntegrityError`. Without a key only a plain directory opens (a sealed one raises `Error`
/// with name "key_required"). PaddleX v1 directories open only with `allow_paddlex_v1=True`
/// (with a `UserWarning`); `seal_id` (32 hex digits) refuses every other sealing, an older one
/// under the same key included.
#[pyfunction]
#[pyo3(signature = (path, key = None, *, key_file = None, allow_paddlex_v1 = false, seal_id = None))]
pub(crate) fn open_dir(
    py: Python<'_>,
    path: PathBuf,
    key: Option<&Bound<'_, PyAny>>,
    key_file: Option<PathBuf>,
    allow_paddlex_v1: bool,
    seal_id: Option<String>,
) -> PyResult<SealedDir> {
    let opts = policy(key, key_file, allow_paddlex_v1, seal_id.as_deref())
        .map_err(|f| f.into_pyerr(py))?;
    let dir = py
        .detach(|| opts.open(&path))
        .map_err(|e| Failure::from(e).into_pyerr(py))?;
    warn_if_paddlex_v1(py, dir.storage())?;
    Ok(SealedDir::new(path, dir))
}
