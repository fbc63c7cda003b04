//! The PaddleX-compatible layer (`paddle_model_encrypt.h`, `paddle_model_decrypt.h`): PaddleX's
//! function names and `model_code.h` return codes, in C types only (no `std::string` across the ABI).

use crate::api::{storage_of, ModelsealStorage};
use crate::boundary::{boundary, bytes_arg, key_and_paths, key_arg, out_arg, path_arg, Failure};
use crate::ModelsealStatus;
use modelseal::paddlex::{self, Operation};
use modelseal::{OpenOptions, OutputFormat, SealOptions, Storage};
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ffi::{c_char, c_int, c_uchar};
use std::path::Path;
use std::ptr;
use zeroize::Zeroize;

/// Success (PaddleX `model_code.h`).
pub const CODE_OK: c_int = 0;
/// A file could not be opened, read or written (also: output exists, input already sealed).
pub const CODE_OPEN_FAILED: c_int = 100;
/// A required pointer argument was NULL.
pub const CODE_READ_FILE_PTR_IS_NULL: c_int = 101;
/// Encryption failed (random generator failure, internal error). PaddleX's spelling.
pub const CODE_AES_GCM_ENCRYPT_FIALED: c_int = 102;
/// Decryption failed: data corrupted, tampered, truncated, not sealed, unsupported version,
/// internal error. PaddleX's spelling.
pub const CODE_AES_GCM_DECRYPT_FIALED: c_int = 103;
/// Same as `CODE_AES_GCM_ENCRYPT_FIALED`, spelled correctly.
pub const CODE_AES_GCM_ENCRYPT_FAILED: c_int = 102;
/// Same as `CODE_AES_GCM_DECRYPT_FIALED`, spelled correctly.
pub const CODE_AES_GCM_DECRYPT_FAILED: c_int = 103;
/// The key does not match the file (wrong key).
pub const CODE_KEY_NOT_MATCH: c_int = 104;
/// The key string is not base64 of exactly 32 bytes (or the key output buffer is too small).
pub const CODE_KEY_LENGTH_ABNORMAL: c_int = 105;
/// `paddle_encrypt_dir`: the source directory does not exist (or is not a directory).
pub const CODE_NOT_EXIST_DIR: c_int = 106;
/// `paddle_encrypt_dir`: the source directory holds no files.
pub const CODE_FILES_EMPTY_WITH_DIR: c_int = 107;
/// `paddle_encrypt_dir`: no model file (`__model__`, `*.pdmodel`, `inference.json`, `*.onnx`).
pub const CODE_MODEL_FILE_NOT_EXIST: c_int = 108;
/// `paddle_encrypt_dir`: no params file (`__params__`, `*.pdiparams`); not required with `*.onnx`.
pub const CODE_PARAMS_FILE_NOT_EXIST: c_int = 109;
/// `paddle_encrypt_dir`: no config file (`model.yml`, or another `*.yml`/`*.yaml`).
pub const CODE_MODEL_YML_FILE_NOT_EXIST: c_int = 110;
/// `paddle_encrypt_dir`: the save directory cannot be created or used (exists and is not empty,
/// is inside the model directory, ...).
pub const CODE_MKDIR_FAILED: c_int = 111;

// The exported names carry the values of the one table in `modelseal::paddlex`.
const _: () = assert!(
    CODE_OK == paddlex::CODE_OK
        && CODE_OPEN_FAILED == paddlex::CODE_OPEN_FAILED
        && CODE_READ_FILE_PTR_IS_NULL == paddlex::CODE_READ_FILE_PTR_IS_NULL
        && CODE_AES_GCM_ENCRYPT_FAILED == paddlex::CODE_AES_GCM_ENCRYPT_FAILED
        && CODE_AES_GCM_DECRYPT_FAILED == paddlex::CODE_AES_GCM_DECRYPT_FAILED
        && CODE_AES_GCM_ENCRYPT_FIALED == paddlex::CODE_AES_GCM_ENCRYPT_FAILED
        && CODE_AES_GCM_DECRYPT_FIALED == paddlex::CODE_AES_GCM_DECRYPT_FAILED
        && CODE_KEY_NOT_MATCH == paddlex::CODE_KEY_NOT_MATCH
        && CODE_KEY_LENGTH_ABNORMAL == paddlex::CODE_KEY_LENGTH_ABNORMAL
        && CODE_NOT_EXIST_DIR == paddlex::CODE_NOT_EXIST_DIR
        && CODE_FILES_EMPTY_WITH_DIR == paddlex::CODE_FILES_EMPTY_WITH_DIR
        && CODE_MODEL_FILE_NOT_EXIST == paddlex::CODE_MODEL_FILE_NOT_EXIST
        && CODE_PARAMS_FILE_NOT_EXIST == paddlex::CODE_PARAMS_FILE_NOT_EXIST
        && CODE_MODEL_YML_FILE_NOT_EXIST == paddlex::CODE_MODEL_YML_FILE_NOT_EXIST
        && CODE_MKDIR_FAILED == paddlex::CODE_MKDIR_FAILED
);

