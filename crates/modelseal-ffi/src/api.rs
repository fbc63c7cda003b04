//! The `modelseal_*` C functions: keys, sealing directories, files and buffers, opening them into
//! library-owned, wipe-on-free buffers, listing members, and telling whether a file is sealed.

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
/// `modelseal_file_open`, `modelseal_bytes_open` and `modelseal_bytes_seal`; wiped and released by
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

/// The library version, e.g. "0.1.0" (static string).
#[no_mangle]
pub extern "C" fn modelseal_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The message of the last failed call on this thread, in UTF-8, or "" when the last call
/// succeeded. Never NULL. The string is owned by the library and stays valid until the next call
/// into the library on this thread; `modelseal_last_error`, `modelseal_last_error_name`,
/// `modelseal_status_name`, `modelseal_version`, `modelseal_buffer_data`, `modelseal_buffer_len`
/// and the `_free` functions leave it unchanged. Copy it if you need it longer. The PaddleX-
/// compatible functions set it too.
#[no_mangle]
pub extern "C" fn modelseal_last_error() -> *const c_char {
    quiet(c"".as_ptr(), crate::boundary::last_error_message)
}

/// A stable snake_case name of the last failure on this thread ("wrong_key", "truncated",
/// "chunk_corrupted", "member_missing", "not_sealed", "null_argument", ...), or "" after a success.
/// Same lifetime rules as `modelseal_last_error`.
#[no_mangle]
pub extern "C" fn modelseal_last_error_name() -> *const c_char {
    quiet(c"".as_ptr(), crate::boundary::last_error_name)
}

/// The name of a status value ("ok", "wrong_key", ...), or "unknown" (static string, never NULL).
#[no_mangle]
pub extern "C" fn modelseal_status_name(status: c_int) -> *const c_char {
    quiet(c"unknown".as_ptr(), || {
        ModelsealStatus::ALL
            .iter()
            .find(|s| **s as c_int == status)
            .map(|s| s.name().as_ptr())
            .unwrap_or(c"unknown".as_ptr())
    })
}

/// Generates a new key (base64 of 32 bytes from the OS CSPRNG, 44 characters) into `out`, which
/// must hold at least `MODELSEAL_KEY_BUFFER_LEN` (45) bytes; the key is NUL-terminated.
/// Errors: NULL_ARGUMENT, BUFFER_TOO_SMALL, IO (random generator failure).
///
/// # Safety
/// `out` is NULL or points to `out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn modelseal_key_generate(
    out: *mut c_char,
    out_len: usize,
) -> ModelsealStatus {
    status(|| {
        out_arg(out, "out")?;
        if out_len < MODELSEAL_KEY_BUFFER_LEN {
            return Err(Failure::new(
                ModelsealStatus::BufferTooSmall,
                "buffer_too_small",
                format!("the key buffer holds {out_len} bytes; a key needs {MODELSEAL_KEY_BUFFER_LEN} (44 characters and NUL)"),
            ));
        }
        let key = modelseal::Key::generate()?;
        let text = key.to_base64();
        // SAFETY: `out` is non-NULL and points to out_len >= 45 writable bytes (caller contract);
        // the text is 44 bytes, so text and NUL fit; the source is a distinct Rust allocation.
        unsafe {
            ptr::copy_nonoverlapping(text.as_ptr(), out.cast::<u8>(), text.len());
            *out.add(text.len()) = 0;
        }
        Ok(())
    })
}

/// Generates a new key into a library-owned NUL-terminated string `*out`, to be released (and
/// wiped) with `modelseal_string_free`. Errors: NULL_ARGUMENT, IO.
///
/// # Safety
/// `out` is NULL or a writable `char*` location.
#[no_mangle]
pub unsafe extern "C" fn modelseal_key_generate_string(out: *mut *mut c_char) -> ModelsealStatus {
    status(|| {
        out_arg(out, "out")?;
        let key = modelseal::Key::generate()?;
        let text = key.to_base64();
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(0);
        let s = CString::from_vec_with_nul(bytes)
            .map_err(|_| Failure::invalid("key text holds a NUL byte"))?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, s.into_raw()) };
        Ok(())
    })
}

