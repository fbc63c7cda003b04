//! Single sealed files and buffers: opening them and telling how they are stored.

use super::*;

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