/// Size of a buffer that holds a key string: 44 base64 characters and the terminating NUL.
pub const PADDLE_KEY_BUFFER_LEN: usize = 45;

/// PaddleX's code for a failure of `op`: PaddleX's own directory checks carry their code; a
/// library error gets the `paddlex` module's code; the C layer's own failures (NULL pointers, short
/// buffers, panics) are mapped here.
fn code_of(f: &Failure, op: Operation) -> c_int {
    if let Some(code) = f.paddle_code {
        return code;
    }
    if let Some(e) = &f.error {
        return paddlex::code(e, op);
    }
    match f.status {
        ModelsealStatus::Ok => CODE_OK,
        ModelsealStatus::NullArgument => CODE_READ_FILE_PTR_IS_NULL,
        ModelsealStatus::BadKey | ModelsealStatus::BufferTooSmall => CODE_KEY_LENGTH_ABNORMAL,
        ModelsealStatus::WrongKey => CODE_KEY_NOT_MATCH,
        ModelsealStatus::Io | ModelsealStatus::NotFound => CODE_OPEN_FAILED,
        ModelsealStatus::Integrity | ModelsealStatus::Unsupported => CODE_AES_GCM_DECRYPT_FAILED,
        ModelsealStatus::InvalidArgument => match op {
            Operation::EncryptDir => CODE_MKDIR_FAILED,
            Operation::Encrypt | Operation::Decrypt => CODE_OPEN_FAILED,
        },
        ModelsealStatus::Panic => match op {
            Operation::Encrypt | Operation::EncryptDir => CODE_AES_GCM_ENCRYPT_FAILED,
            Operation::Decrypt => CODE_AES_GCM_DECRYPT_FAILED,
        },
    }
}

fn paddle<F: FnOnce() -> Result<(), Failure>>(op: Operation, f: F) -> c_int {
    match boundary(f) {
        Ok(()) => CODE_OK,
        Err(e) => code_of(&e, op),
    }
}

/// PaddleX's answer to "is it encrypted?": 0 yes, 1 no, else the failure's code. `check` runs
/// inside the panic boundary.
fn encrypted_answer(check: impl FnOnce() -> Result<bool, Failure>) -> c_int {
    let mut encrypted = false;
    let code = paddle(Operation::Decrypt, || {
        encrypted = check()?;
        Ok(())
    });
    match (code, encrypted) {
        (CODE_OK, true) => 0,
        (CODE_OK, false) => 1,
        (other, _) => other,
    }
}

/// PaddleX's checks on a model directory, as a failure carrying PaddleX's code.
fn check_paddle_dir(src: &Path) -> Result<(), Failure> {
    paddlex::check_model_dir(src).map_err(|r| {
        let status = if r.code == CODE_OPEN_FAILED {
            ModelsealStatus::Io
        } else {
            ModelsealStatus::InvalidArgument
        };
        let mut f = Failure::new(status, r.name, r.message);
        f.paddle_code = Some(r.code);
        f
    })
}

/// # Safety
/// The strings are NULL or NUL-terminated.
unsafe fn encrypt_dir(
    keydata: *const c_char,
    src_dir: *const c_char,
    dst_dir: *const c_char,
    format: OutputFormat,
) -> c_int {
    paddle(Operation::EncryptDir, || {
        // SAFETY: forwarded caller contract for the three strings.
        let (key, src, dst) = unsafe {
            key_and_paths(
                (keydata, "keydata"),
                (src_dir, "src_dir"),
                (dst_dir, "dst_dir"),
            )
        }?;
        check_paddle_dir(src)?;
        // PaddleX's checks refused already encrypted files; a plain directory opens without a key.
        let model = OpenOptions::new().open(src)?;
        let opts = SealOptions {
            format,
            chunk_log2: modelseal::DEFAULT_CHUNK_LOG2,
            force: false,
        };
        modelseal::seal_dir(&key, &model, dst, &opts, &|_| {})?;
        Ok(())
    })
}

