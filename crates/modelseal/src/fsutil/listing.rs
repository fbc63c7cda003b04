//! Listing a model directory: its regular files, recursively, sorted by name, with symbolic
//! links followed only when they resolve inside the directory (unless told otherwise).

use crate::error::{Error, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// A regular file found in a model directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// '/'-separated path relative to the directory.
    pub name: String,
    /// Path on disk.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
}

/// Lists the regular files under `root` recursively, sorted by name. A symbolic link is followed
/// when it resolves inside `root`; one that resolves outside is refused ([`Error::SymlinkOutside`],
/// naming the link) unless `follow_outside` is set.
pub fn list_files(root: &Path, follow_outside: bool) -> Result<Vec<SourceFile>> {
    let meta = fs::metadata(root).map_err(|e| Error::io(root, e))?;
    if !meta.is_dir() {
        return Err(Error::usage(root, "not a directory"));
    }
    let canonical_root = fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
    let walk = Walk {
        root,
        canonical_root: &canonical_root,
        follow_outside,
    };
    let mut out = Vec::new();
    walk.dir(root, &mut out, 0)?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

struct Walk<'a> {
    root: &'a Path,
    canonical_root: &'a Path,
    follow_outside: bool,
}

impl Walk<'_> {
    fn dir(&self, dir: &Path, out: &mut Vec<SourceFile>, depth: usize) -> Result<()> {
        if depth > 64 {
            return Err(Error::usage(
                dir,
                "directory nesting deeper than 64 levels (a symbolic link loop?)",
            ));
        }
        for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            let path = entry.path();
            let link = fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
            if link.file_type().is_symlink() {
                let target = fs::canonicalize(&path).map_err(|e| Error::io(&path, e))?;
                if !target.starts_with(self.canonical_root) && !self.follow_outside {
                    return Err(Error::SymlinkOutside { link: path, target });
                }
            }
            let meta = fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
            if meta.is_dir() {
                self.dir(&path, out, depth + 1)?;
            } else if meta.is_file() {
                let rel = path.strip_prefix(self.root).expect("under root");
                let mut parts = Vec::new();
                for c in rel.components() {
                    parts.push(
                        c.as_os_str()
                            .to_str()
                            .ok_or_else(|| Error::usage(&path, "file name is not valid UTF-8"))?
                            .to_string(),
                    );
                }
                out.push(SourceFile {
                    name: parts.join("/"),
                    path,
                    size: meta.len(),
                });
            } else {
                return Err(Error::usage(&path, "not a regular file or directory"));
            }
        }
        Ok(())
    }
}
