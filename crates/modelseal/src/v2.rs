//! Sealed format v2: authenticated header with key commitment, HKDF-derived per-file keys, AES-256-GCM STREAM chunks.
//! The byte layout is specified in docs/FORMAT.md; this module seals and opens one sealed file (in memory, from a file, or as a stream).

use crate::error::{Error, Result};
use crate::key::{fill_random, Key};
use crate::secret::Secret;
use rayon::prelude::*;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::{hkdf, hmac};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The 7 magic bytes that open every v2 sealed file.
pub const MAGIC: &[u8; 7] = b"MDLSEAL";
/// The format version written by this build.
pub const VERSION: u8 = 2;
/// Length of the fixed part of the header (before the name).
pub const FIXED_LEN: usize = 70;
/// Bytes that follow the name: key commitment (32) and header MAC (32).
pub const TRAILER_LEN: usize = 64;
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;
/// Default chunk size exponent (64 KiB chunks).
pub const DEFAULT_CHUNK_LOG2: u8 = 16;
/// Smallest and largest allowed chunk size exponents.
pub const CHUNK_LOG2_RANGE: std::ops::RangeInclusive<u8> = 12..=24;
/// Longest member name in bytes.
pub const MAX_NAME_LEN: usize = 4096;
const AEAD_AES_256_GCM: u8 = 1;
const NONCE_PREFIX_LEN: usize = 7;
/// Plaintexts smaller than this are decrypted on the calling thread.
const PARALLEL_MIN_BYTES: u64 = 1 << 20;
/// Chunks processed per batch when sealing a stream.
const SEAL_BATCH_CHUNKS: usize = 64;

/// What a sealed file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A member of a model directory (or a single sealed file).
    Member,
    /// The manifest of a sealed directory.
    Manifest,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Member => 1,
            Kind::Manifest => 2,
        }
    }
}

/// A parsed v2 header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Member or manifest.
    pub kind: Kind,
    /// Chunk size exponent: chunks hold `1 << chunk_log2` plaintext bytes.
    pub chunk_log2: u8,
    /// Plaintext length in bytes.
    pub plaintext_len: u64,
    /// Random identifier shared by every file of one sealing.
    pub seal_id: [u8; 16],
    /// Random per-file salt of the key derivation.
    pub salt: [u8; 32],
    /// Member name ('/'-separated relative path).
    pub name: String,
    /// Key commitment.
    pub commitment: [u8; 32],
    /// HMAC-SHA256 over every header byte before it.
    pub mac: [u8; 32],
}

impl Header {
    /// Encoded length of this header in bytes.
    pub fn len(&self) -> usize {
        FIXED_LEN + self.name.len() + TRAILER_LEN
    }

    /// Always false: a header is never empty.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Plaintext bytes per chunk.
    pub fn chunk_size(&self) -> u64 {
        1u64 << self.chunk_log2
    }

    /// Number of chunks (at least one; an empty file has one empty final chunk).
    pub fn chunk_count(&self) -> u64 {
        self.plaintext_len.div_ceil(self.chunk_size()).max(1)
    }

    /// Total length of the sealed file.
    pub fn sealed_len(&self) -> u64 {
        self.len() as u64 + self.plaintext_len + self.chunk_count() * TAG_LEN as u64
    }

    /// Plaintext length of chunk `i`.
    fn chunk_plain_len(&self, i: u64) -> usize {
        let start = i * self.chunk_size();
        (self.plaintext_len - start).min(self.chunk_size()) as usize
    }

    /// Offset of chunk `i` in the sealed file.
    fn chunk_offset(&self, i: u64) -> u64 {
        self.len() as u64 + i * (self.chunk_size() + TAG_LEN as u64)
    }

    fn encode_authenticated_part(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(self.kind.byte());
        out.push(AEAD_AES_256_GCM);
        out.push(self.chunk_log2);
        out.push(0);
        out.extend_from_slice(&self.plaintext_len.to_le_bytes());
        out.extend_from_slice(&self.seal_id);
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&(self.name.len() as u16).to_le_bytes());
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(&self.commitment);
        out
    }

    /// The encoded header.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.encode_authenticated_part();
        out.extend_from_slice(&self.mac);
        out
    }
}

