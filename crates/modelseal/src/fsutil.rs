//! File-system helpers: directory listing under the symbolic-link rule, secret-safe reads, atomic
//! creation of files and directories. Outputs appear whole or not at all; inputs are never overwritten.

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

/// Reads a whole file into zeroize-on-drop memory with one exact-size allocation (no stray copies).
pub(crate) fn read_secret(path: &Path) -> Result<Secret> {
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
pub(crate) fn read_prefix(path: &Path, n: usize) -> Result<Vec<u8>> {
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
pub(crate) fn write_new_file(
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
pub(crate) struct OutputDir {
    tmp: PathBuf,
    dst: PathBuf,
    force: bool,
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

/// What is at an output path before it is written.
#[derive(Debug, PartialEq, Eq)]
enum Existing {
    Absent,
    Empty,
    /// The output of an earlier sealing (v2 or PaddleX v1): `--force` may replace it.
    EarlierSealing,
    /// Anything else (the reason says what): never replaced.
    Other(String),
}

fn starts_with_file(path: &Path, magic: &[u8]) -> bool {
    read_prefix(path, magic.len())
        .map(|p| p == magic)
        .unwrap_or(false)
}

/// Looks at `dst` without following a symbolic link at any level.
fn existing(dst: &Path) -> Result<Existing> {
    let meta = match fs::symlink_metadata(dst) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Absent),
        Err(e) => return Err(Error::io(dst, e)),
    };
    if meta.file_type().is_symlink() {
        return Ok(Existing::Other("is a symbolic link".into()));
    }
    if !meta.is_dir() {
        return Ok(Existing::Other("is not a directory".into()));
    }
    let mut files = Vec::new();
    let mut stack = vec![dst.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let t = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
            if t.is_dir() {
                stack.push(entry.path());
            } else if t.is_file() {
                files.push(entry.path());
            } else {
                return Ok(Existing::Other(format!(
                    "holds {}, which is not a regular file",
                    entry.path().display()
                )));
            }
        }
    }
    if files.is_empty() {
        return Ok(
            if stack.is_empty()
                && fs::read_dir(dst)
                    .map_err(|e| Error::io(dst, e))?
                    .next()
                    .is_none()
            {
                Existing::Empty
            } else {
                Existing::Other("holds empty folders".into())
            },
        );
    }
    let name = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string()
    };
    let v2_member = |p: &Path| {
        let n = name(p);
        (n.ends_with(crate::manifest::SEALED_SUFFIX)
            || p == dst.join(crate::manifest::MANIFEST_NAME))
            && starts_with_file(p, crate::v2::MAGIC)
    };
    if dst.join(crate::manifest::MANIFEST_NAME).is_file() && files.iter().all(|p| v2_member(p)) {
        return Ok(Existing::EarlierSealing);
    }
    let v1_model = files.iter().any(|p| {
        name(p)
            .strip_suffix(crate::manifest::V1_SUFFIX)
            .is_some_and(|n| crate::manifest::Role::of(n) == crate::manifest::Role::Model)
            && starts_with_file(p, &crate::v1::MAGIC[..6])
    });
    let any_v2 = files.iter().any(|p| starts_with_file(p, crate::v2::MAGIC));
    if v1_model && !any_v2 {
        return Ok(Existing::EarlierSealing);
    }
    Ok(Existing::Other(
        "is not empty and is not an earlier sealing".into(),
    ))
}