/// # Safety
/// The strings are NULL or NUL-terminated.
unsafe fn encrypt_model(
    keydata: *const c_char,
    infile: *const c_char,
    outfile: *const c_char,
    format: OutputFormat,
) -> c_int {
    paddle(Operation::Encrypt, || {
        // SAFETY: forwarded caller contract for the three strings.
        let (key, src, dst) = unsafe {
            key_and_paths(
                (keydata, "keydata"),
                (infile, "infile"),
                (outfile, "outfile"),
            )
        }?;
        modelseal::seal_file(&key, src, dst, format, modelseal::DEFAULT_CHUNK_LOG2)?;
        Ok(())
    })
}

/// # Safety
/// `out` is NULL or points to `out_len` writable bytes.
unsafe fn generate_key(out: *mut c_char, out_len: usize, avoid_nul: bool) -> c_int {
    paddle(Operation::Encrypt, || {
        out_arg(out, "out")?;
        if out_len < PADDLE_KEY_BUFFER_LEN {
            return Err(Failure::new(
                ModelsealStatus::BufferTooSmall,
                "buffer_too_small",
                format!("the key buffer holds {out_len} bytes; a key needs {PADDLE_KEY_BUFFER_LEN} (44 characters and NUL)"),
            ));
        }
        let key = loop {
            let k = modelseal::Key::generate()?;
            if !avoid_nul || !k.as_bytes().contains(&0) {
                break k;
            }
        };
        let text = key.to_base64();
        // SAFETY: `out` is non-NULL and points to out_len >= 45 writable bytes (caller contract);
        // 44 characters and a NUL fit; the source is a distinct Rust allocation.
        unsafe {
            ptr::copy_nonoverlapping(text.as_ptr(), out.cast::<u8>(), text.len());
            *out.add(text.len()) = 0;
        }
        Ok(())
    })
}

const PREFIX: usize = 16;

/// Copies `data` into a new allocation whose 16-byte prefix records the length (so that
/// `paddle_buffer_free` needs only the pointer), returning the pointer to the data.
fn new_paddle_buffer(data: &[u8]) -> Result<*mut u8, Failure> {
    let layout = PREFIX
        .checked_add(data.len())
        .and_then(|n| Layout::from_size_align(n, PREFIX).ok())
        .ok_or_else(|| Failure::invalid("plaintext too large for one buffer"))?;
    // SAFETY: the layout has a non-zero size (at least PREFIX bytes).
    let base = unsafe { alloc(layout) };
    if base.is_null() {
        handle_alloc_error(layout);
    }
    // SAFETY: `base` is a fresh allocation of PREFIX + len bytes aligned to 16, so the usize at
    // offset 0 and the len bytes at offset PREFIX are in bounds and do not overlap `data`.
    unsafe {
        base.cast::<usize>().write(data.len());
        ptr::copy_nonoverlapping(data.as_ptr(), base.add(PREFIX), data.len());
        Ok(base.add(PREFIX))
    }
}

/// # Safety
/// `data` is NULL or points to `len` readable bytes; `key` is NULL or NUL-terminated; `out` and
/// `out_len` are NULL or writable.
unsafe fn decrypt_into<'a>(
    source: impl FnOnce() -> Result<Source<'a>, Failure>,
    key: *const c_char,
    out: *mut *mut c_uchar,
    out_len: *mut usize,
) -> c_int {
    paddle(Operation::Decrypt, || {
        let source = source()?;
        // SAFETY: forwarded caller contract.
        let key = unsafe { key_arg(key, "key") };
        out_arg(out, "out")?;
        out_arg(out_len, "out_len")?;
        let key = key?;
        let plain = match source {
            Source::File(path) => modelseal::open_file(&key, path)?,
            Source::Bytes(data) => modelseal::open_bytes(&key, data, "<memory>")?,
        };
        let p = new_paddle_buffer(&plain)?;
        // SAFETY: `out` and `out_len` are non-NULL and writable (caller contract).
        unsafe {
            out.write(p);
            out_len.write(plain.len());
        }
        Ok(())
    })
}

