//! Where model members come from: a sealed directory (decrypted in memory) or a plain one.
//! The SDK only asks "give me the bytes of member X"; it knows nothing of file formats.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Bytes of one model member, wiped from memory when dropped.
pub enum MemberBytes {
    /// Read from a plain file.
    Plain(Zeroizing<Vec<u8>>),
    /// Decrypted by `modelseal` (zeroized on drop by its own type; no extra copy).
    Sealed(modelseal::Secret),
}

impl std::ops::Deref for MemberBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            MemberBytes::Plain(v) => v,
            MemberBytes::Sealed(s) => s,
        }
    }
}

/// A source of model members (logical names relative to the model directory, `/`-separated).
pub trait ModelSource {
    /// The directory this source was opened from (for messages).
    fn dir(&self) -> &Path;
    /// Logical member names.
    fn names(&self) -> Vec<String>;
    /// The plaintext bytes of one member, in zeroize-on-drop memory.
    fn read(&self, name: &str) -> Result<MemberBytes>;
    /// Whether the members are sealed (encrypted) at rest.
    fn is_sealed(&self) -> bool;
}

/// A plain (unencrypted) model directory read straight from disk; used by tests and tools
/// that must not depend on the sealed format.
pub struct PlainSource {
    dir: PathBuf,
}

impl PlainSource {
    /// Opens a plain directory.
    pub fn open(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Error::ModelDir {
                dir: dir.to_path_buf(),
                message: "not a directory".into(),
                source: None,
            });
        }
        Ok(PlainSource {
            dir: dir.to_path_buf(),
        })
    }
}

impl ModelSource for PlainSource {
    fn dir(&self) -> &Path {
        &self.dir
    }
    fn names(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                if e.file_type().map(|t| t.is_file()).unwrap_or(false) {
                    if let Some(n) = e.file_name().to_str() {
                        out.push(n.to_string());
                    }
                }
            }
        }
        out.sort();
        out
    }
    fn read(&self, name: &str) -> Result<MemberBytes> {
        std::fs::read(self.dir.join(name))
            .map(|v| MemberBytes::Plain(Zeroizing::new(v)))
            .map_err(|e| Error::ModelDir {
                dir: self.dir.clone(),
                message: format!("cannot read member {name}"),
                source: Some(Box::new(e)),
            })
    }
    fn is_sealed(&self) -> bool {
        false
    }
}
