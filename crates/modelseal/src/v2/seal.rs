//! Sealing one file as v2: a fresh salt and header, then the payload in AES-256-GCM STREAM chunks
//! sealed in parallel batches.

use super::header::*;
use super::keys::{derive, nonce, FileKeys};
use crate::error::{Error, Result};
use crate::key::{fill_random, Key};
use crate::secret::Secret;
use rayon::prelude::*;
use ring::aead::Aad;
use ring::hmac;
use std::io::{self, Read, Write};
use std::path::Path;

/// Chunks processed per batch when sealing a stream.
const SEAL_BATCH_CHUNKS: usize = 64;

/// Parameters of one sealing.
#[derive(Clone, Debug)]
pub struct SealParams {
    /// Member or manifest.
    pub kind: Kind,
    /// Member name recorded (and authenticated) in the header.
    pub name: String,
    /// Identifier shared by all files of one sealing.
    pub seal_id: [u8; 16],
    /// Chunk size exponent.
    pub chunk_log2: u8,
}

impl SealParams {
    /// Parameters for a single member with a fresh random sealing id and the default chunk size.
    pub fn member(name: &str) -> Result<SealParams> {
        Ok(SealParams {
            kind: Kind::Member,
            name: name.to_string(),
            seal_id: random_id()?,
            chunk_log2: DEFAULT_CHUNK_LOG2,
        })
    }
}

/// A fresh random 16-byte sealing id.
pub fn random_id() -> Result<[u8; 16]> {
    let mut id = [0u8; 16];
    fill_random(&mut id)?;
    Ok(id)
}

fn new_header(
    key: &Key,
    params: &SealParams,
    plaintext_len: u64,
    path: &Path,
) -> Result<(Header, FileKeys)> {
    if params.name.is_empty() || params.name.len() > MAX_NAME_LEN {
        return Err(Error::usage(
            path,
            format!("member name must be 1..={MAX_NAME_LEN} bytes"),
        ));
    }
    if !CHUNK_LOG2_RANGE.contains(&params.chunk_log2) {
        return Err(Error::usage(
            path,
            format!("chunk size exponent {} out of range", params.chunk_log2),
        ));
    }
    let mut salt = [0u8; 32];
    fill_random(&mut salt)?;
    let keys = derive(key, params.kind, &salt, &params.name);
    let mut header = Header {
        kind: params.kind,
        chunk_log2: params.chunk_log2,
        plaintext_len,
        seal_id: params.seal_id,
        salt,
        name: params.name.clone(),
        commitment: keys.commitment,
        mac: [0u8; 32],
    };
    if parse_header(&header.encode()).is_err() {
        return Err(Error::usage(
            path,
            format!("{plaintext_len} bytes is too large for one sealed file"),
        ));
    }
    let tag = hmac::sign(&keys.mac_key, &header.encode_authenticated_part());
    header.mac.copy_from_slice(tag.as_ref());
    Ok((header, keys))
}

/// Seals `len` bytes read from `input` into `output`; `progress` receives each batch's plaintext byte count.
/// `src` names the input in errors. Fails if `input` does not hold exactly `len` bytes.
pub fn seal_stream(
    key: &Key,
    params: &SealParams,
    len: u64,
    input: &mut dyn Read,
    output: &mut dyn Write,
    src: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Header> {
    let (header, keys) = new_header(key, params, len, src)?;
    let out_err = |e| Error::io(src, e);
    output.write_all(&header.encode()).map_err(out_err)?;
    let chunk = header.chunk_size() as usize;
    let count = header.chunk_count();
    let batch_chunks = SEAL_BATCH_CHUNKS.min(count as usize);
    let mut buf = Secret::zeroed(batch_chunks * chunk);
    let mut tags = vec![[0u8; TAG_LEN]; batch_chunks];
    let aad = Aad::from(header.mac);
    let mut index = 0u64;
    while index < count {
        let n = (count - index).min(batch_chunks as u64) as usize;
        let batch_len: usize = (0..n)
            .map(|j| header.chunk_plain_len(index + j as u64))
            .sum();
        read_exact_or(input, &mut buf[..batch_len], src)?;
        buf[..batch_len]
            .par_chunks_mut(chunk)
            .zip(tags[..n].par_iter_mut())
            .enumerate()
            .for_each(|(j, (data, tag))| {
                let i = index + j as u64;
                let t = keys
                    .aead
                    .seal_in_place_separate_tag(
                        nonce(&keys.nonce_prefix, i, i + 1 == count),
                        aad,
                        data,
                    )
                    .expect("chunk within AES-GCM limits");
                tag.copy_from_slice(t.as_ref());
            });
        if n == 0 || batch_len == 0 {
            // An empty file: one empty final chunk.
            let t = keys
                .aead
                .seal_in_place_separate_tag(nonce(&keys.nonce_prefix, 0, true), aad, &mut [])
                .expect("empty chunk");
            tags[0].copy_from_slice(t.as_ref());
            output.write_all(&tags[0]).map_err(out_err)?;
        } else {
            for (j, data) in buf[..batch_len].chunks(chunk).enumerate() {
                output.write_all(data).map_err(out_err)?;
                output.write_all(&tags[j]).map_err(out_err)?;
            }
        }
        progress(batch_len as u64);
        index += n as u64;
    }
    let mut probe = [0u8; 1];
    match input.read(&mut probe) {
        Ok(0) => {}
        Ok(_) => {
            return Err(Error::SourceChanged {
                path: src.to_path_buf(),
                reason: format!("longer than {len} bytes"),
            })
        }
        Err(e) => return Err(Error::io(src, e)),
    }
    Ok(header)
}

fn read_exact_or(input: &mut dyn Read, buf: &mut [u8], src: &Path) -> Result<()> {
    input.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Error::SourceChanged {
                path: src.to_path_buf(),
                reason: "shorter than when sealing started".into(),
            }
        } else {
            Error::io(src, e)
        }
    })
}

/// Seals a byte slice into a new sealed file image.
pub fn seal_image(key: &Key, params: &SealParams, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(plaintext.len() + 256 + plaintext.len() / 4096);
    let mut input = plaintext;
    seal_stream(
        key,
        params,
        plaintext.len() as u64,
        &mut input,
        &mut out,
        Path::new("<memory>"),
        &|_| {},
    )?;
    Ok(out)
}
