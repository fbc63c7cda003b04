//! File-system helpers: directory listing under the symbolic-link rule, secret-safe reads, atomic
//! creation of files and directories. Outputs appear whole or not at all; inputs are never overwritten.

mod existing;
mod listing;
mod output;
mod read;
mod write;

pub use listing::{list_files, SourceFile};
pub(crate) use output::OutputDir;
pub(crate) use read::{read_prefix, read_secret, read_up_to};
pub(crate) use write::write_new_file;

use crate::error::{Error, Result};
use crate::key::fill_random;
use std::path::{Path, PathBuf};

/// Twelve random hex digits, for the names of temporary siblings.
fn random_suffix() -> Result<String> {
    let mut b = [0u8; 6];
    fill_random(&mut b)?;
    Ok(hex::encode(b))
}

/// The parent of `path` (`.` when it has none) and its final component, which must be UTF-8.
fn split_parent(path: &Path) -> Result<(PathBuf, String)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::usage(path, "needs a final path component in UTF-8"))?
        .to_string();
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}
