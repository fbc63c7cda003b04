//! File-system helpers: atomic creation of files and directories, secret-safe reads, directory listing.
//! Outputs appear whole or not at all; inputs are never overwritten.

use crate::error::{Error, Result};
use crate::key::fill_random;
use crate::secret::Secret;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
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

/// Lists the regular files under `root` recursively (symbolic links followed), sorted by name.
pub fn list_files(root: &Path) -> Result<Vec<SourceFile>> {
    let meta = fs::metadata(root).map_err(|e| Error::io(root, e))?;
    if !meta.is_dir() {
        return Err(Error::usage(root, "not a directory"));
    }
    let mut out = Vec::new();
    walk(root, root, &mut out, 0)?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<SourceFile>, depth: usize) -> Result<()> {
    if depth > 64 {
        return Err(Error::usage(
            dir,
            "directory nesting deeper than 64 levels (a symbolic link loop?)",
        ));
    }
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let meta = fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        if meta.is_dir() {
            walk(root, &path, out, depth + 1)?;
        } else if meta.is_file() {
            let rel = path.strip_prefix(root).expect("under root");
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

/// Reads a whole file into zeroize-on-drop memory with one exact-size allocation (no stray copies).
pub fn read_secret(path: &Path) -> Result<Secret> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    let len =
        usize::try_from(len).map_err(|_| Error::usage(path, "too large to read into memory"))?;
    let mut buf = Secret::zeroed(len);
    f.read_exact(&mut buf).map_err(|e| Error::io(path, e))?;
    let mut probe = [0u8; 1];
    if f.read(&mut probe).map_err(|e| Error::io(path, e))? != 0 {
        return Err(Error::SourceChanged {
            path: path.to_path_buf(),
            reason: "grew while being read".into(),
        });
    }
    Ok(buf)
}

/// Reads up to `n` leading bytes of a file.
pub fn read_prefix(path: &Path, n: usize) -> Result<Vec<u8>> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = Vec::with_capacity(n);
    f.take(n as u64)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    Ok(buf)
}

fn random_suffix() -> Result<String> {
    let mut b = [0u8; 6];
    fill_random(&mut b)?;
    Ok(hex::encode(b))
}

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

/// Writes a new file atomically: a temporary file beside it, then a link that fails if `path` exists.
/// With `private`, the file is created with mode 0600 (Unix).
pub fn write_new_file(
    path: &Path,
    write: &mut dyn FnMut(&mut dyn Write) -> Result<()>,
    private: bool,
) -> Result<()> {
    if fs::symlink_metadata(path).is_ok() {
        return Err(Error::usage(
            path,
            "already exists; refusing to overwrite it",
        ));
    }
    let (parent, name) = split_parent(path)?;
    let tmp = parent.join(format!(".{name}.tmp-{}", random_suffix()?));
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    let _ = private;
    let file = opts.open(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let guard = RemoveOnDrop(Some(tmp.clone()));
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    write(&mut w)?;
    let file = w
        .into_inner()
        .map_err(|e| Error::io(&tmp, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(file);
    match fs::hard_link(&tmp, path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::usage(
                path,
                "already exists; refusing to overwrite it",
            ));
        }
        Err(_) => {
            // File systems without hard links: check, then rename.
            if fs::symlink_metadata(path).is_ok() {
                return Err(Error::usage(
                    path,
                    "already exists; refusing to overwrite it",
                ));
            }
            fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        }
    }
    drop(guard);
    Ok(())
}

struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// An output directory under construction: a hidden temporary sibling of the destination that is
/// renamed into place by [`OutputDir::commit`] and removed if dropped uncommitted.
pub struct OutputDir {
    tmp: PathBuf,
    dst: PathBuf,
    committed: bool,
}

/// The absolute form of `path`, which need not exist: its nearest existing ancestor is
/// canonicalised and the rest appended. Creates nothing.
fn absolute(path: &Path) -> Result<PathBuf> {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io(".", e))?
            .join(path)
    };
    let mut rest = Vec::new();
    let mut cur = path.as_path();
    loop {
        if let Ok(c) = fs::canonicalize(cur) {
            return Ok(rest.iter().rev().fold(c, |p: PathBuf, n| p.join(n)));
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                cur = parent;
            }
            _ => return Err(Error::usage(&path, "cannot resolve this path")),
        }
    }
}

impl OutputDir {
    /// Checks that `dst` may receive output made from `src` and creates the temporary directory.
    /// Refused: `dst` equal to or inside `src`; an existing non-empty `dst` without `force`;
    /// with `force`, a `dst` that contains `src` (replacing it would delete the input).
    pub fn prepare(src: &Path, dst: &Path, force: bool) -> Result<OutputDir> {
        let src_abs = fs::canonicalize(src).map_err(|e| Error::io(src, e))?;
        let dst_abs = absolute(dst)?;
        if dst_abs == src_abs {
            return Err(Error::usage(
                dst,
                "the save directory is the model directory itself",
            ));
        }
        if dst_abs.starts_with(&src_abs) {
            return Err(Error::usage(
                dst,
                format!(
                    "the save directory is inside the model directory {}",
                    src.display()
                ),
            ));
        }
        if let Ok(meta) = fs::symlink_metadata(&dst_abs) {
            if !meta.is_dir() {
                return Err(Error::usage(dst, "exists and is not a directory"));
            }
            let non_empty = fs::read_dir(&dst_abs)
                .map_err(|e| Error::io(dst, e))?
                .next()
                .is_some();
            if non_empty && !force {
                return Err(Error::usage(
                    dst,
                    "exists and is not empty; pass --force to replace it",
                ));
            }
            if src_abs.starts_with(&dst_abs) {
                return Err(Error::usage(
                    dst,
                    "contains the model directory; replacing it would delete the input",
                ));
            }
        }
        let (parent, name) = split_parent(&dst_abs)?;
        fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let tmp = parent.join(format!(".{name}.modelseal-tmp-{}", random_suffix()?));
        fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(OutputDir {
            tmp,
            dst: dst_abs,
            committed: false,
        })
    }

    /// Path of the temporary directory to write into.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Creates a file (and its parent folders) at `rel` inside the temporary directory and fills it.
    pub fn write_file(
        &self,
        rel: &str,
        write: &mut dyn FnMut(&mut dyn Write) -> Result<()>,
    ) -> Result<()> {
        let path = self.tmp.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        write(&mut w)?;
        let file = w
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&path, e))
    }

    /// Moves the finished directory into place (replacing an existing one, which was checked in `prepare`).
    pub fn commit(mut self) -> Result<PathBuf> {
        let (parent, name) = split_parent(&self.dst)?;
        if fs::symlink_metadata(&self.dst).is_ok() {
            let old = parent.join(format!(".{name}.modelseal-old-{}", random_suffix()?));
            fs::rename(&self.dst, &old).map_err(|e| Error::io(&self.dst, e))?;
            if let Err(e) = fs::rename(&self.tmp, &self.dst) {
                let _ = fs::rename(&old, &self.dst);
                return Err(Error::io(&self.dst, e));
            }
            self.committed = true;
            fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
        } else {
            fs::rename(&self.tmp, &self.dst).map_err(|e| Error::io(&self.dst, e))?;
            self.committed = true;
        }
        if let Ok(d) = File::open(&parent) {
            let _ = d.sync_all();
        }
        Ok(self.dst.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}