/// Wipes and releases a string returned by `modelseal_key_generate_string`, then sets `*s` to
/// NULL. NULL and `*s == NULL` are accepted and do nothing.
///
/// # Safety
/// `s` is NULL or points to NULL or to a string from `modelseal_key_generate_string` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn modelseal_string_free(s: *mut *mut c_char) {
    quiet((), || {
        if s.is_null() {
            return;
        }
        // SAFETY: `s` is non-NULL and points to a readable, writable `char*` (caller contract).
        let p = unsafe { *s };
        if p.is_null() {
            return;
        }
        // SAFETY: `p` came from CString::into_raw in this library and is freed only once (contract).
        let owned = unsafe { CString::from_raw(p) };
        let mut bytes = owned.into_bytes_with_nul();
        bytes.zeroize();
        // SAFETY: as above, `s` is writable.
        unsafe { *s = ptr::null_mut() };
    })
}

/// Checks a key string without using it: OK, or BAD_KEY (not base64 of exactly 32 bytes),
/// NULL_ARGUMENT, INVALID_ARGUMENT (not UTF-8).
///
/// # Safety
/// `key` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn modelseal_key_validate(key: *const c_char) -> ModelsealStatus {
    // SAFETY: forwarded caller contract.
    status(|| unsafe { key_arg(key, "key") }.map(|_| ()))
}

/// Seals every file of the plain model directory `src_dir` (sub-folders included) into the new
/// directory `dst_dir`, which appears atomically. `format` is a `ModelsealFormat` (v2 seals every
/// file and binds them with a sealed manifest; PaddleX v1 writes `<name>.encrypted` for model,
/// params and config files and copies the others, and reuses one nonce per key: for old loaders
/// only). `chunk_log2` is 0 for the default (64 KiB chunks) or 12..24; `flags` is 0 or
/// `MODELSEAL_SEAL_FORCE` (replace an existing non-empty `dst_dir`).
/// Errors: NULL_ARGUMENT, BAD_KEY, INVALID_ARGUMENT (bad format/flags/chunk size, sealed or empty
/// input, output exists or is inside the input), IO.
///
/// # Safety
/// `key`, `src_dir` and `dst_dir` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn modelseal_seal_dir(
    key: *const c_char,
    src_dir: *const c_char,
    dst_dir: *const c_char,
    format: u32,
    chunk_log2: u32,
    flags: u32,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract for the three strings.
        let (key, src, dst) =
            unsafe { key_and_paths((key, "key"), (src_dir, "src_dir"), (dst_dir, "dst_dir")) }?;
        let format = format_arg(format)?;
        let chunk_log2 = chunk_arg(chunk_log2)?;
        if flags & !MODELSEAL_SEAL_FORCE != 0 {
            return Err(Failure::invalid(format!("unknown flags {flags:#x}")));
        }
        let src_dir = OpenOptions::new().open(src)?;
        let opts = SealOptions {
            format,
            chunk_log2,
            force: flags & MODELSEAL_SEAL_FORCE != 0,
        };
        modelseal::seal_dir(&key, &src_dir, dst, &opts, &|_| {})?;
        Ok(())
    })
}

/// Seals one file `src` into the new file `dst` (never overwritten). `format` and `chunk_log2` as
/// in `modelseal_seal_dir`. Errors: NULL_ARGUMENT, BAD_KEY, INVALID_ARGUMENT, IO.
///
/// # Safety
/// `key`, `src` and `dst` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn modelseal_seal_file(
    key: *const c_char,
    src: *const c_char,
    dst: *const c_char,
    format: u32,
    chunk_log2: u32,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract for the three strings.
        let (key, src, dst) = unsafe { key_and_paths((key, "key"), (src, "src"), (dst, "dst")) }?;
        let format = format_arg(format)?;
        let chunk_log2 = chunk_arg(chunk_log2)?;
        modelseal::seal_file(&key, src, dst, format, chunk_log2)?;
        Ok(())
    })
}

