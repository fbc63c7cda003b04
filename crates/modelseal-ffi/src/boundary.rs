//! The FFI boundary: status codes, the thread-local last error, the panic guard and argument helpers.
//! Every exported function runs its body through [`boundary`] and reads its arguments through these helpers.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Result of a `modelseal_*` function. `MODELSEAL_STATUS_OK` (0) is success; every other value is a
/// failure whose details are in `modelseal_last_error()` and `modelseal_last_error_name()`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelsealStatus {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// An argument is invalid or the request cannot be carried out as asked: a string that is not
    /// UTF-8, an unknown format or flag, an output that exists, a sealed input opened without a key.
    InvalidArgument = 2,
    /// The key string is not base64 of exactly 32 bytes.
    BadKey = 3,
    /// The caller's buffer is too small (a key needs at least `MODELSEAL_KEY_BUFFER_LEN` bytes).
    BufferTooSmall = 4,
    /// No member with this name or index.
    NotFound = 5,
    /// Reading or writing a file failed (missing file, permissions, disk full), or the OS random
    /// generator failed.
    Io = 6,
    /// The key does not open this data.
    WrongKey = 7,
    /// The data was changed, truncated, extended, swapped or mixed with another sealing.
    Integrity = 8,
    /// Not sealed data (where sealed data is required), or a format version this build does not read.
    Unsupported = 9,
    /// A bug: the library panicked. The panic was caught; the message says where.
    Panic = 10,
}

impl ModelsealStatus {
    /// A stable lower-case name of the status.
    pub(crate) fn name(self) -> &'static CStr {
        match self {
            ModelsealStatus::Ok => c"ok",
            ModelsealStatus::NullArgument => c"null_argument",
            ModelsealStatus::InvalidArgument => c"invalid_argument",
            ModelsealStatus::BadKey => c"bad_key",
            ModelsealStatus::BufferTooSmall => c"buffer_too_small",
            ModelsealStatus::NotFound => c"not_found",
            ModelsealStatus::Io => c"io",
            ModelsealStatus::WrongKey => c"wrong_key",
            ModelsealStatus::Integrity => c"integrity",
            ModelsealStatus::Unsupported => c"unsupported",
            ModelsealStatus::Panic => c"panic",
        }
    }

    /// Every status, in value order.
    pub(crate) const ALL: [ModelsealStatus; 11] = [
        ModelsealStatus::Ok,
        ModelsealStatus::NullArgument,
        ModelsealStatus::InvalidArgument,
        ModelsealStatus::BadKey,
        ModelsealStatus::BufferTooSmall,
        ModelsealStatus::NotFound,
        ModelsealStatus::Io,
        ModelsealStatus::WrongKey,
        ModelsealStatus::Integrity,
        ModelsealStatus::Unsupported,
        ModelsealStatus::Panic,
    ];
}

/// A failed call: its status, a stable error name and a message for the caller; the library
/// error behind it (for PaddleX's codes), or PaddleX's code itself where PaddleX's own checks failed.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: ModelsealStatus,
    pub(crate) name: &'static str,
    pub(crate) message: String,
    pub(crate) error: Option<Box<modelseal::Error>>,
    pub(crate) paddle_code: Option<i32>,
}

impl Failure {
    pub(crate) fn new(
        status: ModelsealStatus,
        name: &'static str,
        message: impl Into<String>,
    ) -> Failure {
        Failure {
            status,
            name,
            message: message.into(),
            error: None,
            paddle_code: None,
        }
    }

    pub(crate) fn null(arg: &str) -> Failure {
        Failure::new(
            ModelsealStatus::NullArgument,
            "null_argument",
            format!("argument '{arg}' is NULL"),
        )
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(
            ModelsealStatus::InvalidArgument,
            "invalid_argument",
            message,
        )
    }
}

impl From<modelseal::Error> for Failure {
    fn from(e: modelseal::Error) -> Failure {
        use modelseal::{Error, ErrorKind};
        let status = match (&e, e.kind()) {
            (Error::BadKey { .. }, _) => ModelsealStatus::BadKey,
            (_, ErrorKind::Usage) => ModelsealStatus::InvalidArgument,
            (_, ErrorKind::Io) => ModelsealStatus::Io,
            (_, ErrorKind::WrongKey) => ModelsealStatus::WrongKey,
            (_, ErrorKind::Integrity) => ModelsealStatus::Integrity,
            (_, ErrorKind::Unsupported) => ModelsealStatus::Unsupported,
            _ => ModelsealStatus::InvalidArgument,
        };
        Failure {
            status,
            name: e.name(),
            message: e.to_string(),
            error: Some(Box::new(e)),
            paddle_code: None,
        }
    }
}

struct LastError {
    message: CString,
    name: CString,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError { message: CString::default(), name: CString::default() });
}

fn to_cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "?")).unwrap_or_default()
}

fn set_last_error(f: Option<&Failure>) {
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut last) = cell.try_borrow_mut() {
            match f {
                Some(f) => {
                    last.message = to_cstring(&f.message);
                    last.name = to_cstring(f.name);
                }
                None => {
                    if !last.message.is_empty() || !last.name.is_empty() {
                        last.message = CString::default();
                        last.name = CString::default();
                    }
                }
            }
        }
    });
}

