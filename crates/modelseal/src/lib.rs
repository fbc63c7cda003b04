//! modelseal: seal model directories with a 256-bit key and open them into memory only.
//!
//! A model owner seals an exported model directory ([`seal_dir`]); the deployed service opens it
//! with the key through [`OpenOptions`], the one open policy every front end goes through, and
//! reads each member decrypted and authenticated into zeroize-on-drop memory ([`ModelDir::read`]).
//! Format v2 (chunked AES-256-GCM, per-file keys, key commitment, a sealed manifest binding the
//! directory) is described in `docs/FORMAT.md`; PaddleX/FastDeploy format v1 is read and written
//! for compatibility.
//!
//! ```
//! use modelseal::{seal_dir, Key, OpenOptions, SealOptions};
//! # let tmp = tempfile::TempDir::new()?;
//! # let exported = tmp.path().join("exported");
//! # std::fs::create_dir(&exported)?;
//! # std::fs::write(exported.join("model.onnx"), b"onnx bytes")?;
//! # std::fs::write(exported.join("inference.yml"), b"Global: {}")?;
//! # let sealed = tmp.path().join("sealed");
//! let key = Key::generate()?;
//! // Seal: the plain directory opens without a key.
//! let plain = OpenOptions::new().open(&exported)?;
//! seal_dir(&key, &plain, &sealed, &SealOptions::default(), &|_| {})?;
//! // Deploy: with a key, only the sealing opens; every byte is authenticated.
//! let dir = OpenOptions::new().key(key.clone()).open(&sealed)?;
//! assert_eq!(&*dir.read("model.onnx")?, b"onnx bytes");
//! // A plain directory is refused once a key is given.
//! let refused = OpenOptions::new().key(key).open(&exported).unwrap_err();
//! assert_eq!(refused.kind(), modelseal::ErrorKind::Unsupported);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod fsutil;
mod inspect;
mod key;
mod manifest;
mod model_dir;
pub mod paddlex;
mod policy;
mod sealed_dir;
mod sealing;
mod secret;
mod single;
mod v1;
mod v2;
mod verify;

pub use error::{Error, ErrorKind, Result};
pub use inspect::{inspect, InspectEntry};
pub use key::{Key, KEY_LEN};
pub use manifest::{Role, MANIFEST_NAME, SEALED_SUFFIX, V1_SUFFIX};
pub use model_dir::{ModelDir, Storage};
pub use policy::{OpenOptions, ParseSealIdError, SealId};
pub use sealing::{seal_dir, write_plain_dir, OutputFormat, SealOptions, SealedMember};
pub use secret::Secret;
pub use single::{
    bytes_storage, decrypt_file, file_storage, open_bytes, open_file, seal_bytes, seal_file,
};
pub use v1::NONCE_REUSE_WARNING as PADDLEX_V1_WARNING;
pub use v2::{Header, Kind, CHUNK_LOG2_RANGE, DEFAULT_CHUNK_LOG2, MAX_NAME_LEN};
pub use verify::{verify, VerifiedMember, VerifyReport};

/// Writes `key` as base64 text to the new file `path`, created with mode 0600 (Unix) and never
/// overwriting anything: the file appears whole or not at all.
pub fn write_key_file(path: &std::path::Path, key: &Key) -> Result<()> {
    let text = key.to_base64();
    fsutil::write_new_file(
        path,
        &mut |w| {
            w.write_all(text.as_bytes())
                .and_then(|_| w.write_all(b"\n"))
                .map_err(|e| Error::Io {
                    path: path.to_path_buf(),
                    source: e,
                })
        },
        true,
    )
}

/// Format internals for the fuzz targets, the benchmarks and the test-vector generator. Not part
/// of the stable API.
#[doc(hidden)]
pub mod internal {
    pub use crate::fsutil::list_files;
    pub use crate::manifest::parse_manifest;
    pub use crate::v1::{looks_like_v1, open as open_v1, seal as seal_v1};
    pub use crate::v2::{
        open_image, open_path, parse_header, random_id, reader_error, seal_image, seal_stream,
        OpenReader, ParseError, SealParams, MAGIC as V2_MAGIC,
    };
}