/// Seals `len` bytes at `data` into a sealed file image returned in `*out` (a library buffer;
/// release it with `modelseal_buffer_free`). `name` is recorded in the v2 header (a relative
/// '/'-separated path of 1 to 4096 bytes of UTF-8; ignored for PaddleX v1). Errors: NULL_ARGUMENT, BAD_KEY, INVALID_ARGUMENT.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes; `key` and `name` are NULL or NUL-terminated;
/// `out` is NULL or a writable `ModelsealBuffer*` location.
#[no_mangle]
pub unsafe extern "C" fn modelseal_bytes_seal(
    key: *const c_char,
    data: *const u8,
    len: usize,
    name: *const c_char,
    format: u32,
    out: *mut *mut ModelsealBuffer,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract for the strings and the byte buffer.
        let (key, data, name) = unsafe {
            (
                key_arg(key, "key"),
                bytes_arg(data, len, "data"),
                str_arg(name, "name"),
            )
        };
        let (data, name) = (data?, name?);
        out_arg(out, "out")?;
        let key = key?;
        let sealed = modelseal::seal_bytes(&key, name, data, format_arg(format)?)?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, boxed_buffer(Secret::new(sealed))) };
        Ok(())
    })
}

/// Options of `modelseal_dir_open_ex` and `modelseal_dir_open_memory_ex`: the open policy's
/// choices. Zero-initialise it for the defaults (no PaddleX v1, any sealing made with the key).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ModelsealOpenOptions {
    /// Non-zero: open PaddleX v1 directories (one AES-GCM nonce per key, no manifest); their
    /// model, params and config files must still be encrypted.
    pub allow_paddlex_v1: u32,
    /// NULL, or the sealing id (32 hex digits, as `modelseal_dir_seal_id` gives it) every other
    /// sealing is refused for (`MODELSEAL_STATUS_INTEGRITY`): an older sealing under the same key
    /// is refused only when pinned.
    pub expected_seal_id: *const c_char,
}

/// Bytes of a buffer that holds a sealing id: 32 hex digits and the terminating NUL.
pub const MODELSEAL_SEAL_ID_BUFFER_LEN: usize = 33;

/// # Safety
/// `key` is NULL or NUL-terminated; `options` is NULL or points to a readable
/// `ModelsealOpenOptions` whose `expected_seal_id` is NULL or NUL-terminated.
unsafe fn open_options(
    key: *const c_char,
    options: *const ModelsealOpenOptions,
) -> Result<OpenOptions, Failure> {
    let key = if key.is_null() {
        None
    } else {
        // SAFETY: `key` is non-NULL and NUL-terminated (caller contract).
        Some(unsafe { key_arg(key, "key") }?)
    };
    let mut opts = OpenOptions::new().key(key);
    if !options.is_null() {
        // SAFETY: non-NULL and readable (caller contract).
        let o = unsafe { *options };
        opts = opts.allow_paddlex_v1(o.allow_paddlex_v1 != 0);
        if !o.expected_seal_id.is_null() {
            // SAFETY: NUL-terminated (caller contract).
            let text = unsafe { str_arg(o.expected_seal_id, "options.expected_seal_id") }?;
            let id: SealId = text
                .parse()
                .map_err(|e| Failure::invalid(format!("options.expected_seal_id: {e}")))?;
            opts = opts.expect_seal_id(id);
        }
    }
    Ok(opts)
}

/// Opens the model directory `path` into `*out`, to be released with `modelseal_dir_free`, under
/// the open policy with default options (see `modelseal_dir_open_ex`).
///
/// # Safety
/// `path` is NULL or NUL-terminated; `key` is NULL or NUL-terminated; `out` is NULL or a writable
/// `ModelsealDir*` location.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_open(
    path: *const c_char,
    key: *const c_char,
    out: *mut *mut ModelsealDir,
) -> ModelsealStatus {
    // SAFETY: forwarded caller contract; NULL options are the defaults.
    unsafe { modelseal_dir_open_ex(path, key, ptr::null(), out) }
}

