//! The Python exceptions and how the libraries' typed errors map onto them: the class follows the
//! cause, `.kind` carries the kind name the CLI's JSON output uses, `.name` the precise cause.

use modelseal_deploy::ErrorKind;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;

create_exception!(
    modelseal,
    Error,
    PyException,
    "A modelseal failure. `.kind` is its kind name, as in the CLI's JSON output (usage, io, wrong_key, integrity, unsupported, invalid_input, backend); `.name` the precise cause (e.g. `chunk_corrupted`, `key_required`) or None."
);
create_exception!(
    modelseal,
    BadKeyError,
    Error,
    "A key that is not base64 of exactly 32 bytes (44 characters), or not 32 raw bytes."
);
create_exception!(
    modelseal,
    WrongKeyError,
    Error,
    "The key does not open this sealed data (told apart from tampering before any payload is decrypted)."
);
create_exception!(
    modelseal,
    IntegrityError,
    Error,
    "Sealed data was tampered with, truncated, extended, swapped or mixed with another sealing, or is not the pinned sealing."
);
create_exception!(
    modelseal,
    UnsupportedError,
    Error,
    "Input of a kind this build does not open: a format version, a PaddleX v1 directory without allow_paddlex_v1, a model, layout or config it does not support."
);
create_exception!(
    modelseal,
    NotSealedError,
    UnsupportedError,
    "Not sealed data where sealed data is required: a plain directory or file given with a key (a plain directory opens without a key)."
);

/// Adds the exception classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("BadKeyError", py.get_type::<BadKeyError>())?;
    m.add("WrongKeyError", py.get_type::<WrongKeyError>())?;
    m.add("IntegrityError", py.get_type::<IntegrityError>())?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    m.add("NotSealedError", py.get_type::<NotSealedError>())?;
    Ok(())
}

/// A failure computed without the GIL, turned into a Python exception at the boundary.
#[derive(Debug)]
pub(crate) enum Failure {
    /// From the format library.
    Core(modelseal::Error),
    /// From the deployment SDK.
    Deploy(modelseal_deploy::Error),
    /// A request the library cannot carry out (a `modelseal.Error` of kind `usage`).
    Usage(String),
    /// A malformed argument value (`ValueError`).
    Value(String),
    /// An argument of the wrong type (`TypeError`).
    Type(String),
    /// A Python exception raised while the arguments were read, passed on as it is.
    Py(PyErr),
}

impl From<modelseal::Error> for Failure {
    fn from(e: modelseal::Error) -> Failure {
        Failure::Core(e)
    }
}

impl From<PyErr> for Failure {
    fn from(e: PyErr) -> Failure {
        Failure::Py(e)
    }
}

impl From<modelseal_deploy::Error> for Failure {
    fn from(e: modelseal_deploy::Error) -> Failure {
        Failure::Deploy(e)
    }
}

/// Which exception class a failure raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Error,
    BadKey,
    WrongKey,
    Integrity,
    Unsupported,
    NotSealed,
}

/// The class for an error of the format library.
pub(crate) fn class_of_core(e: &modelseal::Error) -> Class {
    match (e.name(), e.kind()) {
        ("bad_key", _) => Class::BadKey,
        ("not_sealed", _) => Class::NotSealed,
        (_, modelseal::ErrorKind::WrongKey) => Class::WrongKey,
        (_, modelseal::ErrorKind::Integrity) => Class::Integrity,
        (_, modelseal::ErrorKind::Unsupported) => Class::Unsupported,
        _ => Class::Error,
    }
}

/// The class for an error of the deployment SDK: its sealing cause decides, else its kind.
pub(crate) fn class_of_deploy(e: &modelseal_deploy::Error) -> Class {
    match e.sealing_error() {
        Some(core) => class_of_core(core),
        None if e.kind() == ErrorKind::Unsupported => Class::Unsupported,
        None => Class::Error,
    }
}

/// The message of an error with its causes, as the CLI prints it (`cause: cause: ...`, each
/// cause only where its text adds to what is already there).
pub(crate) fn message(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        cause = c.source();
    }
    text
}

