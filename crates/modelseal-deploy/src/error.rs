//! Typed errors of the deployment SDK, each with a kind every front end maps the same way (exit
//! codes, C statuses, Python exceptions, server responses). Every error names the file and the problem.

use std::path::PathBuf;

/// The broad class of an [`Error`]; front ends map it to exit codes, statuses and exceptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A request that cannot be carried out as asked (bad option, missing key, no GPU runtime).
    Usage,
    /// A file could not be read or written.
    Io,
    /// The key does not open the sealed model.
    WrongKey,
    /// The sealed model was tampered with, truncated, swapped or mixed with another sealing.
    Integrity,
    /// A model, layout or config this build does not support, or a directory that is not sealed.
    Unsupported,
    /// One input (an image) is unreadable or unusable; other inputs may still succeed.
    InvalidInput,
    /// The inference backend failed while running.
    Backend,
}

impl ErrorKind {
    /// A stable snake_case name (used in JSON error lines, Python and the server).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Usage => "usage",
            ErrorKind::Io => "io",
            ErrorKind::WrongKey => "wrong_key",
            ErrorKind::Integrity => "integrity",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Backend => "backend",
        }
    }
}

impl From<modelseal::ErrorKind> for ErrorKind {
    fn from(k: modelseal::ErrorKind) -> ErrorKind {
        match k {
            modelseal::ErrorKind::Usage => ErrorKind::Usage,
            modelseal::ErrorKind::Io => ErrorKind::Io,
            modelseal::ErrorKind::WrongKey => ErrorKind::WrongKey,
            modelseal::ErrorKind::Integrity => ErrorKind::Integrity,
            _ => ErrorKind::Unsupported,
        }
    }
}

/// Errors returned by the deployment SDK.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model directory could not be opened or a member could not be read (the open policy of
    /// the `modelseal` crate refused it, or decryption or I/O failed).
    #[error("model directory {}: {source}", dir.display())]
    Open {
        /// The directory.
        dir: PathBuf,
        /// What the `modelseal` crate reported.
        #[source]
        source: modelseal::Error,
    },
    /// The model directory does not have exactly one model file or one config.
    #[error("model directory {}: {message}", dir.display())]
    Layout {
        /// The directory.
        dir: PathBuf,
        /// What is missing or ambiguous.
        message: String,
    },
    /// A config file is malformed or holds an unknown key or value.
    #[error("config {file}: {message}")]
    Config {
        /// The config member name.
        file: String,
        /// What is wrong (names the key and, where it applies, the accepted values).
        message: String,
    },
    /// An image could not be read or decoded, or is too large.
    #[error("image {path}: {message}")]
    Image {
        /// The image path (or a description of its origin).
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A transform could not be applied to an image (e.g. a crop larger than the image).
    #[error("transform {transform}: {message}")]
    Transform {
        /// The transform name as written in the config.
        transform: String,
        /// What went wrong.
        message: String,
    },
    /// The backend is not available here (no ONNX Runtime library, no GPU execution provider).
    #[error("backend {backend}: {message}")]
    BackendUnavailable {
        /// `onnxruntime` or `tract`.
        backend: &'static str,
        /// What is missing.
        message: String,
    },
    /// The backend could not load the model (an operator or form it does not support).
    #[error("backend {backend} cannot load {model}: {message}")]
    ModelLoad {
        /// `onnxruntime` or `tract`.
        backend: &'static str,
        /// The model member name.
        model: String,
        /// What the backend said.
        message: String,
    },
    /// A Paddle program could not be imported: malformed, unsupported operators (all listed),
    /// or parameters that do not belong to it.
    #[error("model directory {}: Paddle program {model}: {source}", dir.display())]
    Import {
        /// The model directory.
        dir: PathBuf,
        /// The program member name.
        model: String,
        /// What the importer reported.
        #[source]
        source: modelseal_paddle::Error,
    },
    /// The inference backend failed while running.
    #[error("backend {backend}: {message}")]
    Backend {
        /// `onnxruntime` or `tract`.
        backend: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The model's inputs or outputs do not match what the task needs, or its outputs are not
    /// numbers (NaN).
    #[error("model {model}: {message}")]
    Model {
        /// The model member name.
        model: String,
        /// What does not match.
        message: String,
    },
    /// Writing an output (visualisation, label map) failed.
    #[error("output {}: {message}", path.display())]
    Output {
        /// The output path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Open { source, .. } => source.kind().into(),
            Error::Layout { .. }
            | Error::Config { .. }
            | Error::ModelLoad { .. }
            | Error::Import { .. }
            | Error::Model { .. } => ErrorKind::Unsupported,
            Error::Image { .. } | Error::Transform { .. } => ErrorKind::InvalidInput,
            Error::BackendUnavailable { .. } => ErrorKind::Usage,
            Error::Backend { .. } => ErrorKind::Backend,
            Error::Output { .. } => ErrorKind::Io,
        }
    }

    /// The `modelseal` error behind this one, if any (its name tells e.g. `not_sealed` apart).
    pub fn sealing_error(&self) -> Option<&modelseal::Error> {
        match self {
            Error::Open { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Result type of the deployment SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn config_err(file: &str, message: impl Into<String>) -> Error {
    Error::Config {
        file: file.to_string(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_cause() {
        let open = |source| Error::Open {
            dir: "d".into(),
            source,
        };
        let wrong = open(modelseal::Error::WrongKey { path: "m".into() });
        assert_eq!(wrong.kind(), ErrorKind::WrongKey);
        let layout = Error::Layout {
            dir: "d".into(),
            message: "no model".into(),
        };
        assert_eq!(layout.kind(), ErrorKind::Unsupported);
        let image = Error::Image {
            path: "x.png".into(),
            message: "truncated".into(),
        };
        assert_eq!(image.kind().name(), "invalid_input");
        let gpu = Error::BackendUnavailable {
            backend: "onnxruntime",
            message: "no CUDA".into(),
        };
        assert_eq!(gpu.kind(), ErrorKind::Usage);
    }
}
