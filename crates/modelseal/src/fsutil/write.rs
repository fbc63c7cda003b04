//! Writing new files: the atomic creation of a file that never overwrites anything, through a
//! buffered writer whose buffer is wiped, never just freed.

use super::{random_suffix, split_parent};
use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

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
pub(super) struct WipingWriter {
    file: File,
    buf: zeroize::Zeroizing<Vec<u8>>,
}

impl WipingWriter {
    pub(super) fn new(file: File) -> WipingWriter {
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
    pub(super) fn finish(mut self) -> std::io::Result<File> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
