//! Where the tools take a key from, in this order: `--key-file FILE` ('-' = standard input), the
//! `MODELSEAL_KEY_FILE` variable, the `MODELSEAL_KEY` variable, `--key KEY` (warned about).

use std::path::{Path, PathBuf};

use modelseal::Key;
use zeroize::Zeroizing;

/// The variable that may hold the key itself; removed from the environment once read.
pub const KEY_ENV: &str = "MODELSEAL_KEY";
/// The variable that may name a key file (the container and Kubernetes `_FILE` convention).
pub const KEY_FILE_ENV: &str = "MODELSEAL_KEY_FILE";

/// The warning printed when a key is given on the command line.
pub const ARGV_KEY_WARNING: &str = "warning: --key puts the key on the command line, where other users of this machine can read it (ps, /proc); prefer --key-file FILE, MODELSEAL_KEY_FILE or MODELSEAL_KEY";

/// What to say when a key is needed and none was given.
pub const KEY_SOURCES: &str =
    "--key-file FILE, the MODELSEAL_KEY_FILE or MODELSEAL_KEY environment variable, or --key KEY";

/// Where a key came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `--key-file FILE` (or standard input for `-`).
    File,
    /// The file named by `MODELSEAL_KEY_FILE`.
    EnvFile,
    /// The `MODELSEAL_KEY` environment variable.
    Env,
    /// `--key KEY` on the command line (visible to other users).
    Argument,
}

/// Takes `MODELSEAL_KEY` out of the process environment, so that no child process and no later
/// reader of `/proc/self/environ` sees it. Call once, first thing in `main`, before any thread starts.
/// The copy `var_os` returns is moved into wiped memory (not copied); text that is not UTF-8 is
/// converted (it is no key anyway) and its original bytes are wiped.
pub fn take_key_env() -> Option<Zeroizing<String>> {
    let value = std::env::var_os(KEY_ENV)?;
    std::env::remove_var(KEY_ENV);
    Some(secret_text(value.into_encoded_bytes()))
}

/// Moves `bytes` into a wiped string without copying them when they are UTF-8; otherwise a lossy
/// conversion, and the bytes are wiped.
fn secret_text(bytes: Vec<u8>) -> Zeroizing<String> {
    use zeroize::Zeroize;
    match String::from_utf8(bytes) {
        Ok(text) => Zeroizing::new(text),
        Err(e) => {
            let mut bytes = e.into_bytes();
            let text = Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned());
            bytes.zeroize();
            text
        }
    }
}

/// Reads the key from standard input with unbuffered reads of its file descriptor into one
/// wiped buffer: the text never passes through the process-wide buffer of `std::io::stdin()`,
/// which would keep a copy until exit.
fn read_stdin_key() -> modelseal::Result<Key> {
    const ORIGIN: &str = "standard input";
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let fd =
            std::io::stdin()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| modelseal::Error::Io {
                    path: "<stdin>".into(),
                    source: e,
                })?;
        let mut file = std::fs::File::from(fd);
        Key::from_reader(&mut file, ORIGIN)
    }
    #[cfg(not(unix))]
    {
        Key::from_reader(&mut std::io::stdin(), ORIGIN)
    }
}

/// Everything a key may come from, gathered at start-up.
#[derive(Default)]
pub struct KeySources {
    /// `--key-file`.
    pub key_file: Option<PathBuf>,
    /// `MODELSEAL_KEY_FILE`.
    pub env_file: Option<PathBuf>,
    /// `MODELSEAL_KEY` (already taken out of the environment).
    pub env: Option<Zeroizing<String>>,
    /// `--key`.
    pub arg: Option<Zeroizing<String>>,
}

