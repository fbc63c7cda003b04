//! Keys from Python arguments: a base64 `str` (or its ASCII `bytes`), 32 raw bytes, or a key
//! file. The Rust copies live in zeroize-on-drop memory; Python's own objects are outside reach.

use std::path::PathBuf;

use modelseal::{Key, KEY_LEN};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use zeroize::Zeroizing;

use crate::errors::Failure;

/// The key given as `key`: `str` (base64), or `bytes`/`bytearray` holding either 32 raw bytes
/// or the base64 text (a base64 text is never 32 bytes long: 32 characters decode to 24 bytes).
pub(crate) fn from_object(key: &Bound<'_, PyAny>) -> Result<Key, Failure> {
    if let Ok(s) = key.cast::<PyString>() {
        let text = Zeroizing::new(s.to_cow().map_err(|_| bad_text())?.into_owned());
        return Ok(Key::from_base64_named(&text, "the key argument")?);
    }
    let raw: Zeroizing<Vec<u8>> = if let Ok(b) = key.cast::<PyBytes>() {
        Zeroizing::new(b.as_bytes().to_vec())
    } else if let Ok(b) = key.cast::<PyByteArray>() {
        Zeroizing::new(b.to_vec())
    } else {
        return Err(Failure::Type(format!(
            "key must be a str (base64 of 32 bytes) or 32 raw bytes, not {}",
            type_name(key)
        )));
    };
    from_bytes(&raw)
}

/// A key from bytes: 32 raw bytes, else base64 text.
pub(crate) fn from_bytes(raw: &[u8]) -> Result<Key, Failure> {
    if let Ok(arr) = <[u8; KEY_LEN]>::try_from(raw) {
        let arr = Zeroizing::new(arr);
        return Ok(Key::from_bytes(*arr));
    }
    let text = std::str::from_utf8(raw).map_err(|_| bad_text())?;
    Ok(Key::from_base64_named(text, "the key argument")?)
}

fn bad_text() -> Failure {
    Failure::Core(modelseal::Error::BadKey {
        origin: Some("the key argument".into()),
        reason: "neither 32 raw bytes nor base64 text".into(),
    })
}

/// The Python type name of `obj`, for messages.
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// The key from `key` or `key_file` (not both); `None` when neither is given.
pub(crate) fn resolve(
    key: Option<&Bound<'_, PyAny>>,
    key_file: Option<PathBuf>,
) -> Result<Option<Key>, Failure> {
    match (key.filter(|k| !k.is_none()), key_file) {
        (Some(_), Some(_)) => Err(Failure::Value(
            "give the key either as key or as key_file, not both".into(),
        )),
        (Some(k), None) => from_object(k).map(Some),
        (None, Some(path)) => Ok(Some(Key::read_file(&path)?)),
        (None, None) => Ok(None),
    }
}

/// The key where one is required.
pub(crate) fn required(key: &Bound<'_, PyAny>) -> Result<Key, Failure> {
    if key.is_none() {
        return Err(Failure::Usage(
            "a key is required (base64 of 32 bytes, as generate_key() returns)".into(),
        ));
    }
    from_object(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_text_bytes_both_make_keys() {
        let raw = [7u8; 32];
        let k = from_bytes(&raw).unwrap();
        assert_eq!(k.as_bytes(), &raw);
        let text = k.to_base64();
        let k2 = from_bytes(text.as_bytes()).unwrap();
        assert_eq!(k2.as_bytes(), &raw);
        let k3 = from_bytes(format!("{}\n", &*text).as_bytes()).unwrap();
        assert_eq!(k3.as_bytes(), &raw);
    }

    #[test]
    fn malformed_bytes_are_bad_keys() {
        for bad in [
            &b""[..],
            b"short",
            &[0xffu8; 31],
            &[0xffu8; 33],
            &[b'A'; 40],
        ] {
            let Failure::Core(e) = from_bytes(bad).unwrap_err() else {
                panic!("{bad:?}: not a core error")
            };
            assert_eq!(e.name(), "bad_key", "{bad:?}: {e}");
            assert!(!e.to_string().contains("AAAA"), "{e}");
        }
    }
}