/// Opens the model directory `path` into `*out` (release with `modelseal_dir_free`) under the
/// open policy. With a `key`, only a sealing that verifies opens: a modelseal v2 directory whose
/// manifest authenticates and lists exactly the files present (wrong key, added, missing, swapped,
/// foreign, truncated or extended members are reported here; payloads are decrypted and
/// authenticated by `modelseal_dir_read`). A plain directory, a plain member or a decoy is refused
/// (UNSUPPORTED); a PaddleX v1 directory opens only with `options->allow_paddlex_v1` (else
/// UNSUPPORTED), and then its model, params and config files must be encrypted; a pinned
/// `options->expected_seal_id` refuses any other sealing (INTEGRITY). With `key == NULL` only
/// plain directories open. `options` may be NULL (the defaults).
/// Errors: NULL_ARGUMENT, BAD_KEY, INVALID_ARGUMENT (not a directory; sealed without key; a
/// malformed expected sealing id), IO, WRONG_KEY, INTEGRITY, UNSUPPORTED.
///
/// # Safety
/// `path` and `key` are NULL or NUL-terminated; `options` is NULL or points to a readable
/// `ModelsealOpenOptions`; `out` is NULL or a writable `ModelsealDir*` location.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_open_ex(
    path: *const c_char,
    key: *const c_char,
    options: *const ModelsealOpenOptions,
    out: *mut *mut ModelsealDir,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let path = unsafe { path_arg(path, "path") }?;
        out_arg(out, "out")?;
        // SAFETY: forwarded caller contract.
        let opts = unsafe { open_options(key, options) }?;
        let handle = dir_handle(opts.open(path)?)?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, Box::into_raw(handle)) };
        Ok(())
    })
}

/// Writes the sealing id of an opened v2 directory (32 hex digits and a NUL) into `out`, which
/// holds `out_len >= MODELSEAL_SEAL_ID_BUFFER_LEN` bytes. Errors: NULL_ARGUMENT, BUFFER_TOO_SMALL,
/// NOT_FOUND (a plain or PaddleX v1 directory has no sealing id).
///
/// # Safety
/// `dir` is NULL or a live handle; `out` is NULL or points to `out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_seal_id(
    dir: *const ModelsealDir,
    out: *mut c_char,
    out_len: usize,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        out_arg(out, "out")?;
        if out_len < MODELSEAL_SEAL_ID_BUFFER_LEN {
            return Err(Failure::new(
                ModelsealStatus::BufferTooSmall,
                "buffer_too_small",
                format!(
                    "out holds {out_len} bytes; a sealing id needs {MODELSEAL_SEAL_ID_BUFFER_LEN}"
                ),
            ));
        }
        let id = d.dir.seal_id().ok_or_else(|| {
            Failure::new(
                ModelsealStatus::NotFound,
                "no_seal_id",
                format!(
                    "{}: a {} directory has no sealing id",
                    d.dir.root().display(),
                    d.dir.storage().as_str()
                ),
            )
        })?;
        let text = id.to_string();
        // SAFETY: `out` points to out_len >= 33 writable bytes (caller contract); 32 digits and a
        // NUL fit; the source is a distinct Rust allocation.
        unsafe {
            ptr::copy_nonoverlapping(text.as_ptr(), out.cast::<u8>(), text.len());
            *out.add(text.len()) = 0;
        }
        Ok(())
    })
}

fn dir_handle(dir: ModelDir) -> Result<Box<ModelsealDir>, Failure> {
    let names = dir.names();
    let roles = names.iter().map(|n| Role::of(n).into()).collect();
    let names = names
        .into_iter()
        .map(|n| CString::new(n).map_err(|_| not_sealed("a member name holds a NUL byte")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Box::new(ModelsealDir { dir, names, roles }))
}

/// Opens a sealed (modelseal v2) directory whose files are held in memory, e.g. unpacked from an
/// archive or received over a network, into `*out` (release with `modelseal_dir_free`). Entry `i`
/// is the file `paths[i]` (relative to the sealed directory, '/'-separated, e.g.
/// `"modelseal.manifest"`, `"model.onnx.sealed"`) with `lens[i]` bytes at `datas[i]`. The bytes
/// are copied; the caller may free them after the call. The same checks as `modelseal_dir_open`
/// apply (manifest, wrong key, added, missing, swapped or foreign members).
/// Errors: NULL_ARGUMENT (any array, entry, `key` or `out`), INVALID_ARGUMENT (a path twice),
/// BAD_KEY, WRONG_KEY, INTEGRITY, UNSUPPORTED.
///
/// # Safety
/// `paths`, `datas` and `lens` are NULL or point to `count` readable elements; each `paths[i]` is
/// NULL or NUL-terminated; each `datas[i]` is NULL or points to `lens[i]` readable bytes; `key` is
/// NULL or NUL-terminated; `out` is NULL or a writable `ModelsealDir*` location.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_open_memory(
    paths: *const *const c_char,
    datas: *const *const u8,
    lens: *const usize,
    count: usize,
    key: *const c_char,
    out: *mut *mut ModelsealDir,
) -> ModelsealStatus {
    // SAFETY: forwarded caller contract; NULL options are the defaults.
    unsafe { modelseal_dir_open_memory_ex(paths, datas, lens, count, key, ptr::null(), out) }
}

