//! The library version, the last error of the calling thread and the names of statuses.

use super::*;

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

/// Test hook (not in the header): panics inside the boundary, to check that no panic crosses it.
/// Returns PANIC.
#[doc(hidden)]
#[no_mangle]
pub extern "C" fn modelseal_test_panic() -> ModelsealStatus {
    status(|| panic!("deliberate panic from modelseal_test_panic"))
}