enum Source<'a> {
    File(&'a Path),
    Bytes(&'a [u8]),
}

/// Writes a new key into `out` (at least `PADDLE_KEY_BUFFER_LEN` = 45 bytes): base64 of 32
/// bytes from the OS CSPRNG, 44 characters, NUL-terminated.
/// PaddleX: `std::string paddle_generate_random_key()`.
/// Returns CODE_OK, 101 (NULL), 105 (`out_len` < 45), 102 (random generator failure).
///
/// # Safety
/// `out` is NULL or points to `out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn paddle_generate_random_key(out: *mut c_char, out_len: usize) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { generate_key(out, out_len, false) }
}

/// Like `paddle_generate_random_key`, but the 32 key bytes contain no 0x00 byte. Only needed
/// for keys that PaddleX 2.x's own C++ `decrypt_file` must read: it truncates keys at a 0x00
/// byte and fails for them (about 12% of random keys). modelseal reads every key.
///
/// # Safety
/// `out` is NULL or points to `out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn paddle_generate_random_key_no_nul(
    out: *mut c_char,
    out_len: usize,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { generate_key(out, out_len, true) }
}

/// Encrypts the model directory `src_dir` into the new directory `dst_dir` with the base64 key
/// `keydata`, in modelseal format v2 (every file sealed, bound by a sealed manifest).
/// PaddleX semantics: returns 106 when `src_dir` does not exist, 107 when it holds no files,
/// then 110 / 108 / 109 when it has no config (`model.yml`, or any `*.yml`/`*.yaml`), no model
/// (`__model__`, `*.pdmodel`, `inference.json`, `*.onnx`) or no params file (`__params__`,
/// `*.pdiparams`; not needed with `*.onnx`). Also 101 (NULL), 105 (bad key), 100 (read/write
/// failure, input already encrypted), 111 (`dst_dir` exists and is not empty, or is inside
/// `src_dir`: unlike PaddleX, nothing is overwritten). Use `paddle_encrypt_dir_v1` for PaddleX's
/// own file layout.
///
/// # Safety
/// The three arguments are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn paddle_encrypt_dir(
    keydata: *const c_char,
    src_dir: *const c_char,
    dst_dir: *const c_char,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { encrypt_dir(keydata, src_dir, dst_dir, OutputFormat::V2) }
}

/// As `paddle_encrypt_dir`, writing PaddleX format v1 exactly like PaddleX's tool:
/// `<name>.encrypted` for the model, params and config files (`__model__`, `__params__`,
/// `model.yml`), every other file (e.g. `.success`) copied byte for byte. For old PaddleX and
/// FastDeploy loaders only: v1 reuses one AES-GCM nonce for every file under a key.
///
/// # Safety
/// The three arguments are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn paddle_encrypt_dir_v1(
    keydata: *const c_char,
    src_dir: *const c_char,
    dst_dir: *const c_char,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { encrypt_dir(keydata, src_dir, dst_dir, OutputFormat::PaddleV1) }
}

/// Encrypts one file `infile` into the new file `outfile` (never overwritten) in modelseal
/// format v2. PaddleX: same signature. Returns 0, 101 (NULL), 105 (bad key), 100 (cannot read
/// `infile`, `outfile` exists or cannot be written), 102 (random generator failure).
///
/// # Safety
/// The three arguments are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn paddle_encrypt_model(
    keydata: *const c_char,
    infile: *const c_char,
    outfile: *const c_char,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { encrypt_model(keydata, infile, outfile, OutputFormat::V2) }
}

/// As `paddle_encrypt_model`, writing PaddleX format v1 (`PADDLE1`), for old loaders only.
///
/// # Safety
/// The three arguments are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn paddle_encrypt_model_v1(
    keydata: *const c_char,
    infile: *const c_char,
    outfile: *const c_char,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { encrypt_model(keydata, infile, outfile, OutputFormat::PaddleV1) }
}

