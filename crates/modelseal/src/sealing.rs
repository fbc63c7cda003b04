//! Sealing a model directory: every member streamed into format v2 (or PaddleX v1 for old
//! loaders) in a hidden temporary directory, then the manifest, then one atomic rename.

use crate::error::{Error, Result};
use crate::fsutil::{read_up_to, OutputDir};
use crate::key::Key;
use crate::manifest::{
    check_member_name, Manifest, MemberEntry, Role, MANIFEST_FORMAT, MANIFEST_NAME, SEALED_SUFFIX,
    V1_SUFFIX,
};
use crate::model_dir::ModelDir;
use crate::secret::Secret;
use crate::v1;
use crate::v2::{self, Header, Kind, SealParams};
use ring::digest;
use std::io::Read;
use std::path::Path;
use zeroize::Zeroizing;

/// Output format of a sealing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// modelseal format v2 (default).
    V2,
    /// PaddleX format v1 for old loaders (one nonce per key: weak).
    PaddleV1,
}

/// Options of [`seal_dir`].
#[derive(Clone, Copy, Debug)]
pub struct SealOptions {
    /// Output format.
    pub format: OutputFormat,
    /// Chunk size exponent of v2 files.
    pub chunk_log2: u8,
    /// Replace an existing non-empty output directory.
    pub force: bool,
}

impl Default for SealOptions {
    fn default() -> Self {
        SealOptions {
            format: OutputFormat::V2,
            chunk_log2: v2::DEFAULT_CHUNK_LOG2,
            force: false,
        }
    }
}

/// A member written by [`seal_dir`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedMember {
    /// Logical name.
    pub name: String,
    /// Output file, relative to the output directory.
    pub file: String,
    /// Role.
    pub role: Role,
    /// Plaintext size.
    pub size: u64,
    /// False for files a v1 sealing copies unencrypted (PaddleX copies files other than model, params and config).
    pub encrypted: bool,
}

/// Seals every member of `src` (opened plain, or sealed for re-keying) into a new directory `dst`
/// under `key`. The output appears atomically; `progress` receives plaintext byte counts.
///
/// ```
/// use modelseal::{seal_dir, Key, OpenOptions, SealOptions};
/// # let tmp = tempfile::TempDir::new()?;
/// # let exported = tmp.path().join("exported");
/// # std::fs::create_dir(&exported)?;
/// # std::fs::write(exported.join("model.onnx"), b"onnx bytes")?;
/// # std::fs::write(exported.join("inference.yml"), b"Global: {}")?;
/// let key = Key::generate()?;
/// let plain = OpenOptions::new().open(&exported)?;
/// let sealed = tmp.path().join("sealed");
/// let written = seal_dir(&key, &plain, &sealed, &SealOptions::default(), &|_bytes| {})?;
/// let files: Vec<&str> = written.iter().map(|m| m.file.as_str()).collect();
/// assert_eq!(files, ["inference.yml.sealed", "model.onnx.sealed"]);
/// // Re-keying: the sealing, opened with its key, is sealed again under a new key.
/// let new_key = Key::generate()?;
/// let opened = OpenOptions::new().key(key).open(&sealed)?;
/// let rekeyed = tmp.path().join("rekeyed");
/// seal_dir(&new_key, &opened, &rekeyed, &SealOptions::default(), &|_| {})?;
/// let dir = OpenOptions::new().key(new_key).open(&rekeyed)?;
/// assert_eq!(&*dir.read("model.onnx")?, b"onnx bytes");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn seal_dir(
    key: &Key,
    src: &ModelDir,
    dst: &Path,
    opts: &SealOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<SealedMember>> {
    if src.root() == Path::new("<memory>") {
        return Err(Error::usage(
            dst,
            "a directory opened from memory cannot be re-sealed to disk",
        ));
    }
    let names = member_names(src)?;
    // A plain file of an earlier PaddleX v1 output counts as part of that sealing only when it is
    // a copy of the member of its name being sealed now.
    let is_copy = |name: &str, path: &Path| same_as_member(src, name, path);
    let out = OutputDir::prepare(src.root(), dst, opts.force, &is_copy)?;
    let mut written = Vec::new();
    match opts.format {
        OutputFormat::V2 => {
            let seal_id = v2::random_id()?;
            let mut entries = Vec::new();
            for name in &names {
                let src_path = src
                    .member_path(name)
                    .unwrap_or_else(|| src.root().join(name));
                let (size, reader) = src.stream(name)?;
                let mut hashing = HashingReader {
                    inner: reader,
                    ctx: digest::Context::new(&digest::SHA256),
                };
                let file = format!("{name}{SEALED_SUFFIX}");
                let params = SealParams {
                    kind: Kind::Member,
                    name: name.clone(),
                    seal_id,
                    chunk_log2: opts.chunk_log2,
                };
                let mut header: Option<Header> = None;
                out.write_file(&file, &mut |w| {
                    header = Some(v2::seal_stream(
                        key,
                        &params,
                        size,
                        &mut hashing,
                        w,
                        &src_path,
                        progress,
                    )?);
                    Ok(())
                })
                .map_err(|e| reader_err(e, &src_path))?;
                let header = header.expect("written");
                let role = Role::of(name);
                entries.push(MemberEntry {
                    name: name.clone(),
                    file: file.clone(),
                    role,
                    size,
                    sha256: hex::encode(hashing.ctx.finish()),
                    header_mac: hex::encode(header.mac),
                });
                written.push(SealedMember {
                    name: name.clone(),
                    file,
                    role,
                    size,
                    encrypted: true,
                });
            }
            let manifest = Manifest {
                format: MANIFEST_FORMAT.into(),
                version: 2,
                seal_id: hex::encode(seal_id),
                members: entries,
            };
            let json = Secret::new(serde_json::to_vec_pretty(&manifest).expect("serialisable"));
            let params = SealParams {
                kind: Kind::Manifest,
                name: MANIFEST_NAME.into(),
                seal_id,
                chunk_log2: opts.chunk_log2,
            };
            out.write_file(MANIFEST_NAME, &mut |w| {
                let mut input: &[u8] = &json;
                v2::seal_stream(
                    key,
                    &params,
                    json.len() as u64,
                    &mut input,
                    w,
                    Path::new(MANIFEST_NAME),
                    &|_| {},
                )?;
                Ok(())
            })?;
        }
        OutputFormat::PaddleV1 => {
            for name in &names {
                let role = Role::of(name);
                let data = src.read(name)?;
                let encrypted = matches!(role, Role::Model | Role::Params | Role::Config);
                let file = if encrypted {
                    format!("{name}{V1_SUFFIX}")
                } else {
                    name.clone()
                };
                let bytes = if encrypted {
                    Secret::new(v1::seal(key, &data)?)
                } else {
                    data.clone()
                };
                out.write_file(&file, &mut |w| {
                    w.write_all(&bytes).map_err(|e| Error::io(&file, e))
                })?;
                progress(data.len() as u64);
                written.push(SealedMember {
                    name: name.clone(),
                    file,
                    role,
                    size: data.len() as u64,
                    encrypted,
                });
            }
        }
    }
    out.commit(&is_copy)?;
    Ok(written)
}

