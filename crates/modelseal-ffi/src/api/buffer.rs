//! Library-owned buffers of decrypted bytes: access and wipe-on-free.

use super::*;

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
