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
    // Key files and decrypted files pass through this buffer: it is wiped, never just freed.
    let mut w = WipingWriter::new(file);
    write(&mut w)?;
    let file = w.finish().map_err(|e| Error::io(&tmp, e))?;
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

/// Size of the write buffer of [`WipingWriter`].
const WRITE_BUFFER: usize = 1 << 20;

/// A buffered file writer whose buffer is allocated once, at its full size, and wiped when the
/// writer is dropped (written out or not): what passes through it (key text, plaintext written
/// on request) leaves no copy in freed memory. Writes at least as large as the buffer go
/// straight to the file.
struct WipingWriter {
    file: File,
    buf: zeroize::Zeroizing<Vec<u8>>,
}

impl WipingWriter {
    fn new(file: File) -> WipingWriter {
        WipingWriter {
            file,
            buf: zeroize::Zeroizing::new(Vec::with_capacity(WRITE_BUFFER)),
        }
    }

    fn write_buffered(&mut self) -> std::io::Result<()> {
        self.file.write_all(&self.buf)?;
        zeroize::Zeroize::zeroize(&mut *self.buf);
        // `zeroize` on a Vec clears it but keeps its allocation.
        debug_assert!(self.buf.capacity() >= WRITE_BUFFER);
        Ok(())
    }

    /// Writes out what is buffered and hands the file back (the buffer is wiped).
    fn finish(mut self) -> std::io::Result<File> {
        self.write_buffered()?;
        let WipingWriter { file, buf } = self;
        drop(buf);
        Ok(file)
    }
}

impl Write for WipingWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > WRITE_BUFFER {
            self.write_buffered()?;
        }
        if data.len() >= WRITE_BUFFER {
            return self.file.write(data);
        }
        // Within the capacity reserved up front: never reallocates (no stray copy).
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.write_buffered()?;
        self.file.flush()
    }
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

/// Whether the plain file at the path (named by its '/'-separated path relative to the output)
/// holds exactly the bytes of the member of that name being written: a PaddleX v1 output copies
/// the files it does not encrypt, so such a copy is part of an earlier sealing and replacing it
/// loses nothing.
pub(crate) type IsCopy<'a> = dyn Fn(&str, &Path) -> bool + 'a;

/// The v2 header of the sealed file at `path`, when it parses and the file has exactly the
/// length it declares (no key needed).
fn v2_header_of(path: &Path) -> Option<crate::v2::Header> {
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let h = crate::v2::read_header(&mut f, path).ok()?;
    (h.sealed_len() == len).then_some(h)
}

/// Whether `files` (relative name, path) are exactly a v2 sealing: a manifest whose header
/// parses as the manifest, and beside it only `<name>.sealed` files whose headers parse as
/// member `<name>` of the same sealing, each of the length its header declares.
fn is_v2_sealing(files: &[(String, PathBuf)]) -> bool {
    use crate::manifest::{MANIFEST_NAME, SEALED_SUFFIX};
    use crate::v2::Kind;
    let Some((_, manifest)) = files.iter().find(|(n, _)| n == MANIFEST_NAME) else {
        return false;
    };
    let Some(m) = v2_header_of(manifest) else {
        return false;
    };
    if m.kind != Kind::Manifest || m.name != MANIFEST_NAME {
        return false;
    }
    files.iter().all(|(name, path)| {
        name == MANIFEST_NAME
            || name.strip_suffix(SEALED_SUFFIX).is_some_and(|member| {
                v2_header_of(path).is_some_and(|h| {
                    h.kind == Kind::Member && h.name == member && h.seal_id == m.seal_id
                })
            })
    })
}

/// The key check field of a file with a full PaddleX v1 header: `PADDLE1`, 64 lower-case hex
/// digits (SHA-256 of the key), and a length of at least header plus tag.
fn v1_key_check_of(path: &Path) -> Option<Vec<u8>> {
    let len = fs::metadata(path).ok()?.len();
    if len < (crate::v1::HEADER_LEN + crate::v1::TAG_LEN) as u64 {
        return None;
    }
    let head = read_prefix(path, 71).ok()?;
    let check = head.strip_prefix(&crate::v1::MAGIC[..])?;
    (check.len() == 64 && check.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| check.to_vec())
}

