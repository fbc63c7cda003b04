//! Model members from a sealed (v2 or PaddleX v1) or plain directory through the `modelseal` crate.
//! Decrypted bytes stay in zeroize-on-drop memory and are never written to disk.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::source::{MemberBytes, ModelSource};

/// A model directory opened through the `modelseal` crate: plain, sealed v2 or PaddleX v1.
pub struct SealedSource {
    dir: PathBuf,
    inner: modelseal::ModelDir,
}

impl SealedSource {
    /// Opens `dir`: a plain directory (no key), a sealed v2 directory or a PaddleX v1 directory
    /// (`*.encrypted`) with `key`.
    pub fn open(dir: &Path, key: Option<&modelseal::Key>) -> Result<Self> {
        let inner = modelseal::ModelDir::open(dir, key).map_err(|e| Error::ModelDir {
            dir: dir.to_path_buf(),
            message: "cannot open".into(),
            source: Some(Box::new(e)),
        })?;
        Ok(SealedSource {
            dir: dir.to_path_buf(),
            inner,
        })
    }
}

impl ModelSource for SealedSource {
    fn dir(&self) -> &Path {
        &self.dir
    }
    fn names(&self) -> Vec<String> {
        self.inner.names()
    }
    fn read(&self, name: &str) -> Result<MemberBytes> {
        let secret = self.inner.read(name).map_err(|e| Error::ModelDir {
            dir: self.dir.clone(),
            message: format!("cannot read member {name}"),
            source: Some(Box::new(e)),
        })?;
        Ok(MemberBytes::Sealed(secret))
    }
    fn is_sealed(&self) -> bool {
        self.inner.is_sealed()
    }
}
