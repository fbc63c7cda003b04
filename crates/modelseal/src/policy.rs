//! The open policy: what may be opened as a model directory, decided in one place for every front
//! end (CLI, demos, C ABI, Python, server). With a key, only a sealing that verifies is opened.

use crate::error::{Error, Result};
use crate::fsutil::list_files;
use crate::key::Key;
use crate::manifest::{Role, MANIFEST_NAME, V1_SUFFIX};
use crate::model_dir::{sniff, ModelDir, Storage};
use crate::sealed_dir::SealedDir;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// The random id shared by every file of one v2 sealing. Printed by `verify`; pinning it when
/// opening refuses any other sealing, an older one under the same key included.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SealId([u8; 16]);

impl SealId {
    /// The id from its 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> SealId {
        SealId(bytes)
    }

    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for SealId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for SealId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealId({self})")
    }
}

/// Why a string is not a sealing id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseSealIdError(String);

impl fmt::Display for ParseSealIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a sealing id (32 hexadecimal digits, as `verify` prints it)",
            self.0
        )
    }
}

impl std::error::Error for ParseSealIdError {}

impl FromStr for SealId {
    type Err = ParseSealIdError;
    fn from_str(s: &str) -> std::result::Result<SealId, ParseSealIdError> {
        let mut id = [0u8; 16];
        hex::decode_to_slice(s.trim(), &mut id).map_err(|_| ParseSealIdError(s.to_string()))?;
        Ok(SealId(id))
    }
}

/// How to open a model directory: the one open policy.
///
/// - **Without a key**, only a plain directory opens (an unencrypted deployment); one holding any
///   file that starts with a modelseal or PaddleX header is [`Error::KeyRequired`], naming that file.
/// - **With a key**, only a sealing that verifies opens: a v2 directory whose manifest
///   authenticates and lists exactly the files present. A plain directory, a plain member, a
///   decoy file or a missing manifest is refused ([`Error::NotSealed`], or an integrity error).
/// - **PaddleX v1** directories open only with [`OpenOptions::allow_paddlex_v1`], and then their
///   model, params and config files must be v1-encrypted (other files, such as labels, may be
///   plain, as PaddleX's tool leaves them; they are not authenticated).
/// - **An expected sealing id** ([`OpenOptions::expect_seal_id`]) refuses every other sealing, an
///   older one under the same key included ([`Error::SealIdMismatch`]). Without it, any sealing
///   made with the key opens.
/// - **Symbolic links** resolving outside the directory are refused unless
///   [`OpenOptions::follow_symlinks`] is set.
///
/// ```no_run
/// use modelseal::{Key, OpenOptions, SealId};
/// let key = Key::read_file("model.key".as_ref())?;
/// let pinned: SealId = "00112233445566778899aabbccddeeff".parse().unwrap();
/// let dir = OpenOptions::new().key(key).expect_seal_id(pinned).open("sealed/".as_ref())?;
/// assert_eq!(dir.seal_id(), Some(pinned));
/// # Ok::<(), modelseal::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct OpenOptions {
    key: Option<Key>,
    allow_paddlex_v1: bool,
    seal_id: Option<SealId>,
    follow_symlinks: bool,
}

impl fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenOptions")
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("allow_paddlex_v1", &self.allow_paddlex_v1)
            .field("seal_id", &self.seal_id)
            .field("follow_symlinks", &self.follow_symlinks)
            .finish()
    }
}

impl OpenOptions {
    /// No key (plain directories only), PaddleX v1 not allowed, no pinned sealing, links not followed.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Opens with `key` (or without a key for `None`): with a key only sealed directories open.
    pub fn key(mut self, key: impl Into<Option<Key>>) -> OpenOptions {
        self.key = key.into();
        self
    }

    /// Allows PaddleX v1 directories (one AES-GCM nonce per key, no manifest).
    pub fn allow_paddlex_v1(mut self, allow: bool) -> OpenOptions {
        self.allow_paddlex_v1 = allow;
        self
    }

    /// Refuses any sealing but `id` (`None`: any sealing made with the key).
    pub fn expect_seal_id(mut self, id: impl Into<Option<SealId>>) -> OpenOptions {
        self.seal_id = id.into();
        self
    }

    /// Follows symbolic links that resolve outside the directory.
    pub fn follow_symlinks(mut self, follow: bool) -> OpenOptions {
        self.follow_symlinks = follow;
        self
    }

    /// Whether a key is set.
    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// Whether PaddleX v1 directories are allowed.
    pub fn allows_paddlex_v1(&self) -> bool {
        self.allow_paddlex_v1
    }

    /// The key, if set.
    pub(crate) fn key_ref(&self) -> Option<&Key> {
        self.key.as_ref()
    }