impl KeySources {
    /// Sources from the command-line values and the environment (taking `MODELSEAL_KEY` out of it).
    pub fn gather(key_file: Option<&Path>, key_arg: Option<&str>) -> KeySources {
        KeySources {
            key_file: key_file.map(Path::to_path_buf),
            env_file: std::env::var_os(KEY_FILE_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            env: take_key_env().filter(|v| !v.trim().is_empty()),
            arg: key_arg.map(|k| Zeroizing::new(k.to_string())),
        }
    }

    /// The key and where it came from, the first source that gives one deciding; `None` when
    /// none does. A source that is given but malformed is an error naming it.
    pub fn resolve(&self) -> modelseal::Result<Option<(Key, KeyOrigin)>> {
        if let Some(path) = &self.key_file {
            if path == Path::new("-") {
                return read_stdin_key().map(|k| Some((k, KeyOrigin::File)));
            }
            return Key::read_file(path).map(|k| Some((k, KeyOrigin::File)));
        }
        if let Some(path) = &self.env_file {
            return Key::read_file(path).map(|k| Some((k, KeyOrigin::EnvFile)));
        }
        if let Some(text) = &self.env {
            return Key::from_base64_named(text, &format!("environment variable {KEY_ENV}"))
                .map(|k| Some((k, KeyOrigin::Env)));
        }
        if let Some(text) = &self.arg {
            return Key::from_base64_named(text, "--key").map(|k| Some((k, KeyOrigin::Argument)));
        }
        Ok(None)
    }

    /// Like [`KeySources::resolve`], printing [`ARGV_KEY_WARNING`] on stderr for `--key`.
    pub fn read(&self) -> modelseal::Result<Option<Key>> {
        let resolved = self.resolve()?;
        if let Some((_, KeyOrigin::Argument)) = resolved {
            eprintln!("{ARGV_KEY_WARNING}");
        }
        Ok(resolved.map(|(k, _)| k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2Nzg=";
    const K2: &str = "QUJDREVGR0hBQkNERUZHSEFCQ0RFRkdIQUJDREVGR0g=";

    fn bytes(s: &KeySources) -> Option<(Vec<u8>, KeyOrigin)> {
        s.resolve()
            .unwrap()
            .map(|(k, o)| (k.as_bytes().to_vec(), o))
    }

    #[test]
    fn sources_are_taken_in_order() {
        let dir = tempfile::TempDir::new().unwrap();
        let f1 = dir.path().join("k1");
        std::fs::write(&f1, K1).unwrap();
        let f2 = dir.path().join("k2");
        std::fs::write(&f2, K2).unwrap();
        let all = KeySources {
            key_file: Some(f1.clone()),
            env_file: Some(f2.clone()),
            env: Some(Zeroizing::new(K2.into())),
            arg: Some(Zeroizing::new(K2.into())),
        };
        assert_eq!(bytes(&all).unwrap().1, KeyOrigin::File);
        assert_eq!(
            &bytes(&all).unwrap().0[..],
            b"12345678123456781234567812345678"
        );
        let no_file = KeySources {
            key_file: None,
            ..all
        };
        assert_eq!(bytes(&no_file).unwrap().1, KeyOrigin::EnvFile);
        let env_only = KeySources {
            env: Some(Zeroizing::new(K1.into())),
            arg: Some(Zeroizing::new(K2.into())),
            ..Default::default()
        };
        assert_eq!(
            bytes(&env_only).unwrap(),
            (K1_BYTES.to_vec(), KeyOrigin::Env)
        );
        let arg_only = KeySources {
            arg: Some(Zeroizing::new(K1.into())),
            ..Default::default()
        };
        assert_eq!(bytes(&arg_only).unwrap().1, KeyOrigin::Argument);
        assert!(bytes(&KeySources::default()).is_none());
    }

    const K1_BYTES: &[u8] = b"12345678123456781234567812345678";

    #[test]
    fn environment_text_is_moved_not_copied() {
        let bytes = K1.as_bytes().to_vec();
        let at = bytes.as_ptr();
        let text = secret_text(bytes);
        assert_eq!(&**text, K1);
        assert_eq!(
            text.as_ptr(),
            at,
            "the variable's bytes are moved into wiped memory"
        );
        let text = secret_text(vec![b'A', 0xff]);
        assert_eq!(&**text, "A\u{fffd}");
    }

    #[test]
    fn a_bad_source_is_an_error_naming_it() {
        let s = KeySources {
            env_file: Some("/nonexistent/key".into()),
            ..Default::default()
        };
        let e = s.resolve().unwrap_err();
        assert!(e.to_string().contains("/nonexistent/key"), "{e}");
        let s = KeySources {
            env: Some(Zeroizing::new("short".into())),
            ..Default::default()
        };
        let e = s.resolve().unwrap_err();
        assert!(e.to_string().contains(KEY_ENV), "{e}");
    }
}
