//! Keys: generating one (raw buffer or library-owned string) and validating key strings.

use super::*;

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
