//! The sealed manifest of a v2 directory: what each member is (name, role, size, digest, the exact
//! sealed file), and the one rule for member names used both when sealing and when opening.

use crate::v2;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// File name of the sealed manifest in a v2 directory.
pub const MANIFEST_NAME: &str = "modelseal.manifest";
/// Suffix of sealed member files in a v2 directory.
pub const SEALED_SUFFIX: &str = ".sealed";
/// Suffix of encrypted files in a PaddleX v1 directory.
pub const V1_SUFFIX: &str = ".encrypted";

/// What a member is for, recorded in the manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Network structure (`*.onnx`, `__model__`, `*.pdmodel`, `inference.json`).
    Model,
    /// Weights (`__params__`, `*.pdiparams`).
    Params,
    /// Configuration (`*.yml`, `*.yaml`).
    Config,
    /// Label lists (`*.txt`, `*labels*`).
    Labels,
    /// Anything else.
    Other,
}

impl Role {
    /// The role a file name suggests.
    pub fn of(name: &str) -> Role {
        let base = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
        let ext = base.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        if base == "__model__" || base == "inference.json" || matches!(ext, "onnx" | "pdmodel") {
            Role::Model
        } else if base == "__params__" || matches!(ext, "pdiparams" | "pdparams" | "params") {
            Role::Params
        } else if matches!(ext, "yml" | "yaml") {
            Role::Config
        } else if ext == "txt" || base.contains("label") {
            Role::Labels
        } else {
            Role::Other
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Model => "model",
            Role::Params => "params",
            Role::Config => "config",
            Role::Labels => "labels",
            Role::Other => "other",
        }
    }
}

/// One member as recorded in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberEntry {
    /// Logical name ('/'-separated path of the original file).
    pub name: String,
    /// Sealed file, relative to the sealed directory.
    pub file: String,
    /// What the member is for.
    pub role: Role,
    /// Plaintext size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext, lower-case hex.
    pub sha256: String,
    /// Header MAC of the sealed member file, lower-case hex: binds this exact file.
    pub header_mac: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Manifest {
    pub(crate) format: String,
    pub(crate) version: u32,
    pub(crate) seal_id: String,
    pub(crate) members: Vec<MemberEntry>,
}

pub(crate) const MANIFEST_FORMAT: &str = "modelseal-manifest";

/// A member name is a relative '/'-separated path with no empty, `.` or `..` components, no
/// backslash, NUL or drive letter, at most [`v2::MAX_NAME_LEN`] bytes; the same rule holds when a
/// directory is sealed and when a manifest is opened.
pub(crate) fn valid_member_name(name: &str) -> bool {
    let drive_letter = name.len() >= 2 && name.as_bytes()[1] == b':';
    let bad_char = name.contains('\\') || name.contains('\0');
    let components_ok = name
        .split('/')
        .all(|c| !c.is_empty() && c != "." && c != "..");
    !name.is_empty()
        && name.len() <= v2::MAX_NAME_LEN
        && !bad_char
        && !drive_letter
        && components_ok
}

/// Checks that `name` can be the name of a member written into a directory: the member-name rule,
/// and not the manifest's own name. `at` is the file or directory an error names.
pub(crate) fn check_member_name(name: &str, at: &std::path::Path) -> crate::error::Result<()> {
    if valid_member_name(name) && name != MANIFEST_NAME {
        return Ok(());
    }
    Err(crate::error::Error::usage(
        at,
        format!("{name:?} cannot be a member name (a relative '/'-separated path without empty, '.' or '..' parts, backslashes or NUL, and not {MANIFEST_NAME})"),
    ))
}

/// Parses and validates the plaintext of a manifest: its sealing id and members. Member names must
/// be safe relative paths, each `file` must be its name plus [`SEALED_SUFFIX`], and names must be unique.
pub fn parse_manifest(plain: &[u8]) -> std::result::Result<([u8; 16], Vec<MemberEntry>), String> {
    let m: Manifest = serde_json::from_slice(plain).map_err(|e| format!("does not parse: {e}"))?;
    if m.format != MANIFEST_FORMAT || m.version != 2 {
        return Err(format!(
            "format '{}' version {} is not a modelseal v2 manifest",
            m.format, m.version
        ));
    }
    let mut seal_id = [0u8; 16];
    hex::decode_to_slice(&m.seal_id, &mut seal_id)
        .map_err(|_| "sealing id is not 32 hex digits".to_string())?;
    let mut seen = BTreeSet::new();
    for e in &m.members {
        if !valid_member_name(&e.name) || e.name == MANIFEST_NAME {
            return Err(format!(
                "member name {:?} is not a safe relative path",
                e.name
            ));
        }
        if e.file != format!("{}{SEALED_SUFFIX}", e.name) {
            return Err(format!("member {:?} points at file {:?}", e.name, e.file));
        }
        if !seen.insert(e.name.as_str()) {
            return Err(format!("member {:?} is listed twice", e.name));
        }
        if e.sha256.len() != 64 || e.header_mac.len() != 64 {
            return Err(format!("member {:?} has a malformed digest", e.name));
        }
    }
    Ok((seal_id, m.members))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(name: &str, file: &str) -> Vec<u8> {
        let entry = serde_json::json!({"name": name, "file": file, "role": "model", "size": 1,
            "sha256": "0".repeat(64), "header_mac": "0".repeat(64)});
        serde_json::to_vec(&serde_json::json!({"format": MANIFEST_FORMAT, "version": 2, "seal_id": "ab".repeat(16), "members": [entry]})).unwrap()
    }

    #[test]
    fn manifest_names_must_be_safe_relative_paths() {
        assert!(parse_manifest(&manifest("sub/model.onnx", "sub/model.onnx.sealed")).is_ok());
        for bad in [
            "../model.onnx",
            "/etc/passwd",
            "a//b",
            "a/./b",
            "",
            "C:/x",
            "a\\\\..\\\\b",
            MANIFEST_NAME,
        ] {
            let file = format!("{bad}{SEALED_SUFFIX}");
            assert!(
                parse_manifest(&manifest(bad, &file)).is_err(),
                "{bad:?} accepted"
            );
        }
        assert!(parse_manifest(&manifest("model.onnx", "../model.onnx.sealed")).is_err());
        assert!(parse_manifest(b"{}").is_err());
        assert!(parse_manifest(b"\\xff").is_err());
    }

    #[test]
    fn roles_follow_paddle_and_onnx_names() {
        for (name, role) in [
            ("__model__", Role::Model),
            ("a/model.onnx", Role::Model),
            ("inference.json", Role::Model),
            ("__params__", Role::Params),
            ("inference.pdiparams", Role::Params),
            ("model.yml", Role::Config),
            ("deploy.yaml", Role::Config),
            ("label_list.txt", Role::Labels),
            (".success", Role::Other),
        ] {
            assert_eq!(Role::of(name), role, "{name}");
        }
    }
}