/// `modelseal_dir_open_memory` with open options (a pinned `expected_seal_id`; PaddleX v1 never
/// opens from memory). `options` may be NULL.
///
/// # Safety
/// As `modelseal_dir_open_memory`; `options` is NULL or points to a readable `ModelsealOpenOptions`.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_open_memory_ex(
    paths: *const *const c_char,
    datas: *const *const u8,
    lens: *const usize,
    count: usize,
    key: *const c_char,
    options: *const ModelsealOpenOptions,
    out: *mut *mut ModelsealDir,
) -> ModelsealStatus {
    status(|| {
        if paths.is_null() {
            return Err(Failure::null("paths"));
        }
        if datas.is_null() {
            return Err(Failure::null("datas"));
        }
        if lens.is_null() {
            return Err(Failure::null("lens"));
        }
        if key.is_null() {
            return Err(Failure::null("key"));
        }
        // SAFETY: `key` is non-NULL and NUL-terminated; `options` per the caller contract.
        let opts = unsafe { open_options(key, options) }?;
        out_arg(out, "out")?;
        let mut files: Vec<(String, Vec<u8>)> = Vec::with_capacity(count.min(1 << 16));
        for i in 0..count {
            // SAFETY: the three arrays hold `count` readable elements (caller contract) and i < count.
            let (p, d, n) = unsafe { (*paths.add(i), *datas.add(i), *lens.add(i)) };
            // SAFETY: entry `i` follows the caller contract stated above.
            let path = unsafe { str_arg(p, "paths[i]") }?;
            // SAFETY: as above.
            let data = unsafe { bytes_arg(d, n, "datas[i]") }?;
            if files.iter().any(|(existing, _)| existing == path) {
                return Err(Failure::invalid(format!("paths: '{path}' is given twice")));
            }
            files.push((path.to_string(), data.to_vec()));
        }
        let handle = dir_handle(opts.open_memory(files)?)?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, Box::into_raw(handle)) };
        Ok(())
    })
}

/// Releases a directory handle and sets `*dir` to NULL. NULL and `*dir == NULL` do nothing.
///
/// # Safety
/// `dir` is NULL or points to NULL or to a handle from `modelseal_dir_open` not yet freed, and no
/// other thread is using that handle.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_free(dir: *mut *mut ModelsealDir) {
    quiet((), || {
        if dir.is_null() {
            return;
        }
        // SAFETY: `dir` is non-NULL and points to a readable, writable pointer (caller contract).
        let p = unsafe { *dir };
        if !p.is_null() {
            // SAFETY: `p` came from Box::into_raw in modelseal_dir_open and is freed once (contract).
            drop(unsafe { Box::from_raw(p) });
            // SAFETY: as above.
            unsafe { *dir = ptr::null_mut() };
        }
    })
}

/// Writes how the opened directory is stored into `*out`. Errors: NULL_ARGUMENT.
///
/// # Safety
/// `dir` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_storage(
    dir: *const ModelsealDir,
    out: *mut ModelsealStorage,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        out_arg(out, "out")?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, d.dir.storage().into()) };
        Ok(())
    })
}

/// Writes the number of members into `*out`. Errors: NULL_ARGUMENT.
///
/// # Safety
/// `dir` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_member_count(
    dir: *const ModelsealDir,
    out: *mut usize,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        out_arg(out, "out")?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, d.names.len()) };
        Ok(())
    })
}

fn index_failure(index: usize, count: usize) -> Failure {
    Failure::new(
        ModelsealStatus::NotFound,
        "not_found",
        format!("member index {index} is out of range (the directory has {count} members)"),
    )
}

