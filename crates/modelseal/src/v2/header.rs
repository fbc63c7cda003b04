//! The v2 header: its fields, encoding and parsing (no key needed).
//! Every header byte but the MAC is authenticated by the MAC, which the key schedule checks.

use crate::error::Error;
use std::path::Path;

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

/// What a sealed file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A member of a model directory (or a single sealed file).
    Member,
    /// The manifest of a sealed directory.
    Manifest,
}

impl Kind {
    pub(crate) fn byte(self) -> u8 {
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
    pub(crate) fn chunk_plain_len(&self, i: u64) -> usize {
        let start = i * self.chunk_size();
        (self.plaintext_len - start).min(self.chunk_size()) as usize
    }

    /// Offset of chunk `i` in the sealed file.
    pub(crate) fn chunk_offset(&self, i: u64) -> u64 {
        self.len() as u64 + i * (self.chunk_size() + TAG_LEN as u64)
    }

    pub(crate) fn encode_authenticated_part(&self) -> Vec<u8> {
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
            ParseError::NotSealed => Error::not_sealed(path, "no modelseal or PaddleX header"),
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
