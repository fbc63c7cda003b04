//! Typed errors of the modelseal library.
//! Every variant names the file it is about, and `Error::kind` sorts them into the classes the tools map to exit codes.

use std::path::{Path, PathBuf};

/// The broad class of an [`Error`], stable across versions; the command-line tools map it to exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller asked for something impossible (bad key string, output exists, output inside input...).
    Usage,
    /// Reading or writing a file failed.
    Io,
    /// The key does not open this data.
    WrongKey,
    /// The data was changed, truncated, extended, swapped or mixed with another sealing.
    Integrity,
    /// Not sealed data, or a format version this build does not read.
    Unsupported,
}

/// An error of the modelseal library.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation on `path` failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A key string that is not base64 of exactly 32 bytes.
    #[error("invalid key{}: {reason}", origin_suffix(origin))]
    BadKey {
        origin: Option<String>,
        reason: String,
    },
    /// The data is sealed (or, in a directory, this file starts with a modelseal or PaddleX
    /// header) and no key was given.
    #[error("{}: sealed (a modelseal or PaddleX header); a key is required to open it", path.display())]
    KeyRequired { path: PathBuf },
    /// A request that cannot be carried out as asked (the reason says why).
    #[error("{}: {reason}", path.display())]
    Usage { path: PathBuf, reason: String },
    /// Not sealed: a file without a modelseal or PaddleX header, or (with a key) a directory that
    /// is not a sealing, or a PaddleX v1 directory whose model, params or config file is plain.
    #[error("{}: not sealed: {reason}", path.display())]
    NotSealed { path: PathBuf, reason: String },
    /// A PaddleX v1 directory, opened without allowing PaddleX v1 explicitly.
    #[error("{}: a PaddleX v1 directory (one AES-GCM nonce per key, no manifest binding its files) is opened only when PaddleX v1 is allowed explicitly; re-seal it as format v2 to drop the weakness", dir.display())]
    PaddleV1NotAllowed { dir: PathBuf },
    /// The sealing is not the one the caller pinned.
    #[error("{}: sealing {found} is not the expected sealing {expected} (an older or another sealing under the same key)", dir.display())]
    SealIdMismatch {
        dir: PathBuf,
        expected: String,
        found: String,
    },
    /// The output directory exists and holds an earlier sealing, which is replaced only on request.
    #[error("{}: exists and holds an earlier sealing; it is replaced only when replacing is asked for", path.display())]
    OutputExists { path: PathBuf },
    /// A symbolic link in a model directory resolves outside it.
    #[error("{}: symbolic link to {} resolves outside the model directory; it is not followed unless following links is allowed", link.display(), target.display())]
    SymlinkOutside { link: PathBuf, target: PathBuf },
    /// A modelseal header with a version this build does not read.
    #[error("{}: unsupported sealed format version {version} (this build reads version 2 and PaddleX version 1)", path.display())]
    UnsupportedVersion { path: PathBuf, version: u8 },
    /// The key commitment in the header does not match the key: the key is wrong.
    #[error("{}: wrong key (the key does not match the one this file was sealed with)", path.display())]
    WrongKey { path: PathBuf },
    /// The header is malformed or its authentication tag does not verify.
    #[error("{}: corrupted or tampered header: {reason}", path.display())]
    HeaderCorrupted { path: PathBuf, reason: String },
    /// A payload chunk failed authentication.
    #[error("{}: corrupted or tampered data in chunk {chunk} of {chunks}", path.display())]
    ChunkCorrupted {
        path: PathBuf,
        chunk: u64,
        chunks: u64,
    },
    /// The file is shorter than its header says.
    #[error("{}: truncated: {actual} bytes, the header requires {expected}", path.display())]
    Truncated {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    /// The file is longer than its header says.
    #[error("{}: {actual} bytes where the header requires {expected}: data was appended", path.display())]
    Extended {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    /// A member listed in the manifest is absent.
    #[error("{}: member '{name}' listed in the manifest is missing", dir.display())]
    MemberMissing { dir: PathBuf, name: String },
    /// A file is present that the manifest does not list.
    #[error("{}: '{name}' is not listed in the manifest (a member was added)", dir.display())]
    MemberAdded { dir: PathBuf, name: String },
    /// A member file carries another member's data (files swapped or renamed).
    #[error("{}: holds member '{found}' where '{expected}' belongs (members swapped or renamed)", path.display())]
    MemberSwapped {
        path: PathBuf,
        expected: String,
        found: String,
    },
    /// A member file comes from another sealing of the directory, or was replaced.
    #[error("{}: member does not belong to this sealing (taken from another sealed directory or replaced)", path.display())]
    ForeignMember { path: PathBuf },
    /// The manifest is missing or unreadable.
    #[error("{}: manifest: {reason}", path.display())]
    Manifest { path: PathBuf, reason: String },
    /// The plaintext digest recorded in the manifest does not match.
    #[error("{}: plaintext digest does not match the manifest", path.display())]
    DigestMismatch { path: PathBuf },
    /// The source changed while it was being sealed.
    #[error("{}: the file changed while it was being sealed ({reason})", path.display())]
    SourceChanged { path: PathBuf, reason: String },
    /// The operating system's random generator failed.
    #[error("the operating system's random number generator failed")]
    Random,
}

fn origin_suffix(origin: &Option<String>) -> String {
    origin
        .as_ref()
        .map(|o| format!(" from {o}"))
        .unwrap_or_default()
}

impl Error {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } | Error::Random => ErrorKind::Io,
            Error::BadKey { .. } | Error::KeyRequired { .. } | Error::Usage { .. } => {
                ErrorKind::Usage
            }
            Error::SymlinkOutside { .. } | Error::OutputExists { .. } => ErrorKind::Usage,
            Error::NotSealed { .. }
            | Error::UnsupportedVersion { .. }
            | Error::PaddleV1NotAllowed { .. } => ErrorKind::Unsupported,
            Error::WrongKey { .. } => ErrorKind::WrongKey,
            Error::HeaderCorrupted { .. }
            | Error::ChunkCorrupted { .. }
            | Error::Truncated { .. }
            | Error::Extended { .. }
            | Error::MemberMissing { .. }
            | Error::MemberAdded { .. }
            | Error::MemberSwapped { .. }
            | Error::ForeignMember { .. }
            | Error::Manifest { .. }
            | Error::DigestMismatch { .. }
            | Error::SourceChanged { .. }
            | Error::SealIdMismatch { .. } => ErrorKind::Integrity,
        }
    }

    /// A stable snake_case name of the variant (used in test vectors, JSON output and the C ABI).
    pub fn name(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::BadKey { .. } => "bad_key",
            Error::KeyRequired { .. } => "key_required",
            Error::Usage { .. } => "usage",
            Error::NotSealed { .. } => "not_sealed",
            Error::PaddleV1NotAllowed { .. } => "paddlex_v1_not_allowed",
            Error::SealIdMismatch { .. } => "seal_id_mismatch",
            Error::SymlinkOutside { .. } => "symlink_outside",
            Error::OutputExists { .. } => "output_exists",
            Error::UnsupportedVersion { .. } => "unsupported_version",
            Error::WrongKey { .. } => "wrong_key",
            Error::HeaderCorrupted { .. } => "header_corrupted",
            Error::ChunkCorrupted { .. } => "chunk_corrupted",
            Error::Truncated { .. } => "truncated",
            Error::Extended { .. } => "extended",
            Error::MemberMissing { .. } => "member_missing",
            Error::MemberAdded { .. } => "member_added",
            Error::MemberSwapped { .. } => "member_swapped",
            Error::ForeignMember { .. } => "foreign_member",
            Error::Manifest { .. } => "manifest",
            Error::DigestMismatch { .. } => "digest_mismatch",
            Error::SourceChanged { .. } => "source_changed",
            Error::Random => "random",
        }
    }

    pub(crate) fn io(path: impl AsRef<Path>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    pub(crate) fn not_sealed(path: impl AsRef<Path>, reason: impl Into<String>) -> Error {
        Error::NotSealed {
            path: path.as_ref().to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn usage(path: impl AsRef<Path>, reason: impl Into<String>) -> Error {
        Error::Usage {
            path: path.as_ref().to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// Result alias of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
