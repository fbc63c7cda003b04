//! modelseal: seal model directories with a 256-bit key and open them into memory only.
//! Format v2 (chunked AES-256-GCM, key commitment, sealed manifest) plus PaddleX/FastDeploy format v1.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod dir;
mod error;
pub mod fsutil;
mod key;
mod secret;
pub mod v1;
pub mod v2;

pub use dir::{
    decrypt_file, file_storage, inspect, open_bytes, open_file, parse_manifest, seal_bytes,
    seal_dir, seal_file, verify, InspectEntry, MemberEntry, ModelDir, OutputFormat, Role,
    SealOptions, SealedDir, SealedMember, Storage, VerifiedMember, VerifyReport, MANIFEST_NAME,
    SEALED_SUFFIX, V1_SUFFIX,
};
pub use error::{Error, ErrorKind, Result};
pub use key::{read_key, resolve_key, Key, KeyOrigin, ARGV_KEY_WARNING, KEY_ENV, KEY_LEN};
pub use secret::Secret;
