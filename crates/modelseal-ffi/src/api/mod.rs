//! The `modelseal_*` C functions: keys, sealing directories, files and buffers, opening them into
//! library-owned, wipe-on-free buffers, listing members, and telling whether a file is sealed.
//! One module per concern; this one holds the types and argument helpers they share.

use crate::boundary::{
    bytes_arg, key_and_paths, key_arg, out_arg, path_arg, quiet, status, str_arg, Failure,
};
use crate::ModelsealStatus;
use modelseal::{ModelDir, OpenOptions, OutputFormat, Role, SealId, SealOptions, Secret, Storage};
use std::ffi::{c_char, c_int, CString};
use std::ptr;
use zeroize::Zeroize;

/// Size of a buffer that holds a key string: 44 base64 characters and the terminating NUL.
pub const MODELSEAL_KEY_BUFFER_LEN: usize = 45;

/// Flag of `modelseal_seal_dir`: replace an existing non-empty output directory.
pub const MODELSEAL_SEAL_FORCE: u32 = 1;

/// Output format of the sealing functions (passed as `uint32_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelsealFormat {
    /// modelseal format v2 (the default): per-file keys, chunked AES-256-GCM, sealed manifest.
    V2 = 0,
    /// PaddleX format v1, for old PaddleX/FastDeploy loaders only: it reuses one AES-GCM nonce for
    /// every file sealed under a key, so two files under one key leak the XOR of their plaintexts.
    PaddleV1 = 1,
}

/// How a file or directory is stored.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelsealStorage {
    /// Not sealed.
    Plain = 0,
    /// modelseal format v2.
    SealedV2 = 1,
    /// PaddleX / FastDeploy format v1 (raw `PADDLE1` or FastDeploy's base64 text).
    PaddleV1 = 2,
}

/// What a member of a model directory is for (from its name: `__model__`, `*.pdmodel`, `*.onnx`
/// and `inference.json` are models; `__params__` and `*.pdiparams` parameters; `*.yml`/`*.yaml`
/// configs; `*.txt` and names containing `label` label lists).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelsealRole {
    /// Network structure.
    Model = 0,
    /// Weights.
    Params = 1,
    /// Configuration.
    Config = 2,
    /// Label list.
    Labels = 3,
    /// Anything else.
    Other = 4,
}

impl From<Role> for ModelsealRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Model => ModelsealRole::Model,
            Role::Params => ModelsealRole::Params,
            Role::Config => ModelsealRole::Config,
            Role::Labels => ModelsealRole::Labels,
            Role::Other => ModelsealRole::Other,
        }
    }
}

impl From<Storage> for ModelsealStorage {
    fn from(s: Storage) -> Self {
        match s {
            Storage::Plain => ModelsealStorage::Plain,
            Storage::SealedV2 => ModelsealStorage::SealedV2,
            Storage::PaddleV1 => ModelsealStorage::PaddleV1,
        }
    }
}

/// An opened model directory (opaque). Created by `modelseal_dir_open`, released by
/// `modelseal_dir_free`. Reads (`modelseal_dir_read`, accessors) may run on several threads at once.
pub struct ModelsealDir {
    dir: ModelDir,
    names: Vec<CString>,
    roles: Vec<ModelsealRole>,
}

/// Decrypted bytes owned by the library (opaque). Created by `modelseal_dir_read`,
/// `modelseal_file_open`, `modelseal_bytes_open`, `modelseal_bytes_seal` and
/// `modelseal_paddle_to_onnx`; wiped and released by
/// `modelseal_buffer_free`.
pub struct ModelsealBuffer {
    data: Secret,
}

static EMPTY: u8 = 0;

fn format_arg(format: u32) -> Result<OutputFormat, Failure> {
    match format {
        0 => Ok(OutputFormat::V2),
        1 => Ok(OutputFormat::PaddleV1),
        other => Err(Failure::invalid(format!(
            "unknown format {other} (MODELSEAL_FORMAT_V2 = 0, MODELSEAL_FORMAT_PADDLE_V1 = 1)"
        ))),
    }
}

fn chunk_arg(chunk_log2: u32) -> Result<u8, Failure> {
    if chunk_log2 == 0 {
        return Ok(modelseal::DEFAULT_CHUNK_LOG2);
    }
    match u8::try_from(chunk_log2) {
        Ok(c) if modelseal::CHUNK_LOG2_RANGE.contains(&c) => Ok(c),
        _ => Err(Failure::invalid(format!(
            "chunk_log2 {chunk_log2} is out of range (0 for the default, or 12..=24)"
        ))),
    }
}

/// # Safety
/// `dir` is NULL or a live handle from `modelseal_dir_open`.
unsafe fn dir_ref<'a>(dir: *const ModelsealDir) -> Result<&'a ModelsealDir, Failure> {
    if dir.is_null() {
        return Err(Failure::null("dir"));
    }
    // SAFETY: non-NULL, and by the caller's contract a live handle created by Box::into_raw.
    Ok(unsafe { &*dir })
}

/// Writes `value` through a checked, non-NULL out-pointer.
///
/// # Safety
/// `out` is non-NULL, aligned and writable.
unsafe fn put<T>(out: *mut T, value: T) {
    // SAFETY: forwarded caller contract.
    unsafe { out.write(value) }
}

fn boxed_buffer(data: Secret) -> *mut ModelsealBuffer {
    Box::into_raw(Box::new(ModelsealBuffer { data }))
}

fn not_sealed(what: &str) -> Failure {
    Failure::new(ModelsealStatus::Unsupported, "not_sealed", what.to_string())
}

// Declared in the order of the header's sections (cbindgen follows it), one per group.
mod info;

mod keys;

mod seal;

mod dir;

mod single;

mod convert;

mod buffer;

pub use buffer::*;
pub use convert::*;
pub use dir::*;
pub use info::*;
pub use keys::*;
pub use seal::*;
pub use single::*;
