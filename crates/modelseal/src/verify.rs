//! Verifying a sealed directory or file: every byte authenticated and hashed, nothing written.

use crate::error::{Error, Result};
use crate::fsutil::read_secret;
use crate::model_dir::{sniff, Storage};
use crate::policy::{OpenOptions, SealId};
use crate::sealed_dir::join;
use crate::v1;
use crate::v2::{self, OpenReader};
use ring::digest;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// One verified member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedMember {
    /// Logical name.
    pub name: String,
    /// Plaintext size.
    pub size: u64,
    /// SHA-256 of the plaintext, hex.
    pub sha256: String,
    /// Format of the member file.
    pub storage: Storage,
}

/// The outcome of [`verify`].
#[derive(Debug)]
pub struct VerifyReport {
    /// How the directory or file is stored.
    pub storage: Storage,
    /// The sealing id of a v2 directory or file.
    pub seal_id: Option<SealId>,
    /// One entry per member, in order, with its own outcome.
    pub members: Vec<(String, Result<VerifiedMember>)>,
}

impl VerifyReport {
    /// The first member failure, if any.
    pub fn first_error(&self) -> Option<&Error> {
        self.members.iter().find_map(|(_, r)| r.as_ref().err())
    }
}

/// Authenticates a sealed directory or file without writing plaintext anywhere: every chunk of
/// every member is decrypted, authenticated and hashed against the manifest. A directory is opened
/// under `opts` (the open policy: a key is required, PaddleX v1 only when allowed, a pinned
/// sealing id is checked); a single file may be v2 or PaddleX v1. Errors about the directory as a
/// whole (manifest, wrong key, missing or added members) are returned as `Err`; each member's own
/// outcome is an entry of the report.
///
/// ```
/// use modelseal::{verify, ErrorKind, Key, OpenOptions};
/// # use modelseal::{seal_dir, SealOptions};
/// # let tmp = tempfile::TempDir::new()?;
/// # let exported = tmp.path().join("exported");
/// # std::fs::create_dir(&exported)?;
/// # std::fs::write(exported.join("model.onnx"), b"onnx bytes")?;
/// # std::fs::write(exported.join("inference.yml"), b"Global: {}")?;
/// # let key = Key::generate()?;
/// # let sealed = tmp.path().join("sealed");
/// # let plain = OpenOptions::new().open(&exported)?;
/// # seal_dir(&key, &plain, &sealed, &SealOptions::default(), &|_| {})?;
/// let opts = OpenOptions::new().key(key);
/// let report = verify(&sealed, &opts)?;
/// assert!(report.first_error().is_none());
/// for (name, outcome) in &report.members {
///     if let Ok(m) = outcome {
///         println!("{name}: {} bytes, SHA-256 {}", m.size, m.sha256);
///     }
/// }
/// // A damaged member is reported on its own entry.
/// let member = sealed.join("model.onnx.sealed");
/// let mut bytes = std::fs::read(&member)?;
/// *bytes.last_mut().unwrap() ^= 1;
/// std::fs::write(&member, bytes)?;
/// let report = verify(&sealed, &opts)?;
/// assert_eq!(report.first_error().map(|e| e.kind()), Some(ErrorKind::Integrity));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify(path: &Path, opts: &OpenOptions) -> Result<VerifyReport> {
    let key = opts.key_ref().ok_or_else(|| Error::KeyRequired {
        path: path.to_path_buf(),
    })?;
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        let storage = sniff(path)?;
        let outcome = match storage {
            Storage::SealedV2 => {
                let f = File::open(path).map_err(|e| Error::io(path, e))?;
                OpenReader::new(key, std::io::BufReader::with_capacity(1 << 20, f), path)
                    .and_then(|mut r| hash_stream(&mut r, path))
            }
            Storage::PaddleV1 => {
                v1::open(key, &read_secret(path)?, path).map(|p| (p.len() as u64, sha256_hex(&p)))
            }
            Storage::Plain => {
                return Err(Error::not_sealed(path, "no modelseal or PaddleX header"))
            }
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let seal_id = if storage == Storage::SealedV2 {
            let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
            Some(SealId::from_bytes(v2::read_header(&mut f, path)?.seal_id))
        } else {
            None
        };
        return Ok(VerifyReport {
            storage,
            seal_id,
            members: vec![(
                name.clone(),
                outcome.map(|(size, sha256)| VerifiedMember {
                    name,
                    size,
                    sha256,
                    storage,
                }),
            )],
        });
    }
    let dir = opts.open(path)?;
    let mut report = Vec::new();
    if let Some(d) = dir.as_sealed() {
        for m in d.members() {
            let mpath = join(path, &m.file);
            let outcome = d
                .stream(&m.name)
                .and_then(|mut r| hash_stream(&mut r, &mpath))
                .and_then(|(size, sha)| {
                    if size != m.size || sha != m.sha256 {
                        Err(Error::DigestMismatch {
                            path: mpath.clone(),
                        })
                    } else {
                        Ok(VerifiedMember {
                            name: m.name.clone(),
                            size,
                            sha256: sha,
                            storage: Storage::SealedV2,
                        })
                    }
                });
            report.push((m.name.clone(), outcome));
        }
    } else if let Some(files) = dir.v1_files() {
        for (name, (_, encrypted)) in files {
            let outcome = dir.read(name).map(|p| VerifiedMember {
                name: name.clone(),
                size: p.len() as u64,
                sha256: sha256_hex(&p),
                storage: if *encrypted {
                    Storage::PaddleV1
                } else {
                    Storage::Plain
                },
            });
            report.push((name.clone(), outcome));
        }
    } else {
        return Err(Error::not_sealed(path, "a plain directory"));
    }
    Ok(VerifyReport {
        storage: dir.storage(),
        seal_id: dir.seal_id(),
        members: report,
    })
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

fn hash_stream(r: &mut dyn Read, path: &Path) -> Result<(u64, String)> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    let mut buf = crate::secret::Secret::zeroed(1 << 16);
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf).map_err(|e| v2::reader_error(e, path))?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex::encode(ctx.finish())))
}