/// Writes the logical name of member `index` (0-based, names sorted; the original relative path,
/// '/'-separated, without `.sealed`/`.encrypted`) into `*out`. The string is owned by the handle
/// and valid until `modelseal_dir_free`. Errors: NULL_ARGUMENT, NOT_FOUND (index out of range).
///
/// # Safety
/// `dir` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_member_name(
    dir: *const ModelsealDir,
    index: usize,
    out: *mut *const c_char,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        out_arg(out, "out")?;
        let name = d
            .names
            .get(index)
            .ok_or_else(|| index_failure(index, d.names.len()))?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, name.as_ptr()) };
        Ok(())
    })
}

/// Writes the role of member `index` into `*out`. Errors: NULL_ARGUMENT, NOT_FOUND.
///
/// # Safety
/// `dir` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_member_role(
    dir: *const ModelsealDir,
    index: usize,
    out: *mut ModelsealRole,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        out_arg(out, "out")?;
        let role = *d
            .roles
            .get(index)
            .ok_or_else(|| index_failure(index, d.roles.len()))?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, role) };
        Ok(())
    })
}

/// Writes the index of the first member (in name order) whose role is `role` (a `ModelsealRole`)
/// into `*out_index`. Errors: NULL_ARGUMENT, INVALID_ARGUMENT (unknown role), NOT_FOUND.
///
/// # Safety
/// `dir` is NULL or a live handle; `out_index` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_find_role(
    dir: *const ModelsealDir,
    role: u32,
    out_index: *mut usize,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        out_arg(out_index, "out_index")?;
        let wanted = match role {
            0 => ModelsealRole::Model,
            1 => ModelsealRole::Params,
            2 => ModelsealRole::Config,
            3 => ModelsealRole::Labels,
            4 => ModelsealRole::Other,
            other => return Err(Failure::invalid(format!("unknown role {other} (0..=4)"))),
        };
        let index = d.roles.iter().position(|r| *r == wanted).ok_or_else(|| {
            Failure::new(
                ModelsealStatus::NotFound,
                "not_found",
                format!("{}: no member with role {wanted:?}", d.dir.root().display()),
            )
        })?;
        // SAFETY: `out_index` is non-NULL and writable (caller contract).
        unsafe { put(out_index, index) };
        Ok(())
    })
}

/// Decrypts and authenticates member `name` into a library buffer `*out` (all or nothing: no
/// partial plaintext is ever returned). Release it with `modelseal_buffer_free`, which wipes it.
/// Errors: NULL_ARGUMENT, INVALID_ARGUMENT (not UTF-8), NOT_FOUND (no such member), IO, WRONG_KEY,
/// INTEGRITY (truncated, extended, corrupted chunk, member file missing or replaced).
///
/// # Safety
/// `dir` is NULL or a live handle; `name` is NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_read(
    dir: *const ModelsealDir,
    name: *const c_char,
    out: *mut *mut ModelsealBuffer,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        // SAFETY: forwarded caller contract.
        let name = unsafe { str_arg(name, "name") }?;
        out_arg(out, "out")?;
        if !d.names.iter().any(|n| n.to_bytes() == name.as_bytes()) {
            return Err(Failure::new(
                ModelsealStatus::NotFound,
                "not_found",
                format!("{}: no member named '{name}'", d.dir.root().display()),
            ));
        }
        let data = d.dir.read(name)?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, boxed_buffer(data)) };
        Ok(())
    })
}

/// Decrypts one sealed file (modelseal v2, PaddleX v1 or FastDeploy base64 v1) into a library
/// buffer `*out`. Errors: NULL_ARGUMENT, BAD_KEY, IO, WRONG_KEY, INTEGRITY, UNSUPPORTED (not sealed).
///
/// # Safety
/// `path` and `key` are NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_file_open(
    path: *const c_char,
    key: *const c_char,
    out: *mut *mut ModelsealBuffer,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let (path, key) = unsafe { (path_arg(path, "path"), key_arg(key, "key")) };
        let path = path?;
        out_arg(out, "out")?;
        let key = key?;
        let data = modelseal::open_file(&key, path)?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, boxed_buffer(data)) };
        Ok(())
    })
}