/// The message of the last failure on this thread ("" after a success), owned by the thread-local.
pub(crate) fn last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|cell| {
            cell.try_borrow()
                .map(|l| l.message.as_ptr())
                .unwrap_or(c"".as_ptr())
        })
        .unwrap_or(c"".as_ptr())
}

/// The stable name of the last failure on this thread ("" after a success).
pub(crate) fn last_error_name() -> *const c_char {
    LAST_ERROR
        .try_with(|cell| {
            cell.try_borrow()
                .map(|l| l.name.as_ptr())
                .unwrap_or(c"".as_ptr())
        })
        .unwrap_or(c"".as_ptr())
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".into());
    format!("internal error (panic) in modelseal: {what}")
}

/// Runs `f` behind a panic boundary and records its outcome as this thread's last error.
pub(crate) fn boundary<F: FnOnce() -> Result<(), Failure>>(f: F) -> Result<(), Failure> {
    let outcome = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(Failure::new(
            ModelsealStatus::Panic,
            "panic",
            panic_message(&*payload),
        )),
    };
    set_last_error(outcome.as_ref().err());
    outcome
}

/// [`boundary`] for functions that return a [`ModelsealStatus`].
pub(crate) fn status<F: FnOnce() -> Result<(), Failure>>(f: F) -> ModelsealStatus {
    match boundary(f) {
        Ok(()) => ModelsealStatus::Ok,
        Err(e) => e.status,
    }
}

/// Runs `f` behind a panic boundary without touching the last error (accessors and `_free` functions).
pub(crate) fn quiet<T, F: FnOnce() -> T>(fallback: T, f: F) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Borrows a NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid and unchanged for `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, arg: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(arg));
    }
    // SAFETY: `p` is non-NULL and, by the caller's contract, NUL-terminated and valid for 'a.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map_err(|_| Failure::invalid(format!("argument '{arg}' is not valid UTF-8")))
}

/// Borrows a NUL-terminated path argument (any bytes on Unix, UTF-8 elsewhere).
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn path_arg<'a>(p: *const c_char, arg: &str) -> Result<&'a Path, Failure> {
    if p.is_null() {
        return Err(Failure::null(arg));
    }
    // SAFETY: `p` is non-NULL and, by the caller's contract, NUL-terminated and valid for 'a.
    let c = unsafe { CStr::from_ptr(p) };
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        if c.to_bytes().is_empty() {
            return Err(Failure::invalid(format!(
                "argument '{arg}' is an empty path"
            )));
        }
        Ok(Path::new(std::ffi::OsStr::from_bytes(c.to_bytes())))
    }
    #[cfg(not(unix))]
    {
        let s = c
            .to_str()
            .map_err(|_| Failure::invalid(format!("argument '{arg}' is not valid UTF-8")))?;
        if s.is_empty() {
            return Err(Failure::invalid(format!(
                "argument '{arg}' is an empty path"
            )));
        }
        Ok(Path::new(s))
    }
}

/// Parses a NUL-terminated base64 key argument.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn key_arg(p: *const c_char, arg: &str) -> Result<modelseal::Key, Failure> {
    // SAFETY: forwarded caller contract.
    let text = unsafe { str_arg(p, arg) }?;
    Ok(modelseal::Key::from_base64(text)?)
}

/// A key and two path arguments, as the sealing functions take them; a bad path is reported
/// before a bad key.
///
/// # Safety
/// The three strings are NULL or NUL-terminated and stay valid for `'a`.
pub(crate) unsafe fn key_and_paths<'a>(
    (key, key_name): (*const c_char, &str),
    (src, src_name): (*const c_char, &str),
    (dst, dst_name): (*const c_char, &str),
) -> Result<(modelseal::Key, &'a Path, &'a Path), Failure> {
    // SAFETY: forwarded caller contract.
    let (key, src, dst) = unsafe {
        (
            key_arg(key, key_name),
            path_arg(src, src_name),
            path_arg(dst, dst_name),
        )
    };
    let (src, dst) = (src?, dst?);
    Ok((key?, src, dst))
}

/// Borrows a byte-buffer argument.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes that stay valid and unchanged for `'a`.
pub(crate) unsafe fn bytes_arg<'a>(
    p: *const u8,
    len: usize,
    arg: &str,
) -> Result<&'a [u8], Failure> {
    if p.is_null() {
        return Err(Failure::null(arg));
    }
    if len > isize::MAX as usize {
        return Err(Failure::invalid(format!(
            "argument '{arg}': length {len} is too large"
        )));
    }
    // SAFETY: `p` is non-NULL and, by the caller's contract, points to `len` readable bytes valid for 'a;
    // `len` fits in isize (checked above).
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Checks that an out-pointer is not NULL.
pub(crate) fn out_arg<T>(p: *mut T, arg: &str) -> Result<(), Failure> {
    if p.is_null() {
        Err(Failure::null(arg))
    } else {
        Ok(())
    }
}
