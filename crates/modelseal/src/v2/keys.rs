//! The v2 key schedule: HKDF-SHA256 from the master key and a file's salt to its key commitment,
//! header MAC key, AES-256-GCM key and nonce prefix; and the check of a header against a key.

use super::header::{Header, Kind};
use crate::error::{Error, Result};
use crate::key::Key;
use ring::aead::{LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::{hkdf, hmac};
use std::path::Path;
use zeroize::Zeroizing;

pub(super) const NONCE_PREFIX_LEN: usize = 7;

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
pub(super) struct FileKeys {
    pub(super) commitment: [u8; 32],
    pub(super) mac_key: hmac::Key,
    pub(super) aead: LessSafeKey,
    pub(super) nonce_prefix: [u8; NONCE_PREFIX_LEN],
}

const LABEL_COMMIT: &[u8] = b"modelseal v2 key commitment";
const LABEL_MAC: &[u8] = b"modelseal v2 header mac";
const LABEL_AEAD: &[u8] = b"modelseal v2 aead key";
const LABEL_NONCE: &[u8] = b"modelseal v2 nonce prefix";

pub(super) fn derive(key: &Key, kind: Kind, salt: &[u8; 32], name: &str) -> FileKeys {
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

pub(super) fn nonce(prefix: &[u8; NONCE_PREFIX_LEN], index: u64, last: bool) -> Nonce {
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
    pub(super) header: Header,
    pub(super) keys: FileKeys,
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
