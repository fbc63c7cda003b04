//! Reading input files: a whole file into zeroize-on-drop memory (one exact-size allocation),
//! or only its leading bytes.

use crate::error::{Error, Result};
use crate::secret::Secret;
use std::fs::File;
use std::io::Read;
use std::path::Path;

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

/// Reads until `buf` is full or `r` ends (retrying interrupted reads); the number of bytes read.
pub(crate) fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
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
