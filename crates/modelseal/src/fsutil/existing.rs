//! What is at an output path before it is written: nothing, an empty directory, an earlier
//! sealing (v2 or PaddleX v1) that `--force` may replace, or anything else, never replaced.

use super::read_prefix;
use crate::error::{Error, Result};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// What is at an output path before it is written.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Existing {
    Absent,
    Empty,
    /// The output of an earlier sealing (v2 or PaddleX v1): `--force` may replace it.
    EarlierSealing,
    /// Anything else (the reason says what): never replaced.
    Other(String),
}

/// Whether the plain file at the path (named by its '/'-separated path relative to the output)
/// holds exactly the bytes of the member of that name being written: a PaddleX v1 output copies
/// the files it does not encrypt, so such a copy is part of an earlier sealing and replacing it
/// loses nothing.
pub(crate) type IsCopy<'a> = dyn Fn(&str, &Path) -> bool + 'a;

/// The v2 header of the sealed file at `path`, when it parses and the file has exactly the
/// length it declares (no key needed).
fn v2_header_of(path: &Path) -> Option<crate::v2::Header> {
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let h = crate::v2::read_header(&mut f, path).ok()?;
    (h.sealed_len() == len).then_some(h)
}

/// Whether `files` (relative name, path) are exactly a v2 sealing: a manifest whose header
/// parses as the manifest, and beside it only `<name>.sealed` files whose headers parse as
/// member `<name>` of the same sealing, each of the length its header declares.
fn is_v2_sealing(files: &[(String, PathBuf)]) -> bool {
    use crate::manifest::{MANIFEST_NAME, SEALED_SUFFIX};
    use crate::v2::Kind;
    let Some((_, manifest)) = files.iter().find(|(n, _)| n == MANIFEST_NAME) else {
        return false;
    };
    let Some(m) = v2_header_of(manifest) else {
        return false;
    };
    if m.kind != Kind::Manifest || m.name != MANIFEST_NAME {
        return false;
    }
    files.iter().all(|(name, path)| {
        name == MANIFEST_NAME
            || name.strip_suffix(SEALED_SUFFIX).is_some_and(|member| {
                v2_header_of(path).is_some_and(|h| {
                    h.kind == Kind::Member && h.name == member && h.seal_id == m.seal_id
                })
            })
    })
}

/// The key check field of a file with a full PaddleX v1 header: `PADDLE1`, 64 lower-case hex
/// digits (SHA-256 of the key), and a length of at least header plus tag.
fn v1_key_check_of(path: &Path) -> Option<Vec<u8>> {
    let len = fs::metadata(path).ok()?.len();
    if len < (crate::v1::HEADER_LEN + crate::v1::TAG_LEN) as u64 {
        return None;
    }
    let head = read_prefix(path, 71).ok()?;
    let check = head.strip_prefix(&crate::v1::MAGIC[..])?;
    (check.len() == 64 && check.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| check.to_vec())
}

/// Whether `files` (relative name, path) are exactly a PaddleX v1 sealing of the members being
/// written: every `<name>.encrypted` file of a model, params or config member carries a full v1
/// header, all under one key, the model among them; every other file is a byte-for-byte copy of
/// the member of its name (`is_copy`), as PaddleX's tool copies the files it does not encrypt.
fn is_v1_sealing(files: &[(String, PathBuf)], is_copy: &IsCopy<'_>) -> bool {
    use crate::manifest::{Role, V1_SUFFIX};
    let mut key_check: Option<Vec<u8>> = None;
    let mut model = false;
    for (name, path) in files {
        let encrypted_role = name
            .strip_suffix(V1_SUFFIX)
            .map(Role::of)
            .filter(|r| matches!(r, Role::Model | Role::Params | Role::Config));
        if let (Some(role), Some(check)) = (encrypted_role, v1_key_check_of(path)) {
            if key_check.get_or_insert_with(|| check.clone()) != &check {
                return false;
            }
            model |= role == Role::Model;
        } else if !is_copy(name, path) {
            return false;
        }
    }
    model
}

/// Looks at `dst` without following a symbolic link at any level.
pub(super) fn existing(dst: &Path, is_copy: &IsCopy<'_>) -> Result<Existing> {
    let meta = match fs::symlink_metadata(dst) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Absent),
        Err(e) => return Err(Error::io(dst, e)),
    };
    if meta.file_type().is_symlink() {
        return Ok(Existing::Other("is a symbolic link".into()));
    }
    if !meta.is_dir() {
        return Ok(Existing::Other("is not a directory".into()));
    }
    // (name relative to dst, '/'-separated; path)
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut folders = false;
    let mut stack = vec![(dst.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            let t = entry.file_type().map_err(|e| Error::io(&path, e))?;
            let Some(file_name) = entry.file_name().to_str().map(str::to_string) else {
                return Ok(Existing::Other(format!(
                    "holds {}, whose name is not UTF-8",
                    path.display()
                )));
            };
            let name = format!("{prefix}{file_name}");
            if t.is_dir() {
                folders = true;
                stack.push((path, format!("{name}/")));
            } else if t.is_file() {
                files.push((name, path));
            } else {
                return Ok(Existing::Other(format!(
                    "holds {}, which is not a regular file",
                    path.display()
                )));
            }
        }
    }
    if files.is_empty() {
        return Ok(if folders {
            Existing::Other("holds empty folders".into())
        } else {
            Existing::Empty
        });
    }
    files.sort();
    if is_v2_sealing(&files) || is_v1_sealing(&files, is_copy) {
        return Ok(Existing::EarlierSealing);
    }
    Ok(Existing::Other(
        "is not empty and is not an earlier sealing (a v2 sealing whose headers all agree, or a PaddleX v1 output of these members)".into(),
    ))
}