    /// Opens the model directory `dir` under this policy.
    pub fn open(&self, dir: &Path) -> Result<ModelDir> {
        let files = list_files(dir, self.follow_symlinks)?;
        let has_manifest = files.iter().any(|f| f.name == MANIFEST_NAME);
        let Some(key) = &self.key else {
            if self.seal_id.is_some() {
                return Err(Error::usage(
                    dir,
                    "a sealing id is expected, but no key was given (a pinned sealing opens only with its key)",
                ));
            }
            // A file that starts like a sealed one makes the directory need a key, even beside
            // plain files: running the plain part of a sealing, or guessing that a sealed-looking
            // member is plain, is never right. The error names that file.
            for f in &files {
                if sniff(&f.path)? != Storage::Plain {
                    return Err(Error::KeyRequired {
                        path: f.path.clone(),
                    });
                }
            }
            return Ok(ModelDir::plain(dir, files));
        };
        if has_manifest {
            let sealed = SealedDir::open(dir, &files, key)?;
            self.check_seal_id(dir, Some(sealed.seal_id()))?;
            return Ok(ModelDir::sealed(sealed));
        }
        let mut v1_files: BTreeMap<String, (std::path::PathBuf, bool)> = BTreeMap::new();
        let mut any_v1 = false;
        for f in &files {
            let storage = sniff(&f.path)?;
            if storage == Storage::SealedV2 {
                return Err(Error::Manifest {
                    path: dir.join(MANIFEST_NAME),
                    reason: "missing, but the directory holds sealed members".into(),
                });
            }
            let encrypted = storage == Storage::PaddleV1;
            any_v1 |= encrypted;
            let name = match f.name.strip_suffix(V1_SUFFIX) {
                Some(n) if encrypted => n.to_string(),
                _ => f.name.clone(),
            };
            if v1_files
                .insert(name.clone(), (f.path.clone(), encrypted))
                .is_some()
            {
                return Err(Error::MemberAdded {
                    dir: dir.to_path_buf(),
                    name: format!("{name} (present both encrypted and plain)"),
                });
            }
        }
        if !any_v1 {
            return Err(Error::not_sealed(
                dir,
                "a key was given, but the directory holds no modelseal.manifest and no sealed file; with a key only a sealed directory is opened (a plain one opens without a key)",
            ));
        }
        if !self.allow_paddlex_v1 {
            return Err(Error::PaddleV1NotAllowed {
                dir: dir.to_path_buf(),
            });
        }
        if let Some(expected) = self.seal_id {
            return Err(Error::SealIdMismatch {
                dir: dir.to_path_buf(),
                expected: expected.to_string(),
                found: "none (a PaddleX v1 directory has no sealing id)".into(),
            });
        }
        check_v1_members(dir, &v1_files)?;
        Ok(ModelDir::paddle_v1(dir, key.clone(), v1_files))
    }

    /// Opens a sealed v2 directory whose files are held in memory as (path relative to the
    /// directory, bytes), e.g. unpacked from an archive; the same checks apply as on disk. A key
    /// is required: only sealed v2 directories open from memory.
    pub fn open_memory(&self, files: Vec<(String, Vec<u8>)>) -> Result<ModelDir> {
        let Some(key) = &self.key else {
            return Err(Error::KeyRequired {
                path: "<memory>".into(),
            });
        };
        let sealed = SealedDir::from_memory(files, key)?;
        self.check_seal_id(Path::new("<memory>"), Some(sealed.seal_id()))?;
        Ok(ModelDir::sealed(sealed))
    }

    fn check_seal_id(&self, dir: &Path, found: Option<[u8; 16]>) -> Result<()> {
        match (self.seal_id, found) {
            (Some(expected), Some(found)) if expected.0 != found => Err(Error::SealIdMismatch {
                dir: dir.to_path_buf(),
                expected: expected.to_string(),
                found: hex::encode(found),
            }),
            _ => Ok(()),
        }
    }
}

/// PaddleX v1 rules: the model, params and config files are encrypted, and there is a model.
fn check_v1_members(
    dir: &Path,
    files: &BTreeMap<String, (std::path::PathBuf, bool)>,
) -> Result<()> {
    let mut encrypted_model = false;
    for (name, (path, encrypted)) in files {
        let role = Role::of(name);
        let must = matches!(role, Role::Model | Role::Params | Role::Config);
        if must && !encrypted {
            return Err(Error::not_sealed(
                path,
                format!(
                    "the {} file of a PaddleX v1 directory must be encrypted (a plain one could be anyone's)",
                    role.as_str()
                ),
            ));
        }
        encrypted_model |= role == Role::Model && *encrypted;
    }
    if !encrypted_model {
        return Err(Error::not_sealed(
            dir,
            "PaddleX v1 directory without an encrypted model file (__model__, *.pdmodel, inference.json or *.onnx)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_ids_parse_and_print_as_32_hex_digits() {
        let id: SealId = "00112233445566778899AABBCCDDEEFF".parse().unwrap();
        assert_eq!(id.to_string(), "00112233445566778899aabbccddeeff");
        for bad in [
            "",
            "0011",
            "zz112233445566778899aabbccddeeff",
            "00112233445566778899aabbccddeeff00",
        ] {
            let e = bad.parse::<SealId>().unwrap_err();
            assert!(e.to_string().contains("32 hexadecimal digits"), "{e}");
        }
    }

    #[test]
    fn options_never_show_the_key() {
        let k = Key::generate().unwrap();
        let text = format!("{:?}", OpenOptions::new().key(k.clone()));
        assert!(
            text.contains("<redacted>") && !text.contains(&*k.to_base64()),
            "{text}"
        );
    }
}