/// Writes the members of a plain directory (typically one held in memory, such as a
/// conversion's output) as plain files into the new directory `dst`, atomically, with the same
/// output rules as [`seal_dir`]: never inside its origin, never through a link, never over
/// anything but an empty directory. A sealed source is refused: plaintext of a sealed model is
/// written only by an explicit decryption.
///
/// ```
/// use modelseal::{write_plain_dir, ModelDir, Secret};
/// # let tmp = tempfile::TempDir::new()?;
/// # let origin = tmp.path().join("paddle-model");
/// # std::fs::create_dir(&origin)?;
/// // A conversion's output, held in memory.
/// let converted = ModelDir::from_members(
///     &origin,
///     vec![
///         ("model.onnx".to_string(), Secret::from_slice(b"onnx bytes")),
///         ("inference.yml".to_string(), Secret::from_slice(b"Global: {}")),
///     ],
/// )?;
/// let out = tmp.path().join("onnx-model");
/// assert_eq!(write_plain_dir(&converted, &out)?, ["inference.yml", "model.onnx"]);
/// assert_eq!(std::fs::read(out.join("model.onnx"))?, b"onnx bytes");
/// // Never over an existing directory, never inside the origin.
/// assert!(write_plain_dir(&converted, &out).is_err());
/// assert!(write_plain_dir(&converted, &origin.join("out")).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_plain_dir(src: &ModelDir, dst: &Path) -> Result<Vec<String>> {
    if src.is_sealed() {
        return Err(Error::usage(
            src.root(),
            "is sealed; its members are only written sealed",
        ));
    }
    let names = member_names(src)?;
    let never = |_: &str, _: &Path| false;
    let out = OutputDir::prepare(src.root(), dst, false, &never)?;
    for name in &names {
        let (_, mut reader) = src.stream(name)?;
        out.write_file(name, &mut |w| {
            std::io::copy(&mut reader, w)
                .map(|_| ())
                .map_err(|e| Error::io(dst.join(name), e))
        })?;
    }
    out.commit(&never)?;
    Ok(names)
}

/// The member names of `src` to write, each under the member-name rule; a directory with no
/// member is refused.
fn member_names(src: &ModelDir) -> Result<Vec<String>> {
    let names = src.names();
    if names.is_empty() {
        return Err(Error::usage(
            src.root(),
            "the model directory holds no files",
        ));
    }
    for name in &names {
        let at = src
            .member_path(name)
            .unwrap_or_else(|| src.root().join(name));
        check_member_name(name, &at)?;
    }
    Ok(names)
}

/// Whether the file at `path` holds exactly the bytes of member `name` of `src` (decrypted in
/// memory when `src` is sealed), compared a block at a time in wiped buffers.
fn same_as_member(src: &ModelDir, name: &str, path: &Path) -> bool {
    let Ok(len) = std::fs::metadata(path).map(|m| m.len()) else {
        return false;
    };
    // The cheap test first: a size known without decrypting.
    if src.size(name).is_some_and(|size| size != len) {
        return false;
    }
    let Ok((size, mut member)) = src.stream(name) else {
        return false;
    };
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    if size != len {
        return false;
    }
    let mut a = Zeroizing::new(vec![0u8; 1 << 16]);
    let mut b = Zeroizing::new(vec![0u8; 1 << 16]);
    loop {
        let (Ok(n), Ok(m)) = (
            read_up_to(&mut member, &mut a),
            read_up_to(&mut file, &mut b),
        ) else {
            return false;
        };
        if n != m || a[..n] != b[..m] {
            return false;
        }
        if n < a.len() {
            return true;
        }
    }
}

fn reader_err(e: Error, path: &Path) -> Error {
    match e {
        Error::Io { source, .. } if source.get_ref().is_some_and(|i| i.is::<Error>()) => {
            v2::reader_error(source, path)
        }
        other => other,
    }
}

struct HashingReader<R> {
    inner: R,
    ctx: digest::Context,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.ctx.update(&buf[..n]);
        Ok(n)
    }
}
