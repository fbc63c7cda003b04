//! 256-bit master keys: generation from the OS CSPRNG, base64 parsing, reading from a key file.
//! Keys live in zeroize-on-drop memory left out of core dumps; their Debug form never shows the bytes.

use crate::error::{Error, Result};
use crate::secret::Secret;
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

/// Longest key file read: a key is 44 characters; a little whitespace is tolerated.
const MAX_KEY_FILE_LEN: u64 = 4096;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A 256-bit master key, wiped on drop.
///
/// ```
/// let key = modelseal::Key::generate()?;
/// let text = key.to_base64();
/// assert_eq!(text.len(), 44);
/// assert_eq!(modelseal::Key::from_base64(&text)?.as_bytes(), key.as_bytes());
/// # Ok::<(), modelseal::Error>(())
/// ```
#[derive(Clone)]
pub struct Key(Secret);

impl Key {
    /// A new key from the operating system's CSPRNG.
    pub fn generate() -> Result<Key> {
        let mut bytes = Secret::zeroed(KEY_LEN);
        fill_random(&mut bytes)?;
        Ok(Key(bytes))
    }

    /// A key from raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Key {
        let bytes = Zeroizing::new(bytes);
        Key(Secret::from_slice(&bytes[..]))
    }

    /// Parses the base64 key string (standard alphabet; padding optional; surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Key> {
        Self::parse(text, None)
    }

    /// Like [`Key::from_base64`]; `origin` (e.g. "environment variable X") names the text's source
    /// in errors.
    pub fn from_base64_named(text: &str, origin: &str) -> Result<Key> {
        Self::parse(text, Some(origin.to_string()))
    }

    /// Reads a key file: the base64 key, optionally surrounded by whitespace. A pipe works too
    /// (a shell's `<(...)`); at most a few KiB are read.
    ///
    /// ```
    /// use modelseal::Key;
    /// # let tmp = tempfile::TempDir::new()?;
    /// let key = Key::generate()?;
    /// let path = tmp.path().join("model.key");
    /// modelseal::write_key_file(&path, &key)?; // mode 0600, never over an existing file
    /// assert_eq!(Key::read_file(&path)?.as_bytes(), key.as_bytes());
    /// let err = Key::read_file(&tmp.path().join("missing.key")).unwrap_err();
    /// assert_eq!(err.kind(), modelseal::ErrorKind::Io);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_file(path: &Path) -> Result<Key> {
        let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Self::from_reader(&mut f, &format!("key file {}", path.display())).map_err(|e| match e {
            Error::Io { source, .. } => Error::io(path, source),
            other => other,
        })
    }

    /// Reads a key from `reader` (a key file, standard input): the base64 key, optionally
    /// surrounded by whitespace; `origin` names the source in errors. The text is read into
    /// one buffer allocated up front at its full size and wiped when dropped (no growth that
    /// would leave copies in freed memory); more than a few KiB is refused as not a key.
    ///
    /// ```
    /// use modelseal::Key;
    /// let text = b"  MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2Nzg=\n";
    /// let key = Key::from_reader(&mut &text[..], "standard input")?;
    /// assert_eq!(key.as_bytes(), b"12345678123456781234567812345678");
    /// let err = Key::from_reader(&mut &b"not a key"[..], "standard input").unwrap_err();
    /// assert_eq!(err.kind(), modelseal::ErrorKind::Usage);
    /// assert!(err.to_string().contains("standard input"), "{err}");
    /// # Ok::<(), modelseal::Error>(())
    /// ```
    pub fn from_reader(reader: &mut dyn Read, origin: &str) -> Result<Key> {
        let limit = MAX_KEY_FILE_LEN as usize;
        let mut buf = Zeroizing::new(vec![0u8; limit + 1]);
        let mut n = 0;
        while n < buf.len() {
            match reader.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(origin, e)),
            }
        }
        if n > limit {
            return Err(Error::BadKey {
                origin: Some(origin.to_string()),
                reason: "far longer than a key (44 characters)".into(),
            });
        }
        let text = std::str::from_utf8(&buf[..n]).map_err(|_| Error::BadKey {
            origin: Some(origin.to_string()),
            reason: "not text; a key is base64 of 32 bytes, 44 characters".into(),
        })?;
        Self::parse(text, Some(origin.to_string()))
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
        Ok(Key(Secret::from_slice(&decoded)))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        (&self.0[..]).try_into().expect("a key holds 32 bytes")
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
        assert!(a.0.is_excluded_from_core_dumps() || !cfg!(target_os = "linux"));
    }

    /// A reader that hands out its bytes a few at a time, like a pipe.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(3).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn keys_are_read_from_any_reader_within_a_bound() {
        let text = b"  MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2Nzg=\n";
        let k = Key::from_reader(&mut Trickle(text), "standard input").unwrap();
        assert_eq!(&k.as_bytes()[..], b"12345678123456781234567812345678");
        // An endless source stops at the bound: an error naming the source, not a hang.
        let e = Key::from_reader(&mut std::io::repeat(b'A'), "standard input").unwrap_err();
        assert!(matches!(e, Error::BadKey { .. }), "{e}");
        assert!(e.to_string().contains("standard input"), "{e}");
        let e = Key::from_reader(&mut &b"\xff\xfe"[..], "pipe").unwrap_err();
        assert!(
            e.to_string().contains("pipe") && e.to_string().contains("not text"),
            "{e}"
        );
    }

    #[test]
    fn key_files_are_read_with_their_name_in_errors() {
        let dir = tempfile::TempDir::new().unwrap();
        let good = dir.path().join("k");
        std::fs::write(&good, "MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2Nzg=\n").unwrap();
        assert_eq!(
            &Key::read_file(&good).unwrap().as_bytes()[..],
            b"12345678123456781234567812345678"
        );
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "short").unwrap();
        let e = Key::read_file(&bad).unwrap_err();
        assert!(e.to_string().contains(&bad.display().to_string()), "{e}");
        let huge = dir.path().join("huge");
        std::fs::write(&huge, vec![b'A'; 1 << 20]).unwrap();
        assert!(matches!(Key::read_file(&huge), Err(Error::BadKey { .. })));
        let missing = dir.path().join("missing");
        assert_eq!(
            Key::read_file(&missing).unwrap_err().kind(),
            crate::ErrorKind::Io
        );
    }
}