/// Whether `files` (relative name, path) are exactly a PaddleX v1 sealing of the members being
/// written: every `<name>.encrypted` file of a model, params or config member carries a full v1
/// header, all under one key, the model among them; every other file is a byte-for-byte copy of
/// the member of its name (`is_copy`), as PaddleX's tool copies the files it does not encrypt.
fn is_v1_sealing(files: &[(String, PathBuf)], is_copy: &IsCopy<'_>) -> bool {
    use crate::manifest::{Role, V1_SUFFIX};
    let mut key_check: Option<Vec<u8>> = None;
    let mut model = false;
    for (name, path) in files {
        let encrypted_role = name
            .strip_suffix(V1_SUFFIX)
            .map(Role::of)
            .filter(|r| matches!(r, Role::Model | Role::Params | Role::Config));
        if let (Some(role), Some(check)) = (encrypted_role, v1_key_check_of(path)) {
            if key_check.get_or_insert_with(|| check.clone()) != &check {
                return false;
            }
            model |= role == Role::Model;
        } else if !is_copy(name, path) {
            return false;
        }
    }
    model
}

/// Looks at `dst` without following a symbolic link at any level.
fn existing(dst: &Path, is_copy: &IsCopy<'_>) -> Result<Existing> {
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
    // (name relative to dst, '/'-separated; path)
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut folders = false;
    let mut stack = vec![(dst.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            let t = entry.file_type().map_err(|e| Error::io(&path, e))?;
            let Some(file_name) = entry.file_name().to_str().map(str::to_string) else {
                return Ok(Existing::Other(format!(
                    "holds {}, whose name is not UTF-8",
                    path.display()
                )));
            };
            let name = format!("{prefix}{file_name}");
            if t.is_dir() {
                folders = true;
                stack.push((path, format!("{name}/")));
            } else if t.is_file() {
                files.push((name, path));
            } else {
                return Ok(Existing::Other(format!(
                    "holds {}, which is not a regular file",
                    path.display()
                )));
            }
        }
    }
    if files.is_empty() {
        return Ok(if folders {
            Existing::Other("holds empty folders".into())
        } else {
            Existing::Empty
        });
    }
    files.sort();
    if is_v2_sealing(&files) || is_v1_sealing(&files, is_copy) {
        return Ok(Existing::EarlierSealing);
    }
    Ok(Existing::Other(
        "is not empty and is not an earlier sealing (a v2 sealing whose headers all agree, or a PaddleX v1 output of these members)".into(),
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
    /// non-empty `dst`, unless `force` is set and it holds an earlier sealing (v2 or PaddleX v1;
    /// `is_copy` tells the plain files a v1 output copies from the members being written).
    pub(crate) fn prepare(
        src: &Path,
        dst: &Path,
        force: bool,
        is_copy: &IsCopy<'_>,
    ) -> Result<OutputDir> {
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
        match existing(&dst_abs, is_copy)? {
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
        let mut w = WipingWriter::new(file);
        write(&mut w)?;
        let file = w.finish().map_err(|e| Error::io(&path, e))?;
        file.sync_all().map_err(|e| Error::io(&path, e))
    }

    /// Moves the finished directory into place. What is at the destination is looked at again
    /// now: nothing, or an empty directory, is replaced atomically (the rename fails if it is no
    /// longer empty); an earlier sealing only with `force`; anything else (a directory that
    /// appeared or changed meanwhile) is left alone and the output is discarded.
    pub(crate) fn commit(mut self, is_copy: &IsCopy<'_>) -> Result<PathBuf> {
        let (parent, name) = split_parent(&self.dst)?;
        let changed = |reason: &str| {
            Error::usage(
                &self.dst,
                format!("{reason} while the output was written; it was left alone and nothing was written"),
            )
        };
        match existing(&self.dst, is_copy)? {
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

    fn never(_: &str, _: &Path) -> bool {
        false
    }

    #[test]
    fn a_directory_that_appears_before_commit_is_left_alone() {
        let tmp = tempfile::TempDir::new().unwrap();
        let src = tmp.path().join("src");
        write(&src.join("model.onnx"), b"m");
        let dst = tmp.path().join("out");
        let out = OutputDir::prepare(&src, &dst, true, &never).unwrap();
        out.write_file("x.sealed", &mut |w| {
            w.write_all(b"x").map_err(|e| Error::io("x", e))
        })
        .unwrap();
        let staging = out.path().to_path_buf();
        // Someone creates the destination with their own files meanwhile.
        write(&dst.join("precious.txt"), b"keep me");
        let e = out.commit(&never).unwrap_err();
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
        let out = OutputDir::prepare(&src, &dst, false, &never).unwrap();
        out.write_file("a", &mut |w| {
            w.write_all(b"a").map_err(|e| Error::io("a", e))
        })
        .unwrap();
        out.commit(&never).unwrap();
        assert_eq!(fs::read(dst.join("a")).unwrap(), b"a");
        // An empty directory at prepare time that is filled before commit is not replaced.
        let dst2 = tmp.path().join("out2");
        fs::create_dir(&dst2).unwrap();
        let out = OutputDir::prepare(&src, &dst2, true, &never).unwrap();
        write(&dst2.join("late.txt"), b"late");
        assert!(out.commit(&never).is_err());
        assert_eq!(fs::read(dst2.join("late.txt")).unwrap(), b"late");
    }

    #[test]
    fn force_replaces_only_earlier_sealings_and_never_a_symlink() {
        use crate::v2::{seal_image, Kind, SealParams};
        let tmp = tempfile::TempDir::new().unwrap();
        let src = tmp.path().join("src");
        write(&src.join("model.onnx"), b"m");
        let foreign = tmp.path().join("foreign");
        write(&foreign.join("thesis.tex"), b"years of work");
        let e = OutputDir::prepare(&src, &foreign, true, &never)
            .err()
            .unwrap();
        assert!(e.to_string().contains("not an earlier sealing"), "{e}");
        // v2: headers that parse and agree (no key needed to tell).
        let key = crate::Key::generate().unwrap();
        let seal_id = [7u8; 16];
        let image = |kind, name: &str, id| {
            let p = SealParams {
                kind,
                name: name.into(),
                seal_id: id,
                chunk_log2: 12,
            };
            seal_image(&key, &p, b"payload").unwrap()
        };
        let v2 = tmp.path().join("v2");
        write(
            &v2.join(crate::manifest::MANIFEST_NAME),
            &image(Kind::Manifest, crate::manifest::MANIFEST_NAME, seal_id),
        );
        write(
            &v2.join("model.onnx.sealed"),
            &image(Kind::Member, "model.onnx", seal_id),
        );
        assert_eq!(existing(&v2, &never).unwrap(), Existing::EarlierSealing);
        write(&v2.join("notes.txt"), b"mine");
        assert!(matches!(existing(&v2, &never).unwrap(), Existing::Other(_)));
        fs::remove_file(v2.join("notes.txt")).unwrap();
        // The magic alone, another sealing's member, a member under another name: not a sealing.
        write(&v2.join("a.onnx.sealed"), b"MDLSEAL\x02...");
        assert!(matches!(existing(&v2, &never).unwrap(), Existing::Other(_)));
        write(
            &v2.join("a.onnx.sealed"),
            &image(Kind::Member, "a.onnx", [8; 16]),
        );
        assert!(matches!(existing(&v2, &never).unwrap(), Existing::Other(_)));
        write(
            &v2.join("a.onnx.sealed"),
            &image(Kind::Member, "b.onnx", seal_id),
        );
        assert!(matches!(existing(&v2, &never).unwrap(), Existing::Other(_)));
        write(
            &v2.join("a.onnx.sealed"),
            &image(Kind::Member, "a.onnx", seal_id),
        );
        assert_eq!(existing(&v2, &never).unwrap(), Existing::EarlierSealing);
        // v1: full headers under one key, the model among them; other files copies.
        let v1 = tmp.path().join("v1");
        write(
            &v1.join("__model__.encrypted"),
            &crate::v1::seal(&key, b"program").unwrap(),
        );
        write(&v1.join(".success"), b"");
        assert!(matches!(existing(&v1, &never).unwrap(), Existing::Other(_)));
        let copies = |name: &str, _: &Path| name == ".success";
        assert_eq!(existing(&v1, &copies).unwrap(), Existing::EarlierSealing);
        write(&v1.join("__model__.encrypted"), b"PADDLE1...");
        assert!(matches!(
            existing(&v1, &copies).unwrap(),
            Existing::Other(_)
        ));
        #[cfg(unix)]
        {
            let link = tmp.path().join("link");
            std::os::unix::fs::symlink(&v2, &link).unwrap();
            let e = OutputDir::prepare(&src, &link, true, &never).err().unwrap();
            assert!(e.to_string().contains("symbolic link"), "{e}");
        }
    }

    #[test]
    fn the_write_buffer_is_wiped_and_large_writes_bypass_it() {
        let tmp = tempfile::TempDir::new().unwrap();
        let path = tmp.path().join("f");
        let mut w = WipingWriter::new(File::create(&path).unwrap());
        w.write_all(b"secret").unwrap();
        assert_eq!(&w.buf[..], b"secret");
        let big = vec![1u8; WRITE_BUFFER + 1];
        w.write_all(&big).unwrap();
        // Flushed before the large write, wiped, and kept at its size (never reallocated).
        assert!(w.buf.is_empty());
        assert!(w.buf.capacity() >= WRITE_BUFFER);
        w.write_all(b"tail").unwrap();
        drop(w.finish().unwrap());
        let mut want = b"secret".to_vec();
        want.extend_from_slice(&big);
        want.extend_from_slice(b"tail");
        assert_eq!(fs::read(&path).unwrap(), want);
    }
}
