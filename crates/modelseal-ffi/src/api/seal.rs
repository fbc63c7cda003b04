//! Sealing directories, files and buffers.

use super::*;

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
