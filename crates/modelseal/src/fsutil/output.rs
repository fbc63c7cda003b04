//! The output directory of a sealing: a hidden temporary sibling of the destination, checked
//! against the input and what is already there, renamed into place whole or removed.

use super::existing::{existing, Existing, IsCopy};
use super::write::WipingWriter;
use super::{random_suffix, split_parent};
use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

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
}
