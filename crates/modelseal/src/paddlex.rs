//! PaddleX compatibility rules in one place: the return codes of PaddleX's `model_code.h`, which
//! code each error gets, and PaddleX's checks on a model directory before it is encrypted. Used by
//! the C layer (`paddle_*` functions) and by `paddle_encrypt_tool`.

use crate::error::{Error, ErrorKind};
use crate::manifest::Role;
use crate::model_dir::{sniff, Storage};
use std::path::Path;

/// Success.
pub const CODE_OK: i32 = 0;
/// A file could not be opened, read or written (also: output exists, input already sealed).
pub const CODE_OPEN_FAILED: i32 = 100;
/// A required pointer argument was NULL.
pub const CODE_READ_FILE_PTR_IS_NULL: i32 = 101;
/// Encryption failed (random generator failure, internal error).
pub const CODE_AES_GCM_ENCRYPT_FAILED: i32 = 102;
/// Decryption failed: data corrupted, tampered, truncated, not sealed, unsupported version.
pub const CODE_AES_GCM_DECRYPT_FAILED: i32 = 103;
/// The key does not match the file (wrong key).
pub const CODE_KEY_NOT_MATCH: i32 = 104;
/// The key string is not base64 of exactly 32 bytes (or a key buffer is too small).
pub const CODE_KEY_LENGTH_ABNORMAL: i32 = 105;
/// The model directory does not exist (or is not a directory).
pub const CODE_NOT_EXIST_DIR: i32 = 106;
/// The model directory holds no files.
pub const CODE_FILES_EMPTY_WITH_DIR: i32 = 107;
/// No model file (`__model__`, `*.pdmodel`, `inference.json`, `*.onnx`).
pub const CODE_MODEL_FILE_NOT_EXIST: i32 = 108;
/// No params file (`__params__`, `*.pdiparams`); not required beside `*.onnx`.
pub const CODE_PARAMS_FILE_NOT_EXIST: i32 = 109;
/// No config file (`model.yml`, or another `*.yml`/`*.yaml`).
pub const CODE_MODEL_YML_FILE_NOT_EXIST: i32 = 110;
/// The save directory cannot be created or used (exists and is not empty, inside the input...).
pub const CODE_MKDIR_FAILED: i32 = 111;

/// Which PaddleX operation failed: the same error gets a different code in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Encrypting one file (or a byte string).
    Encrypt,
    /// Encrypting a model directory.
    EncryptDir,
    /// Decrypting (or checking) a file or byte string.
    Decrypt,
}

/// PaddleX's return code for `err`, raised by `op`.
pub fn code(err: &Error, op: Operation) -> i32 {
    match err {
        Error::BadKey { .. } => CODE_KEY_LENGTH_ABNORMAL,
        Error::WrongKey { .. } => CODE_KEY_NOT_MATCH,
        Error::Random => CODE_AES_GCM_ENCRYPT_FAILED,
        e => match e.kind() {
            ErrorKind::Io => CODE_OPEN_FAILED,
            ErrorKind::Integrity | ErrorKind::Unsupported => CODE_AES_GCM_DECRYPT_FAILED,
            _ => match op {
                Operation::EncryptDir => CODE_MKDIR_FAILED,
                Operation::Encrypt | Operation::Decrypt => CODE_OPEN_FAILED,
            },
        },
    }
}

/// A model directory refused by PaddleX's checks, with the code PaddleX returns for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirRefusal {
    /// PaddleX's code (106, 107, 100, 110, 108 or 109).
    pub code: i32,
    /// A stable snake_case name of the refusal.
    pub name: &'static str,
    /// What is wrong, naming the directory.
    pub message: String,
}

impl std::fmt::Display for DirRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DirRefusal {}

