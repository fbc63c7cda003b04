//! Opening one v2 file as a stream: each chunk is authenticated before any of its bytes are returned.

use super::header::*;
use super::keys::{nonce, verify_header, Verified};
use super::open::read_header_from;
use crate::error::{Error, Result};
use crate::fsutil::read_up_to;
use crate::key::Key;
use crate::secret::Secret;
use ring::aead::{self, Aad};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Streams the plaintext of a sealed file through [`std::io::Read`].
///
/// Every chunk is authenticated before any of its bytes are returned; a truncated, extended or
/// reordered file yields an error (of kind `InvalidData`, wrapping [`Error`]) at the point it is detected.
pub struct OpenReader<R: Read> {
    inner: R,
    v: Verified,
    path: PathBuf,
    buf: Secret,
    pos: usize,
    filled: usize,
    next: u64,
    finished: bool,
}

impl<R: Read> OpenReader<R> {
    /// Reads the header from `inner`, checks it against `key`, and positions at the first chunk.
    pub fn new(key: &Key, mut inner: R, path: &Path) -> Result<OpenReader<R>> {
        let header = read_header_from(&mut inner, path, None)?;
        let v = verify_header(key, header, path)?;
        Ok(Self::from_verified(v, inner, path))
    }

    /// A reader over the chunks that follow an already verified header.
    pub fn from_verified(v: Verified, inner: R, path: &Path) -> OpenReader<R> {
        let cap = v.header.chunk_size() as usize + TAG_LEN;
        OpenReader {
            inner,
            v,
            path: path.to_path_buf(),
            buf: Secret::zeroed(cap),
            pos: 0,
            filled: 0,
            next: 0,
            finished: false,
        }
    }

    /// The verified header.
    pub fn header(&self) -> &Header {
        &self.v.header
    }

    fn fail(&self, e: Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    fn fill_next(&mut self) -> io::Result<()> {
        let h = &self.v.header;
        let count = h.chunk_count();
        let i = self.next;
        let plain = h.chunk_plain_len(i);
        let want = plain + TAG_LEN;
        let got = read_up_to(&mut self.inner, &mut self.buf[..want])?;
        if got < want {
            let actual = h.chunk_offset(i) + got as u64;
            let e = Error::Truncated {
                path: self.path.clone(),
                expected: h.sealed_len(),
                actual,
            };
            return Err(self.fail(e));
        }
        let last = i + 1 == count;
        let aad = Aad::from(h.mac);
        let (data, tag) = self.buf[..want].split_at_mut(plain);
        let tag: [u8; TAG_LEN] = (&*tag).try_into().expect("16 bytes");
        if self
            .v
            .keys
            .aead
            .open_in_place_separate_tag(
                nonce(&self.v.keys.nonce_prefix, i, last),
                aad,
                aead::Tag::from(tag),
                data,
                0..,
            )
            .is_err()
        {
            let e = Error::ChunkCorrupted {
                path: self.path.clone(),
                chunk: i,
                chunks: count,
            };
            return Err(self.fail(e));
        }
        if last {
            let mut probe = [0u8; 1];
            if read_up_to(&mut self.inner, &mut probe)? != 0 {
                let e = Error::Extended {
                    path: self.path.clone(),
                    expected: h.sealed_len(),
                    actual: h.sealed_len() + 1,
                };
                return Err(self.fail(e));
            }
            self.finished = true;
        }
        self.next += 1;
        self.pos = 0;
        self.filled = plain;
        Ok(())
    }
}

impl<R: Read> Read for OpenReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.filled {
            if self.finished {
                return Ok(0);
            }
            self.fill_next()?;
        }
        let n = out.len().min(self.filled - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Recovers the library error from an `io::Error` produced by [`OpenReader`], or wraps a plain I/O error.
pub fn reader_error(e: io::Error, path: &Path) -> Error {
    match e.downcast::<Error>() {
        Ok(inner) => inner,
        Err(e) => Error::io(path, e),
    }
}