/// Tells whether `file_path` is encrypted: 0 = encrypted (PaddleX v1, FastDeploy base64 v1 or
/// modelseal v2), 1 = not encrypted, 100 = cannot be opened or read, 101 = NULL.
/// PaddleX: same signature and codes.
///
/// # Safety
/// `file_path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn paddle_check_file_encrypted(file_path: *const c_char) -> c_int {
    encrypted_answer(|| {
        // SAFETY: forwarded caller contract.
        let path = unsafe { path_arg(file_path, "file_path") }?;
        Ok(modelseal::file_storage(path)? != Storage::Plain)
    })
}

/// Like `paddle_check_file_encrypted`, for `len` bytes in memory: 0 encrypted, 1 not, 101 NULL.
/// PaddleX: `int paddle_check_stream_encrypted(std::istream&)`.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn paddle_check_buffer_encrypted(data: *const c_uchar, len: usize) -> c_int {
    encrypted_answer(|| {
        // SAFETY: forwarded caller contract.
        let data = unsafe { bytes_arg(data, len, "data") }?;
        Ok(storage_of(data) != ModelsealStorage::Plain)
    })
}

/// Decrypts `file_path` (modelseal v2, PaddleX v1 or FastDeploy base64 v1) with the base64 key
/// `key` into a new buffer: on success `*out` points to `*out_len` bytes, to be released with
/// `paddle_buffer_free` (which wipes them); on failure `*out`/`*out_len` are left unchanged.
/// Every key works, including keys with 0x00 bytes (PaddleX 2.x's fails for those).
/// PaddleX: `std::string decrypt_file(const char* file_path, const char* key)`, which returned ""
/// on any error; this returns a code instead: 0, 100 (cannot open or read), 101 (NULL), 103 (data
/// corrupted, truncated or tampered; not encrypted; unsupported version), 104 (wrong key), 105
/// (key not base64 of 32 bytes). `modelseal_last_error()` says what happened.
///
/// # Safety
/// `file_path` and `key` are NULL or NUL-terminated; `out` and `out_len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paddle_decrypt_file(
    file_path: *const c_char,
    key: *const c_char,
    out: *mut *mut c_uchar,
    out_len: *mut usize,
) -> c_int {
    // SAFETY: forwarded caller contract.
    let source = || {
        // SAFETY: `file_path` is NULL or NUL-terminated (caller contract).
        unsafe { path_arg(file_path, "file_path") }.map(Source::File)
    };
    // SAFETY: forwarded caller contract.
    unsafe { decrypt_into(source, key, out, out_len) }
}

/// Like `paddle_decrypt_file`, for a sealed file image of `len` bytes in memory.
/// PaddleX: `int decrypt_stream(std::istream& cipher, std::ostream& plain, const std::string& key)`.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes; `key` is NULL or NUL-terminated; `out` and
/// `out_len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn paddle_decrypt_buffer(
    data: *const c_uchar,
    len: usize,
    key: *const c_char,
    out: *mut *mut c_uchar,
    out_len: *mut usize,
) -> c_int {
    // SAFETY: forwarded caller contract.
    let source = || {
        // SAFETY: `data` is NULL or points to `len` readable bytes (caller contract).
        unsafe { bytes_arg(data, len, "data") }.map(Source::Bytes)
    };
    // SAFETY: forwarded caller contract.
    unsafe { decrypt_into(source, key, out, out_len) }
}

/// Wipes and releases a buffer from `paddle_decrypt_file` / `paddle_decrypt_buffer`, then sets
/// `*data` to NULL. NULL and `*data == NULL` do nothing.
///
/// # Safety
/// `data` is NULL or points to NULL or to a pointer returned by `paddle_decrypt_*` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn paddle_buffer_free(data: *mut *mut c_uchar) {
    crate::boundary::quiet((), || {
        if data.is_null() {
            return;
        }
        // SAFETY: `data` is non-NULL and points to a readable, writable pointer (caller contract).
        let p = unsafe { *data };
        if p.is_null() {
            return;
        }
        // SAFETY: `p` was returned by new_paddle_buffer (caller contract), so the allocation
        // starts PREFIX bytes before it with the length, was made with this layout, and `len`
        // bytes at `p` are initialised and writable.
        unsafe {
            let base = p.sub(PREFIX);
            let len = base.cast::<usize>().read();
            std::slice::from_raw_parts_mut(p, len).zeroize();
            dealloc(
                base,
                Layout::from_size_align_unchecked(PREFIX + len, PREFIX),
            );
            *data = ptr::null_mut();
        }
    })
}
