//! PaddleX / FastDeploy format v1 ("PADDLE1"): reading, and writing for old loaders.
//! v1 uses one AES-256-GCM nonce (key bytes 16..32) for every file under a key; it is read for compatibility only.

use crate::error::{Error, Result};
use crate::key::{fill_random, Key};
use crate::secret::Secret;
use aes_gcm::aead::consts::U16;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{AesGcm, Nonce, Tag};
use base64::Engine;
use ring::digest;
use std::path::Path;

/// Magic plus version of a v1 file.
pub const MAGIC: &[u8; 7] = b"PADDLE1";
/// Base64 of "PADDLE": how FastDeploy's base64-wrapped v1 files begin.
pub const BASE64_MAGIC: &[u8; 8] = b"UEFERExF";
/// Header length: magic (6) + version (1) + 128-byte key-check field.
pub const HEADER_LEN: usize = 135;
/// GCM tag length.
pub const TAG_LEN: usize = 16;
/// The warning every v1 writer prints.
pub const NONCE_REUSE_WARNING: &str = "warning: PaddleX format v1 encrypts every file under one key with the same AES-GCM nonce (the second half of the key); anyone holding two such files can recover XORs of plaintexts and forge data. Use it only for loaders that cannot read format v2";

type Aes256Gcm16 = AesGcm<aes::Aes256, U16>;

/// True when `prefix` starts like a PaddleX file ("PADDLE", any version), raw or base64-wrapped.
pub fn looks_like_v1(prefix: &[u8]) -> bool {
    prefix.starts_with(&MAGIC[..6]) || prefix.starts_with(BASE64_MAGIC)
}

fn key_check(key: &Key) -> [u8; 64] {
    let d = digest::digest(&digest::SHA256, key.as_bytes());
    let mut out = [0u8; 64];
    hex::encode_to_slice(d.as_ref(), &mut out).expect("64 hex digits");
    out
}

fn cipher(key: &Key) -> (Aes256Gcm16, [u8; 16]) {
    let c = Aes256Gcm16::new_from_slice(key.as_bytes()).expect("32-byte key");
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&key.as_bytes()[16..32]);
    (c, iv)
}

/// Decrypts a v1 file image (raw `PADDLE1` or FastDeploy's base64 text). All 32 key bytes are
/// checked, so keys containing 0x00 work.
pub fn open(key: &Key, data: &[u8], path: &Path) -> Result<Secret> {
    let decoded;
    let raw: &[u8] = if data.starts_with(BASE64_MAGIC) {
        let text: Vec<u8> = data
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        decoded = base64::engine::general_purpose::STANDARD
            .decode(&text)
            .map_err(|e| Error::HeaderCorrupted {
                path: path.to_path_buf(),
                reason: format!("base64-wrapped PaddleX file does not decode: {e}"),
            })?;
        &decoded
    } else {
        data
    };
    if !raw.starts_with(b"PADDLE") {
        return Err(Error::not_sealed(path, "no PaddleX header"));
    }
    if raw.len() < 7 || raw[6] != b'1' {
        return Err(Error::UnsupportedVersion {
            path: path.to_path_buf(),
            version: raw.get(6).copied().unwrap_or(0),
        });
    }
    let min = (HEADER_LEN + TAG_LEN) as u64;
    if (raw.len() as u64) < min {
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            expected: min,
            actual: raw.len() as u64,
        });
    }
    let check = key_check(key);
    let stored = &raw[7..71];
    // Constant-time comparison of the whole 64-character field.
    if stored
        .iter()
        .zip(check.iter())
        .fold(0u8, |a, (x, y)| a | (x ^ y))
        != 0
    {
        return Err(Error::WrongKey {
            path: path.to_path_buf(),
        });
    }
    let body = &raw[HEADER_LEN..raw.len() - TAG_LEN];
    let tag = Tag::<U16>::clone_from_slice(&raw[raw.len() - TAG_LEN..]);
    let mut out = Secret::new(body.to_vec());
    let (c, iv) = cipher(key);
    c.decrypt_in_place_detached(Nonce::<U16>::from_slice(&iv), b"", &mut out, &tag)
        .map_err(|_| Error::ChunkCorrupted {
            path: path.to_path_buf(),
            chunk: 0,
            chunks: 1,
        })?;
    Ok(out)
}

/// Encrypts `plaintext` as a v1 file image, readable by PaddleX 1.x/2.x and FastDeploy loaders.
/// The 64 filler bytes come from the OS CSPRNG.
pub fn seal(key: &Key, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&key_check(key));
    let mut filler = [0u8; 64];
    fill_random(&mut filler)?;
    out.extend_from_slice(&filler);
    let start = out.len();
    out.extend_from_slice(plaintext);
    let (c, iv) = cipher(key);
    let tag = c
        .encrypt_in_place_detached(Nonce::<U16>::from_slice(&iv), b"", &mut out[start..])
        .map_err(|_| Error::usage("<memory>", "input too large for AES-GCM"))?;
    out.extend_from_slice(&tag);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KAT_KEY: &str = "MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2Nzg=";

    #[test]
    fn known_answer_vector_matches_paddlex() {
        let key = Key::from_base64(KAT_KEY).unwrap();
        let sealed = seal(&key, b"hello world !").unwrap();
        assert_eq!(sealed.len(), 164);
        assert_eq!(
            &sealed[..71],
            b"PADDLE1fed9efbd5a8ef6820d639dbcb831daf9d6308312cc73d6188beb54a9a148e29a"
        );
        assert_eq!(
            hex::encode(&sealed[135..]),
            "3dd5cde1cb317a9052bbb78637cd4c298f70383096a51d9636acf5ed8e"
        );
        assert_eq!(
            &*open(&key, &sealed, Path::new("kat")).unwrap(),
            b"hello world !"
        );
    }
}