impl Failure {
    /// Class, kind name, precise name and message.
    pub(crate) fn parts(&self) -> (Class, &'static str, Option<&'static str>, String) {
        match self {
            Failure::Core(e) => (
                class_of_core(e),
                ErrorKind::from(e.kind()).name(),
                Some(e.name()),
                message(e),
            ),
            Failure::Deploy(e) => (
                class_of_deploy(e),
                e.kind().name(),
                e.sealing_error().map(|c| c.name()),
                message(e),
            ),
            Failure::Usage(m) | Failure::Value(m) | Failure::Type(m) => {
                (Class::Error, ErrorKind::Usage.name(), None, m.clone())
            }
            Failure::Py(e) => (Class::Error, ErrorKind::Usage.name(), None, e.to_string()),
        }
    }

    /// The Python exception.
    pub(crate) fn into_pyerr(self, py: Python<'_>) -> PyErr {
        match self {
            Failure::Value(m) => return PyValueError::new_err(m),
            Failure::Type(m) => return PyTypeError::new_err(m),
            Failure::Py(e) => return e,
            _ => {}
        }
        let (class, kind, name, text) = self.parts();
        let err = match class {
            Class::Error => Error::new_err(text),
            Class::BadKey => BadKeyError::new_err(text),
            Class::WrongKey => WrongKeyError::new_err(text),
            Class::Integrity => IntegrityError::new_err(text),
            Class::Unsupported => UnsupportedError::new_err(text),
            Class::NotSealed => NotSealedError::new_err(text),
        };
        let value = err.value(py);
        // Attributes on a fresh exception instance cannot fail but for memory exhaustion, in
        // which case the exception is raised without them.
        let _ = value.setattr("kind", kind);
        let _ = value.setattr("name", name);
        err
    }
}

impl From<Failure> for PyErr {
    fn from(f: Failure) -> PyErr {
        Python::attach(|py| f.into_pyerr(py))
    }
}

/// A `ValueError` failure.
pub(crate) fn value(message: impl Into<String>) -> Failure {
    Failure::Value(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn p() -> PathBuf {
        PathBuf::from("d")
    }

    #[test]
    fn classes_follow_the_cause() {
        let cases = [
            (
                modelseal::Error::BadKey {
                    origin: None,
                    reason: "short".into(),
                },
                Class::BadKey,
                "usage",
            ),
            (
                modelseal::Error::WrongKey { path: p() },
                Class::WrongKey,
                "wrong_key",
            ),
            (
                modelseal::Error::ChunkCorrupted {
                    path: p(),
                    chunk: 1,
                    chunks: 2,
                },
                Class::Integrity,
                "integrity",
            ),
            (
                modelseal::Error::SealIdMismatch {
                    dir: p(),
                    expected: "a".into(),
                    found: "b".into(),
                },
                Class::Integrity,
                "integrity",
            ),
            (
                modelseal::Error::NotSealed {
                    path: p(),
                    reason: "plain".into(),
                },
                Class::NotSealed,
                "unsupported",
            ),
            (
                modelseal::Error::PaddleV1NotAllowed { dir: p() },
                Class::Unsupported,
                "unsupported",
            ),
            (
                modelseal::Error::KeyRequired { path: p() },
                Class::Error,
                "usage",
            ),
        ];
        for (e, class, kind) in cases {
            let name = e.name();
            let (c, k, n, text) = Failure::Core(e).parts();
            assert_eq!((c, k, n), (class, kind, Some(name)), "{text}");
            assert!(text.contains('d') || text.contains("short"), "{text}");
        }
    }

    #[test]
    fn deploy_errors_keep_their_sealing_cause() {
        let wrapped = modelseal_deploy::Error::Open {
            dir: p(),
            source: modelseal::Error::NotSealed {
                path: p(),
                reason: "plain".into(),
            },
        };
        let (c, k, n, text) = Failure::Deploy(wrapped).parts();
        assert_eq!(
            (c, k, n),
            (Class::NotSealed, "unsupported", Some("not_sealed"))
        );
        assert!(text.contains("not sealed"), "{text}");
        let image = modelseal_deploy::Error::Image {
            path: "x.png".into(),
            message: "truncated".into(),
        };
        let (c, k, n, _) = Failure::Deploy(image).parts();
        assert_eq!((c, k, n), (Class::Error, "invalid_input", None));
        let layout = modelseal_deploy::Error::Layout {
            dir: p(),
            message: "no model".into(),
        };
        assert_eq!(Failure::Deploy(layout).parts().0, Class::Unsupported);
    }

    #[test]
    fn messages_add_only_new_causes() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("outer")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(message(&e), "outer: inner");
        let e = modelseal::Error::Io {
            path: p(),
            source: std::io::Error::other("gone"),
        };
        assert_eq!(message(&e), "d: gone");
    }
}