/// Why a byte string is not a v2 header.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Does not start with the v2 magic.
    NotSealed,
    /// The magic is there but the version is not 2.
    Version(u8),
    /// More bytes are needed: at least this many in all.
    Short(usize),
    /// A field has a value that is not allowed.
    Malformed(String),
}

impl ParseError {
    pub(crate) fn into_error(self, path: &Path, available: u64) -> Error {
        let path = path.to_path_buf();
        match self {
            ParseError::NotSealed => Error::NotSealed { path },
            ParseError::Version(version) => Error::UnsupportedVersion { path, version },
            ParseError::Short(n) => Error::Truncated {
                path,
                expected: n as u64,
                actual: available,
            },
            ParseError::Malformed(reason) => Error::HeaderCorrupted { path, reason },
        }
    }
}

/// Parses a v2 header from the start of `buf`.
pub fn parse_header(buf: &[u8]) -> Result<Header, ParseError> {
    let n = buf.len().min(MAGIC.len());
    if buf[..n] != MAGIC[..n] {
        return Err(ParseError::NotSealed);
    }
    if buf.len() < MAGIC.len() + 1 {
        return Err(ParseError::Short(FIXED_LEN));
    }
    if buf[7] != VERSION {
        return Err(ParseError::Version(buf[7]));
    }
    if buf.len() < FIXED_LEN {
        return Err(ParseError::Short(FIXED_LEN));
    }
    let kind = match buf[8] {
        1 => Kind::Member,
        2 => Kind::Manifest,
        k => return Err(ParseError::Malformed(format!("unknown kind byte {k}"))),
    };
    if buf[9] != AEAD_AES_256_GCM {
        return Err(ParseError::Malformed(format!(
            "unknown cipher id {}",
            buf[9]
        )));
    }
    let chunk_log2 = buf[10];
    if !CHUNK_LOG2_RANGE.contains(&chunk_log2) {
        return Err(ParseError::Malformed(format!(
            "chunk size exponent {chunk_log2} out of range"
        )));
    }
    if buf[11] != 0 {
        return Err(ParseError::Malformed(format!(
            "reserved flags byte is {} (must be 0)",
            buf[11]
        )));
    }
    let plaintext_len = u64::from_le_bytes(buf[12..20].try_into().expect("8 bytes"));
    // Bound so that every offset computation fits in u64 and the chunk counter in u32.
    let max_chunks = 1u64 << 32;
    if plaintext_len > (1u64 << 62) || plaintext_len.div_ceil(1u64 << chunk_log2) > max_chunks {
        return Err(ParseError::Malformed(format!(
            "plaintext length {plaintext_len} too large"
        )));
    }
    let seal_id: [u8; 16] = buf[20..36].try_into().expect("16 bytes");
    let salt: [u8; 32] = buf[36..68].try_into().expect("32 bytes");
    let name_len = u16::from_le_bytes([buf[68], buf[69]]) as usize;
    if name_len == 0 || name_len > MAX_NAME_LEN {
        return Err(ParseError::Malformed(format!(
            "name length {name_len} out of range"
        )));
    }
    let total = FIXED_LEN + name_len + TRAILER_LEN;
    if buf.len() < total {
        return Err(ParseError::Short(total));
    }
    let name = std::str::from_utf8(&buf[FIXED_LEN..FIXED_LEN + name_len])
        .map_err(|_| ParseError::Malformed("member name is not UTF-8".into()))?
        .to_string();
    let at = FIXED_LEN + name_len;
    Ok(Header {
        kind,
        chunk_log2,
        plaintext_len,
        seal_id,
        salt,
        name,
        commitment: buf[at..at + 32].try_into().expect("32 bytes"),
        mac: buf[at + 32..at + 64].try_into().expect("32 bytes"),
    })
}

struct OkmLen(usize);

impl hkdf::KeyType for OkmLen {
    fn len(&self) -> usize {
        self.0
    }
}

fn expand(prk: &hkdf::Prk, info: &[&[u8]], out: &mut [u8]) {
    prk.expand(info, OkmLen(out.len()))
        .and_then(|okm| okm.fill(out))
        .expect("HKDF output length is small and valid");
}

/// Keys derived for one sealed file.
struct FileKeys {
    commitment: [u8; 32],
    mac_key: hmac::Key,
    aead: LessSafeKey,
    nonce_prefix: [u8; NONCE_PREFIX_LEN],
}

