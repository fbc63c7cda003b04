//! Errors: [`ApiError`] for one request (its HTTP status, gRPC code and metrics outcome) and
//! [`ServeError`] for start-up, with the kind the command line maps to its exit codes.

/// What went wrong with one request, in the protocol's classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// Malformed request, wrong datatype or shape, undecodable image: 400, `INVALID_ARGUMENT`.
    BadRequest(String),
    /// Unknown model or version: 404, `NOT_FOUND`.
    NotFound(String),
    /// Request body over the limit: 413, `RESOURCE_EXHAUSTED`.
    TooLarge(String),
    /// Queue full or shutting down: 503, `UNAVAILABLE`.
    Unavailable(String),
    /// The model failed: 500, `INTERNAL`.
    Internal(String),
}

impl ApiError {
    /// A 400 error.
    pub fn bad_request(m: impl Into<String>) -> ApiError {
        ApiError::BadRequest(m.into())
    }
    /// A 404 error.
    pub fn not_found(m: impl Into<String>) -> ApiError {
        ApiError::NotFound(m.into())
    }
    /// The message.
    pub fn message(&self) -> &str {
        match self {
            ApiError::BadRequest(m)
            | ApiError::NotFound(m)
            | ApiError::TooLarge(m)
            | ApiError::Unavailable(m)
            | ApiError::Internal(m) => m,
        }
    }
    /// The HTTP status of the REST answer.
    pub fn http_status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::NotFound(_) => 404,
            ApiError::TooLarge(_) => 413,
            ApiError::Unavailable(_) => 503,
            ApiError::Internal(_) => 500,
        }
    }
    /// The gRPC status code of the gRPC answer.
    pub fn grpc_code(&self) -> tonic::Code {
        match self {
            ApiError::BadRequest(_) => tonic::Code::InvalidArgument,
            ApiError::NotFound(_) => tonic::Code::NotFound,
            ApiError::TooLarge(_) => tonic::Code::ResourceExhausted,
            ApiError::Unavailable(_) => tonic::Code::Unavailable,
            ApiError::Internal(_) => tonic::Code::Internal,
        }
    }
    /// The `outcome` label of the request counter.
    pub fn outcome(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::NotFound(_) => "not_found",
            ApiError::TooLarge(_) => "too_large",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "error",
        }
    }
    /// The REST error body `{"error": "..."}`.
    pub fn json_body(&self) -> String {
        serde_json::json!({ "error": self.message() }).to_string()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl From<ApiError> for tonic::Status {
    fn from(e: ApiError) -> tonic::Status {
        tonic::Status::new(e.grpc_code(), e.message().to_string())
    }
}

/// The class of a start-up failure; the command line maps it to its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServeErrorKind {
    /// Bad flags, bad key string, missing key, an option not supported yet (exit 2).
    Usage,
    /// A file could not be read, a port could not be bound (exit 3).
    Io,
    /// The key does not open a model (exit 4).
    WrongKey,
    /// A model was tampered with, truncated or mixed (exit 5).
    Integrity,
    /// Not sealed (with a key given), unsupported format or model (exit 6).
    Unsupported,
    /// Anything else (exit 1).
    Failure,
}

/// A failure to start (or to run) the server.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ServeError {
    kind: ServeErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ServeError {
    /// An error of `kind`.
    pub fn new(kind: ServeErrorKind, message: impl Into<String>) -> ServeError {
        ServeError {
            kind,
            message: message.into(),
            source: None,
        }
    }
    /// A usage error.
    pub fn usage(message: impl Into<String>) -> ServeError {
        Self::new(ServeErrorKind::Usage, message)
    }
    /// An error with its cause; the kind is taken from the first `modelseal::Error` in the
    /// cause's chain, else `fallback`.
    pub fn with_source(
        fallback: ServeErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> ServeError {
        let kind = kind_of(&source).unwrap_or(fallback);
        ServeError {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
    /// The class of the failure.
    pub fn kind(&self) -> ServeErrorKind {
        self.kind
    }
}

/// The kind of the first `modelseal::Error` in an error chain.
pub fn kind_of(e: &(dyn std::error::Error + 'static)) -> Option<ServeErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(m) = c.downcast_ref::<modelseal::Error>() {
            return Some(match m.kind() {
                modelseal::ErrorKind::Usage => ServeErrorKind::Usage,
                modelseal::ErrorKind::Io => ServeErrorKind::Io,
                modelseal::ErrorKind::WrongKey => ServeErrorKind::WrongKey,
                modelseal::ErrorKind::Integrity => ServeErrorKind::Integrity,
                modelseal::ErrorKind::Unsupported => ServeErrorKind::Unsupported,
                _ => ServeErrorKind::Failure,
            });
        }
        if c.downcast_ref::<std::io::Error>().is_some() {
            return Some(ServeErrorKind::Io);
        }
        cur = c.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_error_maps_to_its_status_code_and_outcome() {
        let cases = [
            (
                ApiError::bad_request("b"),
                400,
                tonic::Code::InvalidArgument,
                "bad_request",
            ),
            (
                ApiError::not_found("n"),
                404,
                tonic::Code::NotFound,
                "not_found",
            ),
            (
                ApiError::TooLarge("t".into()),
                413,
                tonic::Code::ResourceExhausted,
                "too_large",
            ),
            (
                ApiError::Unavailable("u".into()),
                503,
                tonic::Code::Unavailable,
                "unavailable",
            ),
            (
                ApiError::Internal("i".into()),
                500,
                tonic::Code::Internal,
                "error",
            ),
        ];
        for (e, http, grpc, outcome) in cases {
            assert_eq!(e.http_status(), http);
            assert_eq!(e.grpc_code(), grpc);
            assert_eq!(e.outcome(), outcome);
            let s: tonic::Status = e.clone().into();
            assert_eq!(s.code(), grpc);
            assert_eq!(s.message(), e.message());
        }
    }

    #[test]
    fn error_body_is_the_protocol_error_object() {
        let e = ApiError::bad_request("a \"quoted\" thing");
        let v: serde_json::Value = serde_json::from_str(&e.json_body()).unwrap();
        assert_eq!(v, serde_json::json!({"error": "a \"quoted\" thing"}));
    }

    #[test]
    fn start_up_errors_take_the_kind_of_the_modelseal_error_in_their_chain() {
        let wrong = modelseal::Error::WrongKey { path: "m".into() };
        let deploy = modelseal_deploy::Error::Open {
            dir: "m".into(),
            source: wrong,
        };
        let e = ServeError::with_source(ServeErrorKind::Failure, "model m", deploy);
        assert_eq!(e.kind(), ServeErrorKind::WrongKey);
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "busy");
        assert_eq!(
            ServeError::with_source(ServeErrorKind::Failure, "bind", io).kind(),
            ServeErrorKind::Io
        );
        let plain = modelseal_deploy::Error::Layout {
            dir: "m".into(),
            message: "no config".into(),
        };
        assert_eq!(
            ServeError::with_source(ServeErrorKind::Unsupported, "m", plain).kind(),
            ServeErrorKind::Unsupported
        );
    }
}