/// Removes the staging directories `.{name}.modelseal-tmp-{pid}-*` that processes no longer
/// alive left beside `parent/name` (a sealing killed before it could clean up). They hold sealed
/// bytes only, never plaintext. Only on Linux, where a process's liveness is known.
fn remove_stale_staging(parent: &Path, name: &str) {
    #[cfg(target_os = "linux")]
    {
        let prefix = format!(".{name}.modelseal-tmp-");
        let Ok(entries) = fs::read_dir(parent) else {
            return;
        };
        for e in entries.flatten() {
            let file_name = e.file_name();
            let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
                continue;
            };
            let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if is_dir && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (parent, name);
}

impl OutputDir {
    /// Checks that `dst` may receive output made from `src` and creates the temporary directory.
    /// Refused: `dst` equal to or inside `src`, or containing it; a symbolic link; an existing
    /// non-empty `dst`, unless `force` is set and it holds an earlier sealing (v2 or PaddleX v1).
    pub(crate) fn prepare(src: &Path, dst: &Path, force: bool) -> Result<OutputDir> {
        let src_abs = fs::canonicalize(src).map_err(|e| Error::io(src, e))?;
        if let Ok(meta) = fs::symlink_metadata(dst) {
            if meta.file_type().is_symlink() {
                return Err(Error::usage(
                    dst,
                    "is a symbolic link; refusing to write through it",
                ));
            }
        }
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
        if src_abs.starts_with(&dst_abs) {
            return Err(Error::usage(
                dst,
                "contains the model directory; replacing it would delete the input",
            ));
        }
        match existing(&dst_abs)? {
            Existing::Absent | Existing::Empty => {}
            Existing::EarlierSealing if force => {}
            Existing::EarlierSealing => {
                return Err(Error::OutputExists {
                    path: dst.to_path_buf(),
                })
            }
            Existing::Other(reason) => {
                return Err(Error::usage(
                    dst,
                    format!(
                        "{reason}; only an empty directory or an earlier sealing is ever replaced"
                    ),
                ))
            }
        }
        let (parent, name) = split_parent(&dst_abs)?;
        fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        remove_stale_staging(&parent, &name);
        let tmp = parent.join(format!(
            ".{name}.modelseal-tmp-{}-{}",
            std::process::id(),
            random_suffix()?
        ));
        fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(OutputDir {
            tmp,
            dst: dst_abs,
            force,
            committed: false,
        })
    }

    /// Path of the temporary directory to write into.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.tmp
    }

    /// Creates a file (and its parent folders) at `rel` inside the temporary directory and fills it.
    pub(crate) fn write_file(
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

    /// Moves the finished directory into place. What is at the destination is looked at again
    /// now: nothing, or an empty directory, is replaced atomically (the rename fails if it is no
    /// longer empty); an earlier sealing only with `force`; anything else (a directory that
    /// appeared or changed meanwhile) is left alone and the output is discarded.
    pub(crate) fn commit(mut self) -> Result<PathBuf> {
        let (parent, name) = split_parent(&self.dst)?;
        let changed = |reason: &str| {
            Error::usage(
                &self.dst,
                format!("{reason} while the output was written; it was left alone and nothing was written"),
            )
        };
        match existing(&self.dst)? {
            Existing::Absent | Existing::Empty => {
                if let Err(e) = fs::rename(&self.tmp, &self.dst) {
                    return Err(match e.kind() {
                        std::io::ErrorKind::AlreadyExists
                        | std::io::ErrorKind::DirectoryNotEmpty => changed("appeared or filled up"),
                        _ => Error::io(&self.dst, e),
                    });
                }
                self.committed = true;
            }
            Existing::EarlierSealing if self.force => {
                let old = parent.join(format!(".{name}.modelseal-old-{}", random_suffix()?));
                fs::rename(&self.dst, &old).map_err(|e| Error::io(&self.dst, e))?;
                if let Err(e) = fs::rename(&self.tmp, &self.dst) {
                    let _ = fs::rename(&old, &self.dst);
                    return Err(Error::io(&self.dst, e));
                }
                self.committed = true;
                fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
            }
            Existing::EarlierSealing => return Err(changed("an earlier sealing appeared")),
            Existing::Other(reason) => {
                return Err(changed(&format!("it {reason}: it appeared or changed")))
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(p: &Path, data: &[u8]) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, data).unwrap();
    }

    #[test]
    fn a_directory_that_appears_before_commit_is_left_alone() {
        let tmp = tempfile::TempDir::new().unwrap();
        let src = tmp.path().join("src");
        write(&src.join("model.onnx"), b"m");
        let dst = tmp.path().join("out");
        let out = OutputDir::prepare(&src, &dst, true).unwrap();
        out.write_file("x.sealed", &mut |w| {
            w.write_all(b"x").map_err(|e| Error::io("x", e))
        })
        .unwrap();
        let staging = out.path().to_path_buf();
        // Someone creates the destination with their own files meanwhile.
        write(&dst.join("precious.txt"), b"keep me");
        let e = out.commit().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Usage, "{e}");
        assert_eq!(fs::read(dst.join("precious.txt")).unwrap(), b"keep me");
        assert!(!dst.join("x.sealed").exists());
        assert!(!staging.exists(), "the staging directory is removed");
    }

    #[test]
    fn an_empty_destination_is_replaced_and_an_emptied_race_is_caught() {
        let tmp = tempfile::TempDir::new().unwrap();
        let src = tmp.path().join("src");
        write(&src.join("model.onnx"), b"m");
        let dst = tmp.path().join("out");
        fs::create_dir(&dst).unwrap();
        let out = OutputDir::prepare(&src, &dst, false).unwrap();
        out.write_file("a", &mut |w| {
            w.write_all(b"a").map_err(|e| Error::io("a", e))
        })
        .unwrap();
        out.commit().unwrap();
        assert_eq!(fs::read(dst.join("a")).unwrap(), b"a");
        // An empty directory at prepare time that is filled before commit is not replaced.
        let dst2 = tmp.path().join("out2");
        fs::create_dir(&dst2).unwrap();
        let out = OutputDir::prepare(&src, &dst2, true).unwrap();
        write(&dst2.join("late.txt"), b"late");
        assert!(out.commit().is_err());
        assert_eq!(fs::read(dst2.join("late.txt")).unwrap(), b"late");
    }

    #[test]
    fn force_replaces_only_earlier_sealings_and_never_a_symlink() {
        let tmp = tempfile::TempDir::new().unwrap();
        let src = tmp.path().join("src");
        write(&src.join("model.onnx"), b"m");
        let foreign = tmp.path().join("foreign");
        write(&foreign.join("thesis.tex"), b"years of work");
        let e = OutputDir::prepare(&src, &foreign, true).err().unwrap();
        assert!(e.to_string().contains("not an earlier sealing"), "{e}");
        let v2 = tmp.path().join("v2");
        write(&v2.join(crate::manifest::MANIFEST_NAME), b"MDLSEAL\x02...");
        write(&v2.join("model.onnx.sealed"), b"MDLSEAL\x02...");
        assert_eq!(existing(&v2).unwrap(), Existing::EarlierSealing);
        write(&v2.join("notes.txt"), b"mine");
        assert!(matches!(existing(&v2).unwrap(), Existing::Other(_)));
        let v1 = tmp.path().join("v1");
        write(&v1.join("__model__.encrypted"), b"PADDLE1...");
        write(&v1.join(".success"), b"");
        assert_eq!(existing(&v1).unwrap(), Existing::EarlierSealing);
        #[cfg(unix)]
        {
            let sealed = tmp.path().join("sealed-real");
            write(&sealed.join(crate::manifest::MANIFEST_NAME), b"MDLSEAL\x02");
            let link = tmp.path().join("link");
            std::os::unix::fs::symlink(&sealed, &link).unwrap();
            let e = OutputDir::prepare(&src, &link, true).err().unwrap();
            assert!(e.to_string().contains("symbolic link"), "{e}");
        }
    }
}
