//! The one place where the server opens a model directory: through the `modelseal` crate's open
//! policy (`OpenOptions`: with a key only a sealing that verifies, PaddleX v1 on opt-in, a pinned
//! sealing id), then the SDK's predictor. Every refusal carries the kind the CLI maps to its exit code.

use std::path::Path;

use modelseal::OpenOptions;
use modelseal_deploy::{BackendOptions, ErrorKind, ModelSource, Predictor};

use crate::error::{ServeError, ServeErrorKind};

fn kind_of(e: &modelseal_deploy::Error) -> ServeErrorKind {
    match e.kind() {
        ErrorKind::Usage => ServeErrorKind::Usage,
        ErrorKind::Io => ServeErrorKind::Io,
        ErrorKind::WrongKey => ServeErrorKind::WrongKey,
        ErrorKind::Integrity => ServeErrorKind::Integrity,
        ErrorKind::Unsupported => ServeErrorKind::Unsupported,
        _ => ServeErrorKind::Failure,
    }
}

/// Opens the model in `dir` under `policy` and builds its predictor; the decrypted members are
/// wiped once the session is built.
pub fn open_model(
    dir: &Path,
    policy: &OpenOptions,
    opts: &BackendOptions,
) -> Result<Predictor, ServeError> {
    let fail = |e: modelseal_deploy::Error| ServeError::with_source(kind_of(&e), e.to_string(), e);
    let source = ModelSource::open(dir, policy).map_err(fail)?;
    if source.storage() == modelseal::Storage::PaddleV1 {
        tracing::warn!(dir = %dir.display(), "serving a PaddleX v1 directory (--allow-paddlex-v1): one AES-GCM nonce per key and no manifest; migrate it with `modelseal rekey`");
    }
    Predictor::open(&source, opts).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use modelseal::{Key, SealId};

    #[test]
    fn missing_directories_are_io_errors() {
        let e = open_model(
            Path::new("/nonexistent/model"),
            &OpenOptions::new(),
            &BackendOptions::default(),
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), ServeErrorKind::Io, "{e}");
    }

    #[test]
    fn with_a_key_a_plain_directory_is_refused_as_not_sealed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("model.onnx"), b"not really").unwrap();
        let key = Key::from_bytes([7; 32]);
        let e = open_model(
            dir.path(),
            &OpenOptions::new().key(key),
            &BackendOptions::default(),
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), ServeErrorKind::Unsupported);
        assert!(e.to_string().contains("not sealed"), "{e}");
    }

    #[test]
    fn a_pinned_sealing_id_without_a_key_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("model.onnx"), b"onnx").unwrap();
        let id: SealId = "00112233445566778899aabbccddeeff".parse().unwrap();
        let e = open_model(
            dir.path(),
            &OpenOptions::new().expect_seal_id(id),
            &BackendOptions::default(),
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), ServeErrorKind::Usage, "{e}");
    }
}