/// Decrypts one sealed file image held in memory (`len` bytes at `data`; v2, PaddleX v1 or
/// FastDeploy base64 v1) into a library buffer `*out`. The input is not modified.
/// Errors: NULL_ARGUMENT, BAD_KEY, WRONG_KEY, INTEGRITY, UNSUPPORTED (not sealed).
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes; `key` is NULL or NUL-terminated; `out` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_bytes_open(
    data: *const u8,
    len: usize,
    key: *const c_char,
    out: *mut *mut ModelsealBuffer,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let (data, key) = unsafe { (bytes_arg(data, len, "data"), key_arg(key, "key")) };
        let data = data?;
        out_arg(out, "out")?;
        let key = key?;
        let plain = modelseal::open_bytes(&key, data, "<memory>")?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, boxed_buffer(plain)) };
        Ok(())
    })
}

/// Tells whether the file at `path` is sealed, and in which format (from its first bytes; no key
/// needed, nothing authenticated). Errors: NULL_ARGUMENT, IO (cannot open or read it).
///
/// # Safety
/// `path` is NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_file_storage(
    path: *const c_char,
    out: *mut ModelsealStorage,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let path = unsafe { path_arg(path, "path") }?;
        out_arg(out, "out")?;
        let s = modelseal::file_storage(path)?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, s.into()) };
        Ok(())
    })
}

/// Like `modelseal_file_storage`, for a file image in memory. Errors: NULL_ARGUMENT.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_bytes_storage(
    data: *const u8,
    len: usize,
    out: *mut ModelsealStorage,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let data = unsafe { bytes_arg(data, len, "data") }?;
        out_arg(out, "out")?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, storage_of(data)) };
        Ok(())
    })
}

pub(crate) fn storage_of(data: &[u8]) -> ModelsealStorage {
    modelseal::bytes_storage(data).into()
}

/// The bytes of a buffer (valid until `modelseal_buffer_free`), or NULL for a NULL buffer. An
/// empty buffer gives a non-NULL pointer to zero readable bytes.
///
/// # Safety
/// `buf` is NULL or a live buffer handle.
#[no_mangle]
pub unsafe extern "C" fn modelseal_buffer_data(buf: *const ModelsealBuffer) -> *const u8 {
    quiet(ptr::null(), || {
        if buf.is_null() {
            return ptr::null();
        }
        // SAFETY: non-NULL live handle (caller contract).
        let b = unsafe { &*buf };
        if b.data.is_empty() {
            &EMPTY
        } else {
            b.data.as_ptr()
        }
    })
}

/// The length in bytes of a buffer, or 0 for a NULL buffer.
///
/// # Safety
/// `buf` is NULL or a live buffer handle.
#[no_mangle]
pub unsafe extern "C" fn modelseal_buffer_len(buf: *const ModelsealBuffer) -> usize {
    quiet(0, || {
        if buf.is_null() {
            return 0;
        }
        // SAFETY: non-NULL live handle (caller contract).
        unsafe { &*buf }.data.len()
    })
}

/// Wipes (zeroize) and releases a buffer, then sets `*buf` to NULL. NULL and `*buf == NULL` do
/// nothing.
///
/// # Safety
/// `buf` is NULL or points to NULL or to a buffer handle not yet freed, not in use elsewhere.
#[no_mangle]
pub unsafe extern "C" fn modelseal_buffer_free(buf: *mut *mut ModelsealBuffer) {
    quiet((), || {
        if buf.is_null() {
            return;
        }
        // SAFETY: `buf` is non-NULL and points to a readable, writable pointer (caller contract).
        let p = unsafe { *buf };
        if !p.is_null() {
            // SAFETY: `p` came from Box::into_raw in this library and is freed once (contract).
            // Dropping the Secret wipes its whole allocation.
            drop(unsafe { Box::from_raw(p) });
            // SAFETY: as above.
            unsafe { *buf = ptr::null_mut() };
        }
    })
}

/// Test hook (not in the header): panics inside the boundary, to check that no panic crosses it.
/// Returns PANIC.
#[doc(hidden)]
#[no_mangle]
pub extern "C" fn modelseal_test_panic() -> ModelsealStatus {
    status(|| panic!("deliberate panic from modelseal_test_panic"))
}
