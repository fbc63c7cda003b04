//! Opening one v2 file whole: from memory or with positional reads from disk, every chunk
//! decrypted in place (in parallel for large files) and authenticated before anything is returned.

use super::header::*;
use super::keys::{nonce, verify_header, Verified};
use crate::error::{Error, Result};
use crate::fsutil::read_up_to;
use crate::key::Key;
use crate::secret::Secret;
use rayon::prelude::*;
use ring::aead::{self, Aad};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Plaintexts smaller than this are decrypted on the calling thread.
const PARALLEL_MIN_BYTES: u64 = 1 << 20;

/// Checks that a sealed file of `actual` bytes has exactly the length its header requires.
pub fn check_length(header: &Header, actual: u64, path: &Path) -> Result<()> {
    let expected = header.sealed_len();
    if actual < expected {
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            expected,
            actual,
        });
    }
    if actual > expected {
        return Err(Error::Extended {
            path: path.to_path_buf(),
            expected,
            actual,
        });
    }
    Ok(())
}

/// Fills chunk `i`'s ciphertext and tag buffers from wherever the sealed bytes are.
type FetchChunk<'a> = dyn Fn(u64, &mut [u8], &mut [u8; TAG_LEN]) -> Result<()> + Sync + 'a;

fn decrypt_chunks(v: &Verified, out: &mut [u8], path: &Path, fetch: &FetchChunk<'_>) -> Result<()> {
    let h = &v.header;
    let count = h.chunk_count();
    let aad = Aad::from(h.mac);
    let failure = |i: u64| Error::ChunkCorrupted {
        path: path.to_path_buf(),
        chunk: i,
        chunks: count,
    };
    if h.plaintext_len == 0 {
        let mut tag = [0u8; TAG_LEN];
        fetch(0, &mut [], &mut tag)?;
        return v
            .keys
            .aead
            .open_in_place_separate_tag(
                nonce(&v.keys.nonce_prefix, 0, true),
                aad,
                aead::Tag::from(tag),
                &mut [],
                0..,
            )
            .map(|_| ())
            .map_err(|_| failure(0));
    }
    let one = |(j, data): (usize, &mut [u8])| -> Option<(u64, Error)> {
        let i = j as u64;
        let mut tag = [0u8; TAG_LEN];
        if let Err(e) = fetch(i, data, &mut tag) {
            return Some((i, e));
        }
        v.keys
            .aead
            .open_in_place_separate_tag(
                nonce(&v.keys.nonce_prefix, i, i + 1 == count),
                aad,
                aead::Tag::from(tag),
                data,
                0..,
            )
            .err()
            .map(|_| (i, failure(i)))
    };
    let chunk = h.chunk_size() as usize;
    // Small files are not worth waking the thread pool for.
    let errors: Vec<(u64, Error)> = if h.plaintext_len < PARALLEL_MIN_BYTES {
        out.chunks_mut(chunk).enumerate().filter_map(one).collect()
    } else {
        out.par_chunks_mut(chunk)
            .enumerate()
            .filter_map(one)
            .collect()
    };
    match errors.into_iter().min_by_key(|(i, _)| *i) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// Opens a sealed file image held in memory. No plaintext is returned unless every chunk authenticates.
pub fn open_image(key: &Key, data: &[u8], path: &Path) -> Result<(Header, Secret)> {
    let header = parse_header(data).map_err(|e| e.into_error(path, data.len() as u64))?;
    let v = verify_header(key, header, path)?;
    open_verified_image(&v, data, path)
}

/// Opens the payload of `data` whose header was already verified.
pub fn open_verified_image(v: &Verified, data: &[u8], path: &Path) -> Result<(Header, Secret)> {
    let h = &v.header;
    check_length(h, data.len() as u64, path)?;
    let mut out = Secret::zeroed(h.plaintext_len as usize);
    decrypt_chunks(v, &mut out, path, &|i, chunk, tag| {
        let off = h.chunk_offset(i) as usize;
        chunk.copy_from_slice(&data[off..off + chunk.len()]);
        tag.copy_from_slice(&data[off + chunk.len()..off + chunk.len() + TAG_LEN]);
        Ok(())
    })?;
    Ok((v.header.clone(), out))
}

/// Reads and parses the header at the start of `file`.
pub fn read_header(file: &mut File, path: &Path) -> Result<Header> {
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    read_header_from(file, path, Some(file_len))
}

/// Reads and parses a header from the start of `r`; `total_len`, when known, is reported on truncation.
pub(crate) fn read_header_from(
    r: &mut dyn Read,
    path: &Path,
    total_len: Option<u64>,
) -> Result<Header> {
    let mut buf = vec![0u8; FIXED_LEN];
    let got = read_up_to(r, &mut buf).map_err(|e| Error::io(path, e))?;
    buf.truncate(got);
    let parsed = match parse_header(&buf) {
        Err(ParseError::Short(need)) if got == FIXED_LEN => {
            buf.resize(need, 0);
            let more = read_up_to(r, &mut buf[FIXED_LEN..]).map_err(|e| Error::io(path, e))?;
            buf.truncate(FIXED_LEN + more);
            parse_header(&buf)
        }
        other => other,
    };
    parsed.map_err(|e| e.into_error(path, total_len.unwrap_or(buf.len() as u64)))
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Opens a sealed file from disk: chunks are read with positional reads straight into the output buffer
/// and decrypted in place, in parallel. Peak memory is the plaintext size plus a few bytes per thread.
pub fn open_path(key: &Key, path: &Path) -> Result<(Header, Secret)> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let header = read_header(&mut file, path)?;
    let v = verify_header(key, header, path)?;
    open_verified_file(&v, &file, path)
}

/// Opens the payload of `file` whose header was already verified.
pub fn open_verified_file(v: &Verified, file: &File, path: &Path) -> Result<(Header, Secret)> {
    let h = &v.header;
    let actual = file.metadata().map_err(|e| Error::io(path, e))?.len();
    check_length(h, actual, path)?;
    let len = usize::try_from(h.plaintext_len).map_err(|_| {
        Error::usage(
            path,
            "too large to open in memory on this platform; use the streaming reader",
        )
    })?;
    let mut out = Secret::zeroed(len);
    decrypt_chunks(v, &mut out, path, &|i, chunk, tag| {
        let off = h.chunk_offset(i);
        read_exact_at(file, chunk, off)
            .and_then(|_| read_exact_at(file, tag, off + chunk.len() as u64))
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => Error::Truncated {
                    path: path.to_path_buf(),
                    expected: h.sealed_len(),
                    actual,
                },
                _ => Error::io(path, e),
            })
    })?;
    Ok((v.header.clone(), out))
}