/// PaddleX's checks on a model directory before encryption, in its order: it exists (106), holds
/// files (107), none of them already encrypted (100), has a config (110), a model (108) and a
/// params file (109; not needed beside an ONNX model). Widened to PaddleX 2.x/3.x and ONNX names.
pub fn check_model_dir(src: &Path) -> std::result::Result<(), DirRefusal> {
    let refuse = |code, name, message: String| {
        Err(DirRefusal {
            code,
            name,
            message: format!("{}: {message}", src.display()),
        })
    };
    if !src.is_dir() {
        return refuse(
            CODE_NOT_EXIST_DIR,
            "not_exist_dir",
            "the model directory does not exist".into(),
        );
    }
    let mut names = Vec::new();
    let entries = match std::fs::read_dir(src) {
        Ok(e) => e,
        Err(e) => return refuse(CODE_OPEN_FAILED, "io", e.to_string()),
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => return refuse(CODE_OPEN_FAILED, "io", e.to_string()),
        };
        if entry.path().is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    if names.is_empty() {
        return refuse(
            CODE_FILES_EMPTY_WITH_DIR,
            "files_empty_with_dir",
            "the model directory holds no files".into(),
        );
    }
    names.sort();
    for n in &names {
        match sniff(&src.join(n)) {
            Ok(Storage::Plain) => {}
            Ok(_) => {
                return refuse(
                    CODE_OPEN_FAILED,
                    "already_sealed",
                    format!("the model directory is already encrypted ({n})"),
                )
            }
            Err(e) => return refuse(CODE_OPEN_FAILED, "io", e.to_string()),
        }
    }
    let has = |role: Role| names.iter().any(|n| Role::of(n) == role);
    if !has(Role::Config) {
        return refuse(
            CODE_MODEL_YML_FILE_NOT_EXIST,
            "model_yml_file_not_exist",
            "no model.yml (or other *.yml/*.yaml config) in the model directory".into(),
        );
    }
    if !has(Role::Model) {
        return refuse(
            CODE_MODEL_FILE_NOT_EXIST,
            "model_file_not_exist",
            "no __model__ (or *.pdmodel, inference.json, *.onnx) in the model directory".into(),
        );
    }
    let onnx = names
        .iter()
        .any(|n| n.to_ascii_lowercase().ends_with(".onnx"));
    if !has(Role::Params) && !onnx {
        return refuse(
            CODE_PARAMS_FILE_NOT_EXIST,
            "params_file_not_exist",
            "no __params__ (or *.pdiparams) in the model directory".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn errors_get_paddlex_codes_by_operation() {
        let p = PathBuf::from("f");
        let usage = Error::Usage {
            path: p.clone(),
            reason: "exists".into(),
        };
        assert_eq!(code(&usage, Operation::EncryptDir), CODE_MKDIR_FAILED);
        assert_eq!(code(&usage, Operation::Encrypt), CODE_OPEN_FAILED);
        assert_eq!(
            code(&Error::WrongKey { path: p.clone() }, Operation::Decrypt),
            CODE_KEY_NOT_MATCH
        );
        let bad = Error::BadKey {
            origin: None,
            reason: "short".into(),
        };
        assert_eq!(code(&bad, Operation::Decrypt), CODE_KEY_LENGTH_ABNORMAL);
        let tampered = Error::ChunkCorrupted {
            path: p.clone(),
            chunk: 0,
            chunks: 1,
        };
        assert_eq!(
            code(&tampered, Operation::Decrypt),
            CODE_AES_GCM_DECRYPT_FAILED
        );
        assert_eq!(
            code(&Error::Random, Operation::Encrypt),
            CODE_AES_GCM_ENCRYPT_FAILED
        );
        let io = Error::Io {
            path: p,
            source: std::io::ErrorKind::NotFound.into(),
        };
        assert_eq!(code(&io, Operation::EncryptDir), CODE_OPEN_FAILED);
    }

    #[test]
    fn directory_checks_follow_paddlex_order() {
        let tmp = tempfile::TempDir::new().unwrap();
        let d = tmp.path();
        assert_eq!(
            check_model_dir(&d.join("nope")).unwrap_err().code,
            CODE_NOT_EXIST_DIR
        );
        assert_eq!(
            check_model_dir(d).unwrap_err().code,
            CODE_FILES_EMPTY_WITH_DIR
        );
        std::fs::write(d.join("__model__"), b"m").unwrap();
        assert_eq!(
            check_model_dir(d).unwrap_err().code,
            CODE_MODEL_YML_FILE_NOT_EXIST
        );
        std::fs::write(d.join("model.yml"), b"c").unwrap();
        assert_eq!(
            check_model_dir(d).unwrap_err().code,
            CODE_PARAMS_FILE_NOT_EXIST
        );
        std::fs::write(d.join("__params__"), b"p").unwrap();
        assert_eq!(check_model_dir(d), Ok(()));
        std::fs::write(d.join("x.encrypted"), b"PADDLE1...").unwrap();
        let r = check_model_dir(d).unwrap_err();
        assert_eq!((r.code, r.name), (CODE_OPEN_FAILED, "already_sealed"));
    }
}
