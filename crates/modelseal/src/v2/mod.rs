//! Sealed format v2: authenticated header with key commitment, HKDF-derived per-file keys,
//! AES-256-GCM STREAM chunks. The byte layout is specified in docs/FORMAT.md.

mod header;
mod keys;
mod open;
mod reader;
mod seal;

pub use header::*;
pub use keys::{verify_header, Verified};
pub use open::{
    check_length, open_image, open_path, open_verified_file, open_verified_image, read_header,
};
pub use reader::{reader_error, OpenReader};
pub use seal::{random_id, seal_image, seal_stream, SealParams};
