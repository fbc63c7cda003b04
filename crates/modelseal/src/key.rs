//! 256-bit master keys: generation from the OS CSPRNG, base64 parsing, and reading from file, stdin or environment.
//! Keys live in zeroize-on-drop memory; their Debug form never shows the bytes.

use crate::error::{Error, Result};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use std::fmt;
use std::io::Read;
use std::path::Path;
use zeroize::Zeroizing;

/// Length of a master key in bytes.
pub const KEY_LEN: usize = 32;

/// Name of the environment variable that may hold the key.
pub const KEY_ENV: &str = "MODELSEAL_KEY";

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A 256-bit master key, wiped on drop.
#[derive(Clone)]
pub struct Key(Zeroizing<[u8; KEY_LEN]>);

impl Key {
    /// A new key from the operating system's CSPRNG.
    pub fn generate() -> Result<Key> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        fill_random(&mut bytes[..])?;
        Ok(Key(bytes))
    }

    /// A key from raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Key {
        Key(Zeroizing::new(bytes))
    }

    /// Parses the base64 key string (standard alphabet; padding optional; surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Key> {
        Self::parse(text, None)
    }

    fn parse(text: &str, origin: Option<String>) -> Result<Key> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(Error::BadKey {
                origin,
                reason: "the key is empty".into(),
            });
        }
        let decoded = Zeroizing::new(LENIENT.decode(trimmed).map_err(|e| Error::BadKey {
            origin: origin.clone(),
            reason: format!("not valid base64 ({e}); a key is base64 of 32 bytes, 44 characters"),
        })?);
        if decoded.len() != KEY_LEN {
            return Err(Error::BadKey {
                origin,
                reason: format!(
                    "decodes to {} bytes; a key is base64 of exactly {KEY_LEN} bytes (44 characters)",
                    decoded.len()
                ),
            });
        }
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&decoded);
        Ok(Key(bytes))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key as a base64 string (44 characters), wiped on drop.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(&self.0[..]))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

/// Fills `out` from the operating system's CSPRNG.
pub(crate) fn fill_random(out: &mut [u8]) -> Result<()> {
    SystemRandom::new().fill(out).map_err(|_| Error::Random)
}

/// Where a key came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `--key-file FILE` (or stdin for `-`).
    File,
    /// The `MODELSEAL_KEY` environment variable.
    Env,
    /// `--key KEY` on the command line (visible to other users).
    Argument,
}

/// Resolves the key of a command: `key_file` (`-` = stdin) first, then `MODELSEAL_KEY`, then `key_arg`.
/// Returns the key and where it came from, or `None` when no source gives one.
pub fn resolve_key(
    key_file: Option<&Path>,
    key_arg: Option<&str>,
) -> Result<Option<(Key, KeyOrigin)>> {
    if let Some(path) = key_file {
        let mut text = Zeroizing::new(String::new());
        let origin = if path == Path::new("-") {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Error::io("<stdin>", e))?;
            "standard input".to_string()
        } else {
            std::fs::File::open(path)
                .and_then(|mut f| f.read_to_string(&mut text))
                .map_err(|e| Error::io(path, e))?;
            format!("key file {}", path.display())
        };
        return Key::parse(&text, Some(origin)).map(|k| Some((k, KeyOrigin::File)));
    }
    if let Some(value) = std::env::var_os(KEY_ENV) {
        let value = Zeroizing::new(value.to_string_lossy().into_owned());
        if !value.trim().is_empty() {
            return Key::parse(&value, Some(format!("environment variable {KEY_ENV}")))
                .map(|k| Some((k, KeyOrigin::Env)));
        }
    }
    if let Some(text) = key_arg {
        return Key::parse(text, Some("--key".into())).map(|k| Some((k, KeyOrigin::Argument)));
    }
    Ok(None)
}

/// The warning printed when a key is given on the command line.
pub const ARGV_KEY_WARNING: &str = "warning: --key puts the key on the command line, where other users of this machine can read it (ps, /proc); prefer --key-file FILE or MODELSEAL_KEY";

/// Like [`resolve_key`], printing [`ARGV_KEY_WARNING`] on stderr when the key came from `key_arg`.
pub fn read_key(key_file: Option<&Path>, key_arg: Option<&str>) -> Result<Option<Key>> {
    let resolved = resolve_key(key_file, key_arg)?;
    if let Some((_, KeyOrigin::Argument)) = resolved {
        eprintln!("{ARGV_KEY_WARNING}");
    }
    Ok(resolved.map(|(k, _)| k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_padded_and_unpadded() {
        let k = Key::from_base64("MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2Nzg=").unwrap();
        assert_eq!(&k.as_bytes()[..], b"12345678123456781234567812345678");
        let k2 = Key::from_base64(" MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2Nzg\n").unwrap();
        assert_eq!(k.as_bytes(), k2.as_bytes());
        assert_eq!(
            &*k.to_base64(),
            "MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2Nzg="
        );
    }

    #[test]
    fn rejects_wrong_lengths_and_garbage() {
        for bad in [
            "",
            "   ",
            "MTIz",
            "MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2NzgA",
            "not base64!!",
            "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaA==",
        ] {
            let err = Key::from_base64(bad).unwrap_err();
            assert!(matches!(err, Error::BadKey { .. }), "{bad:?}: {err}");
            assert_eq!(err.kind(), crate::ErrorKind::Usage);
        }
    }

    #[test]
    fn generated_keys_differ_and_are_44_chars() {
        let a = Key::generate().unwrap();
        let b = Key::generate().unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(a.to_base64().len(), 44);
        assert!(!format!("{a:?}").contains(&*a.to_base64()));
    }
}