const LABEL_COMMIT: &[u8] = b"modelseal v2 key commitment";
const LABEL_MAC: &[u8] = b"modelseal v2 header mac";
const LABEL_AEAD: &[u8] = b"modelseal v2 aead key";
const LABEL_NONCE: &[u8] = b"modelseal v2 nonce prefix";

fn derive(key: &Key, kind: Kind, salt: &[u8; 32], name: &str) -> FileKeys {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(key.as_bytes());
    let kind_byte = [kind.byte()];
    let mut commitment = [0u8; 32];
    expand(&prk, &[LABEL_COMMIT], &mut commitment);
    let mut mac_bytes = Zeroizing::new([0u8; 32]);
    expand(&prk, &[LABEL_MAC], &mut mac_bytes[..]);
    let mut aead_bytes = Zeroizing::new([0u8; 32]);
    expand(
        &prk,
        &[LABEL_AEAD, &kind_byte, name.as_bytes()],
        &mut aead_bytes[..],
    );
    let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
    expand(
        &prk,
        &[LABEL_NONCE, &kind_byte, name.as_bytes()],
        &mut nonce_prefix,
    );
    FileKeys {
        commitment,
        mac_key: hmac::Key::new(hmac::HMAC_SHA256, &mac_bytes[..]),
        aead: LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &aead_bytes[..]).expect("32-byte key"),
        ),
        nonce_prefix,
    }
}

fn nonce(prefix: &[u8; NONCE_PREFIX_LEN], index: u64, last: bool) -> Nonce {
    let mut n = [0u8; 12];
    n[..NONCE_PREFIX_LEN].copy_from_slice(prefix);
    n[NONCE_PREFIX_LEN..11].copy_from_slice(&(index as u32).to_be_bytes());
    n[11] = u8::from(last);
    Nonce::assume_unique_for_key(n)
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A header checked against a key: the key commitment and the header MAC both verified.
pub struct Verified {
    header: Header,
    keys: FileKeys,
}

impl Verified {
    /// The verified header.
    pub fn header(&self) -> &Header {
        &self.header
    }
}

/// Checks `header` against `key`: a commitment mismatch is [`Error::WrongKey`], a MAC mismatch [`Error::HeaderCorrupted`].
pub fn verify_header(key: &Key, header: Header, path: &Path) -> Result<Verified> {
    let keys = derive(key, header.kind, &header.salt, &header.name);
    if !ct_eq(&keys.commitment, &header.commitment) {
        return Err(Error::WrongKey {
            path: path.to_path_buf(),
        });
    }
    hmac::verify(
        &keys.mac_key,
        &header.encode_authenticated_part(),
        &header.mac,
    )
    .map_err(|_| Error::HeaderCorrupted {
        path: path.to_path_buf(),
        reason: "header authentication tag does not verify".into(),
    })?;
    Ok(Verified { header, keys })
}

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
    let mut buf = Zeroizing::new(vec![0u8; batch_chunks * chunk]);
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
pub fn seal_bytes(key: &Key, params: &SealParams, plaintext: &[u8]) -> Result<Vec<u8>> {
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
pub fn open_bytes(key: &Key, data: &[u8], path: &Path) -> Result<(Header, Secret)> {
    let header = parse_header(data).map_err(|e| e.into_error(path, data.len() as u64))?;
    let v = verify_header(key, header, path)?;
    open_verified_bytes(&v, data, path)
}

/// Opens the payload of `data` whose header was already verified.
pub fn open_verified_bytes(v: &Verified, data: &[u8], path: &Path) -> Result<(Header, Secret)> {
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
fn read_header_from(r: &mut dyn Read, path: &Path, total_len: Option<u64>) -> Result<Header> {
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

fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
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
pub fn open_file(key: &Key, path: &Path) -> Result<(Header, Secret)> {
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

/// Streams the plaintext of a sealed file through [`std::io::Read`].
///
/// Every chunk is authenticated before any of its bytes are returned; a truncated, extended or
/// reordered file yields an error (of kind `InvalidData`, wrapping [`Error`]) at the point it is detected.
pub struct OpenReader<R: Read> {
    inner: R,
    v: Verified,
    path: PathBuf,
    buf: Zeroizing<Vec<u8>>,
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
            buf: Zeroizing::new(vec![0u8; cap]),
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
