//! The importer's typed errors: malformed program or parameters, unsupported operators, a
//! parameter whose stored shape or type differs from the program's declaration, a tail failure.

/// Errors of [`crate::import`], [`crate::params::read_tensors`] and [`crate::Tail::run`].
///
/// Callers map the kinds to exit codes: a malformed program or parameters file is bad input, an
/// unsupported operator asks for another converter, a mismatched parameter means the program and
/// the parameters file do not belong together.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The program bytes are not a Paddle program this crate can read.
    #[error("malformed Paddle program ({format}): {message}")]
    MalformedProgram {
        /// `legacy ProgramDesc`, `PIR JSON` or `unknown`.
        format: &'static str,
        /// What is wrong, with the op, variable or byte offset where known.
        message: String,
    },
    /// The parameters file is truncated, has trailing bytes or an impossible tensor header.
    #[error("malformed Paddle parameters at byte {offset}{}: {message}", tensor.as_ref().map(|t| format!(" (tensor {t})")).unwrap_or_default())]
    MalformedParams {
        /// Offset in the parameters bytes where the problem was found.
        offset: usize,
        /// The parameter being read, when known.
        tensor: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The program uses operators (or operator forms) this importer does not translate.
    #[error("unsupported Paddle operators: {}; convert this model with paddle2onnx instead (`paddle2onnx --model_dir DIR --model_filename ... --params_filename ... --save_file model.onnx`)", ops.join(", "))]
    Unsupported {
        /// Every unsupported operator type, sorted and deduplicated (an attribute form that is
        /// not supported is named `type(detail)`).
        ops: Vec<String>,
    },
    /// A stored tensor does not match its parameter's declaration in the program.
    #[error(
        "parameter {name}: the program declares {expected}, the parameters file holds {found}"
    )]
    ParamMismatch {
        /// The parameter name.
        name: String,
        /// Declared dims/type, e.g. `[8, 3, 3, 3] float32`.
        expected: String,
        /// Stored dims/type.
        found: String,
    },
    /// The inputs given to [`crate::Tail::run`] are missing, of the wrong type or shape.
    #[error("tail: {0}")]
    Tail(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn legacy(message: impl Into<String>) -> Error {
    Error::MalformedProgram {
        format: "legacy ProgramDesc",
        message: message.into(),
    }
}

pub(crate) fn pir(message: impl Into<String>) -> Error {
    Error::MalformedProgram {
        format: "PIR JSON",
        message: message.into(),
    }
}
