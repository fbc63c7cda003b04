//! Typed errors of the deployment SDK.
//! Every error names the file (model member, config or image) and the problem.

use std::path::PathBuf;

/// Errors returned by the deployment SDK.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model directory could not be opened or a member could not be read (sealed or plain).
    #[error("model directory {dir}: {message}")]
    ModelDir {
        /// The directory.
        dir: PathBuf,
        /// What went wrong.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// The model directory does not have exactly one model file or one config.
    #[error("model directory {dir}: {message}")]
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
    /// An image could not be read or decoded.
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
    /// The inference backend failed or is not available.
    #[error("backend {backend}: {message}")]
    Backend {
        /// `onnxruntime` or `tract`.
        backend: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The model's inputs or outputs do not match what the task needs.
    #[error("model {model}: {message}")]
    Model {
        /// The model member name.
        model: String,
        /// What does not match.
        message: String,
    },
    /// Writing an output (visualisation, label map) failed.
    #[error("output {path}: {message}")]
    Output {
        /// The output path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Result type of the deployment SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn config_err(file: &str, message: impl Into<String>) -> Error {
    Error::Config {
        file: file.to_string(),
        message: message.into(),
    }
}
