//! Model directories: plain, sealed v2 (members bound by a sealed manifest) and PaddleX v1.
//! Sealing a directory, opening it in memory, verifying and inspecting it.

use crate::error::{Error, Result};
use crate::fsutil::{list_files, read_prefix, read_secret, OutputDir, SourceFile};
use crate::key::Key;
use crate::secret::Secret;
use crate::v1;
use crate::v2::{self, Header, Kind, OpenReader, SealParams};
use ring::digest;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// File name of the sealed manifest in a v2 directory.
pub const MANIFEST_NAME: &str = "modelseal.manifest";
/// Suffix of sealed member files in a v2 directory.
pub const SEALED_SUFFIX: &str = ".sealed";
/// Suffix of encrypted files in a PaddleX v1 directory.
pub const V1_SUFFIX: &str = ".encrypted";

/// What a member is for, recorded in the manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Network structure (`*.onnx`, `__model__`, `*.pdmodel`, `inference.json`).
    Model,
    /// Weights (`__params__`, `*.pdiparams`).
    Params,
    /// Configuration (`*.yml`, `*.yaml`).
    Config,
    /// Label lists (`*.txt`, `*labels*`).
    Labels,
    /// Anything else.
    Other,
}

impl Role {
    /// The role a file name suggests.
    pub fn of(name: &str) -> Role {
        let base = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
        let ext = base.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        if base == "__model__" || base == "inference.json" || matches!(ext, "onnx" | "pdmodel") {
            Role::Model
        } else if base == "__params__" || matches!(ext, "pdiparams" | "pdparams" | "params") {
            Role::Params
        } else if matches!(ext, "yml" | "yaml") {
            Role::Config
        } else if ext == "txt" || base.contains("label") {
            Role::Labels
        } else {
            Role::Other
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Model => "model",
            Role::Params => "params",
            Role::Config => "config",
            Role::Labels => "labels",
            Role::Other => "other",
        }
    }
}

/// One member as recorded in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberEntry {
    /// Logical name ('/'-separated path of the original file).
    pub name: String,
    /// Sealed file, relative to the sealed directory.
    pub file: String,
    /// What the member is for.
    pub role: Role,
    /// Plaintext size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext, lower-case hex.
    pub sha256: String,
    /// Header MAC of the sealed member file, lower-case hex: binds this exact file.
    pub header_mac: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    format: String,
    version: u32,
    seal_id: String,
    members: Vec<MemberEntry>,
}

const MANIFEST_FORMAT: &str = "modelseal-manifest";

/// A member name is a relative '/'-separated path with no empty, `.` or `..` components.
fn valid_member_name(name: &str) -> bool {
    let drive_letter = name.len() >= 2 && name.as_bytes()[1] == b':';
    let bad_char = name.contains('\\') || name.contains('\0');
    let components_ok = name
        .split('/')
        .all(|c| !c.is_empty() && c != "." && c != "..");
    !name.is_empty()
        && name.len() <= v2::MAX_NAME_LEN
        && !bad_char
        && !drive_letter
        && components_ok
}

/// Parses and validates the plaintext of a manifest: its sealing id and members. Member names must
/// be safe relative paths, each `file` must be its name plus [`SEALED_SUFFIX`], and names must be unique.
pub fn parse_manifest(plain: &[u8]) -> std::result::Result<([u8; 16], Vec<MemberEntry>), String> {
    let m: Manifest = serde_json::from_slice(plain).map_err(|e| format!("does not parse: {e}"))?;
    if m.format != MANIFEST_FORMAT || m.version != 2 {
        return Err(format!(
            "format '{}' version {} is not a modelseal v2 manifest",
            m.format, m.version
        ));
    }
    let mut seal_id = [0u8; 16];
    hex::decode_to_slice(&m.seal_id, &mut seal_id)
        .map_err(|_| "sealing id is not 32 hex digits".to_string())?;
    let mut seen = BTreeSet::new();
    for e in &m.members {
        if !valid_member_name(&e.name) || e.name == MANIFEST_NAME {
            return Err(format!(
                "member name {:?} is not a safe relative path",
                e.name
            ));
        }
        if e.file != format!("{}{SEALED_SUFFIX}", e.name) {
            return Err(format!("member {:?} points at file {:?}", e.name, e.file));
        }
        if !seen.insert(e.name.as_str()) {
            return Err(format!("member {:?} is listed twice", e.name));
        }
        if e.sha256.len() != 64 || e.header_mac.len() != 64 {
            return Err(format!("member {:?} has a malformed digest", e.name));
        }
    }
    Ok((seal_id, m.members))
}

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

/// How a directory or file is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// Not sealed.
    Plain,
    /// modelseal format v2.
    SealedV2,
    /// PaddleX / FastDeploy format v1.
    PaddleV1,
}

/// A sealed v2 directory opened with its key: the manifest is authenticated and every member file's
/// header was checked against it (names, sealing, exact file), but no member payload is decrypted yet.
pub struct SealedDir {
    root: PathBuf,
    store: Store,
    key: Key,
    seal_id: [u8; 16],
    members: Vec<MemberEntry>,
}

/// Where the sealed files are: a directory on disk, or file images in memory.
enum Store {
    Fs,
    Mem(BTreeMap<String, std::sync::Arc<[u8]>>),
}

fn join(root: &Path, rel: &str) -> PathBuf {
    rel.split('/').fold(root.to_path_buf(), |p, c| p.join(c))
}

impl SealedDir {
    /// Opens `root`, authenticating the manifest and checking the set of member files against it.
    pub fn open(root: &Path, key: &Key) -> Result<SealedDir> {
        let present = list_files(root)?.into_iter().map(|f| f.name).collect();
        Self::open_store(root.to_path_buf(), Store::Fs, present, key)
    }

    /// Opens a sealed directory whose files are given in memory as (path relative to the directory, bytes),
    /// e.g. unpacked from an archive or received over a network. The same checks apply as on disk.
    pub fn from_memory(files: Vec<(String, Vec<u8>)>, key: &Key) -> Result<SealedDir> {
        let map: BTreeMap<String, std::sync::Arc<[u8]>> =
            files.into_iter().map(|(n, b)| (n, b.into())).collect();
        let present = map.keys().cloned().collect();
        Self::open_store(PathBuf::from("<memory>"), Store::Mem(map), present, key)
    }

    fn open_store(
        root: PathBuf,
        store: Store,
        present: BTreeSet<String>,
        key: &Key,
    ) -> Result<SealedDir> {
        let manifest_path = root.join(MANIFEST_NAME);
        if !present.contains(MANIFEST_NAME) {
            return Err(Error::Manifest {
                path: manifest_path,
                reason: "missing".into(),
            });
        }
        let mut dir = SealedDir {
            root,
            store,
            key: key.clone(),
            seal_id: [0; 16],
            members: Vec::new(),
        };
        let v = dir.verified_header(MANIFEST_NAME)?;
        let (header, plain) = dir.open_verified(&v, MANIFEST_NAME)?;
        if header.kind != Kind::Manifest || header.name != MANIFEST_NAME {
            return Err(Error::MemberSwapped {
                path: manifest_path,
                expected: MANIFEST_NAME.into(),
                found: header.name,
            });
        }
        let (seal_id, members) = parse_manifest(&plain).map_err(|reason| Error::Manifest {
            path: manifest_path.clone(),
            reason,
        })?;
        if seal_id != header.seal_id {
            return Err(Error::Manifest {
                path: manifest_path,
                reason: "sealing id does not match its header".into(),
            });
        }
        dir.seal_id = seal_id;
        dir.members = members;
        let listed: BTreeSet<&str> = dir.members.iter().map(|m| m.file.as_str()).collect();
        if let Some(extra) = present
            .iter()
            .find(|f| *f != MANIFEST_NAME && !listed.contains(f.as_str()))
        {
            return Err(Error::MemberAdded {
                dir: dir.root.clone(),
                name: extra.clone(),
            });
        }
        for m in &dir.members {
            if !present.contains(&m.file) {
                return Err(Error::MemberMissing {
                    dir: dir.root.clone(),
                    name: m.name.clone(),
                });
            }
            dir.check_member(m)?;
        }
        Ok(dir)
    }

    fn path_of(&self, file: &str) -> PathBuf {
        join(&self.root, file)
    }

    /// Reads and verifies the header of sealed file `file` (relative to the directory).
    fn verified_header(&self, file: &str) -> Result<v2::Verified> {
        let path = self.path_of(file);
        let (header, actual) = match &self.store {
            Store::Fs => {
                let mut f = File::open(&path).map_err(|e| Error::io(&path, e))?;
                let len = f.metadata().map_err(|e| Error::io(&path, e))?.len();
                (v2::read_header(&mut f, &path)?, len)
            }
            Store::Mem(map) => {
                let data = map
                    .get(file)
                    .ok_or_else(|| Error::io(&path, std::io::ErrorKind::NotFound.into()))?;
                let len = data.len() as u64;
                (
                    v2::parse_header(data).map_err(|e| e.into_error(&path, len))?,
                    len,
                )
            }
        };
        let v = v2::verify_header(&self.key, header, &path)?;
        // A truncated or extended file is refused when the directory is opened, not only when read.
        v2::check_length(v.header(), actual, &path)?;
        Ok(v)
    }

    /// Decrypts the payload of `file` whose header `v` was verified.
    fn open_verified(&self, v: &v2::Verified, file: &str) -> Result<(Header, Secret)> {
        let path = self.path_of(file);
        match &self.store {
            Store::Fs => {
                let f = File::open(&path).map_err(|e| Error::io(&path, e))?;
                v2::open_verified_file(v, &f, &path)
            }
            Store::Mem(map) => {
                let data = map
                    .get(file)
                    .ok_or_else(|| Error::io(&path, std::io::ErrorKind::NotFound.into()))?;
                v2::open_verified_bytes(v, data, &path)
            }
        }
    }

    /// Verifies member `m`'s header against the key and the manifest.
    fn check_member(&self, m: &MemberEntry) -> Result<v2::Verified> {
        let path = self.path_of(&m.file);
        let v = self.verified_header(&m.file)?;
        let h = v.header();
        if h.seal_id != self.seal_id {
            return Err(Error::ForeignMember { path });
        }
        if h.kind != Kind::Member || h.name != m.name {
            return Err(Error::MemberSwapped {
                path,
                expected: m.name.clone(),
                found: h.name.clone(),
            });
        }
        if hex::encode(h.mac) != m.header_mac || h.plaintext_len != m.size {
            return Err(Error::ForeignMember { path });
        }
        Ok(v)
    }

    /// The members, in manifest order.
    pub fn members(&self) -> &[MemberEntry] {
        &self.members
    }

    fn entry(&self, name: &str) -> Result<&MemberEntry> {
        self.members
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| Error::MemberMissing {
                dir: self.root.clone(),
                name: name.to_string(),
            })
    }

    /// Decrypts member `name` into zeroize-on-drop memory (all or nothing).
    pub fn read(&self, name: &str) -> Result<Secret> {
        let m = self.entry(name)?;
        let v = self.check_member(m)?;
        Ok(self.open_verified(&v, &m.file)?.1)
    }

    /// A streaming reader over member `name`; each chunk is authenticated before it is returned.
    pub fn stream(&self, name: &str) -> Result<OpenReader<Box<dyn Read + Send>>> {
        let m = self.entry(name)?;
        let v = self.check_member(m)?;
        let path = self.path_of(&m.file);
        let inner: Box<dyn Read + Send> = match &self.store {
            Store::Fs => {
                let mut f = File::open(&path).map_err(|e| Error::io(&path, e))?;
                std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(v.header().len() as u64))
                    .map_err(|e| Error::io(&path, e))?;
                Box::new(std::io::BufReader::with_capacity(1 << 20, f))
            }
            Store::Mem(map) => {
                let data = map[&m.file].clone();
                let mut c = std::io::Cursor::new(data);
                c.set_position(v.header().len() as u64);
                Box::new(c)
            }
        };
        Ok(OpenReader::from_verified(v, inner, &path))
    }
}

/// A model directory opened for reading, whatever its storage: the deployment side asks it for
/// member bytes by logical name and never sees the format.
pub struct ModelDir {
    root: PathBuf,
    inner: Inner,
}

enum Inner {
    Plain(BTreeMap<String, PathBuf>),
    Sealed(SealedDir),
    PaddleV1 {
        key: Key,
        files: BTreeMap<String, (PathBuf, bool)>,
    },
}

fn sniff(path: &Path) -> Result<Storage> {
    let prefix = read_prefix(path, 8)?;
    Ok(if prefix.starts_with(v2::MAGIC) {
        Storage::SealedV2
    } else if v1::looks_like_v1(&prefix) {
        Storage::PaddleV1
    } else {
        Storage::Plain
    })
}

impl ModelDir {
    /// Opens a plain directory, a sealed v2 directory, or a PaddleX v1 directory (`*.encrypted`).
    /// Sealed directories need `key`; [`Error::KeyRequired`] otherwise.
    pub fn open(root: &Path, key: Option<&Key>) -> Result<ModelDir> {
        let need_key = || Error::KeyRequired {
            path: root.to_path_buf(),
        };
        if root.join(MANIFEST_NAME).exists() {
            let key = key.ok_or_else(need_key)?;
            return Ok(ModelDir {
                root: root.to_path_buf(),
                inner: Inner::Sealed(SealedDir::open(root, key)?),
            });
        }
        let files = list_files(root)?;
        let mut v1_files = BTreeMap::new();
        let mut any_v1 = false;
        for f in &files {
            match sniff(&f.path)? {
                Storage::SealedV2 => {
                    return Err(Error::Manifest {
                        path: root.join(MANIFEST_NAME),
                        reason: "missing, but the directory holds sealed members".into(),
                    })
                }
                Storage::PaddleV1 => {
                    any_v1 = true;
                    let name = f
                        .name
                        .strip_suffix(V1_SUFFIX)
                        .unwrap_or(&f.name)
                        .to_string();
                    v1_files.insert(name, (f.path.clone(), true));
                }
                Storage::Plain => {
                    v1_files.insert(f.name.clone(), (f.path.clone(), false));
                }
            }
        }
        let inner = if any_v1 {
            Inner::PaddleV1 {
                key: key.ok_or_else(need_key)?.clone(),
                files: v1_files,
            }
        } else {
            Inner::Plain(files.into_iter().map(|f| (f.name, f.path)).collect())
        };
        Ok(ModelDir {
            root: root.to_path_buf(),
            inner,
        })
    }

    /// Opens a sealed v2 directory whose files are held in memory (see [`SealedDir::from_memory`]).
    pub fn from_memory(files: Vec<(String, Vec<u8>)>, key: &Key) -> Result<ModelDir> {
        let dir = SealedDir::from_memory(files, key)?;
        Ok(ModelDir {
            root: dir.root.clone(),
            inner: Inner::Sealed(dir),
        })
    }

    /// The directory this was opened from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How the directory is stored.
    pub fn storage(&self) -> Storage {
        match self.inner {
            Inner::Plain(_) => Storage::Plain,
            Inner::Sealed(_) => Storage::SealedV2,
            Inner::PaddleV1 { .. } => Storage::PaddleV1,
        }
    }

    /// True for sealed directories (v2 or v1).
    pub fn is_sealed(&self) -> bool {
        self.storage() != Storage::Plain
    }

    /// Logical member names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = match &self.inner {
            Inner::Plain(m) => m.keys().cloned().collect(),
            Inner::Sealed(d) => d.members.iter().map(|m| m.name.clone()).collect(),
            Inner::PaddleV1 { files, .. } => files.keys().cloned().collect(),
        };
        names.sort();
        names
    }

    /// Plaintext size of member `name`, when known without decrypting.
    pub fn size(&self, name: &str) -> Option<u64> {
        match &self.inner {
            Inner::Plain(m) => m
                .get(name)
                .and_then(|p| std::fs::metadata(p).ok())
                .map(|m| m.len()),
            Inner::Sealed(d) => d.entry(name).ok().map(|m| m.size),
            Inner::PaddleV1 { files, .. } => files.get(name).and_then(|(p, enc)| {
                let len = std::fs::metadata(p).ok()?.len();
                if *enc {
                    len.checked_sub((v1::HEADER_LEN + v1::TAG_LEN) as u64)
                } else {
                    Some(len)
                }
            }),
        }
    }

    /// The bytes of member `name` in zeroize-on-drop memory (decrypted and authenticated when sealed).
    pub fn read(&self, name: &str) -> Result<Secret> {
        let missing = || Error::MemberMissing {
            dir: self.root.clone(),
            name: name.to_string(),
        };
        match &self.inner {
            Inner::Plain(m) => read_secret(m.get(name).ok_or_else(missing)?),
            Inner::Sealed(d) => d.read(name),
            Inner::PaddleV1 { key, files } => {
                let (path, encrypted) = files.get(name).ok_or_else(missing)?;
                let data = read_secret(path)?;
                if *encrypted {
                    v1::open(key, &data, path)
                } else {
                    Ok(data)
                }
            }
        }
    }

    /// A reader over member `name` and its size. v2 members stream chunk by chunk; others are read whole first.
    pub fn stream(&self, name: &str) -> Result<(u64, Box<dyn Read + Send + '_>)> {
        match &self.inner {
            Inner::Plain(m) => {
                let path = m.get(name).ok_or_else(|| Error::MemberMissing {
                    dir: self.root.clone(),
                    name: name.into(),
                })?;
                let f = File::open(path).map_err(|e| Error::io(path, e))?;
                let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
                Ok((len, Box::new(f)))
            }
            Inner::Sealed(d) => {
                let r = d.stream(name)?;
                Ok((r.header().plaintext_len, Box::new(r)))
            }
            Inner::PaddleV1 { .. } => {
                let data = self.read(name)?;
                Ok((data.len() as u64, Box::new(std::io::Cursor::new(data))))
            }
        }
    }

    /// The path of member `name`'s file on disk.
    pub fn member_path(&self, name: &str) -> Option<PathBuf> {
        match &self.inner {
            Inner::Plain(m) => m.get(name).cloned(),
            Inner::Sealed(d) => match d.store {
                Store::Fs => d.entry(name).ok().map(|m| join(&d.root, &m.file)),
                Store::Mem(_) => None,
            },
            Inner::PaddleV1 { files, .. } => files.get(name).map(|(p, _)| p.clone()),
        }
    }
}

/// Seals every member of `src` (opened plain, or sealed for re-keying) into a new directory `dst`
/// under `key`. The output appears atomically; `progress` receives plaintext byte counts.
pub fn seal_dir(
    key: &Key,
    src: &ModelDir,
    dst: &Path,
    opts: &SealOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<SealedMember>> {
    let out = OutputDir::prepare(src.root(), dst, opts.force)?;
    let names = src.names();
    if names.is_empty() {
        return Err(Error::usage(
            src.root(),
            "the model directory holds no files",
        ));
    }
    let mut written = Vec::new();
    match opts.format {
        OutputFormat::V2 => {
            let seal_id = v2::random_id()?;
            let mut entries = Vec::new();
            for name in &names {
                if name == MANIFEST_NAME {
                    return Err(Error::usage(
                        src.root(),
                        format!("a member may not be named {MANIFEST_NAME}"),
                    ));
                }
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
    out.commit()?;
    Ok(written)
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

/// Seals one file `src` into a new file `dst` (which must not exist), streaming.
pub fn seal_file(
    key: &Key,
    src: &Path,
    dst: &Path,
    format: OutputFormat,
    chunk_log2: u8,
) -> Result<()> {
    let same = match (std::fs::canonicalize(src), std::fs::canonicalize(dst)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(Error::usage(dst, "output is the input file"));
    }
    let name = src
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::usage(src, "file name is not valid UTF-8"))?
        .to_string();
    match format {
        OutputFormat::V2 => {
            let mut f = File::open(src).map_err(|e| Error::io(src, e))?;
            let len = f.metadata().map_err(|e| Error::io(src, e))?.len();
            let params = SealParams {
                kind: Kind::Member,
                name,
                seal_id: v2::random_id()?,
                chunk_log2,
            };
            crate::fsutil::write_new_file(
                dst,
                &mut |w| v2::seal_stream(key, &params, len, &mut f, w, src, &|_| {}).map(|_| ()),
                false,
            )
        }
        OutputFormat::PaddleV1 => {
            let data = read_secret(src)?;
            let sealed = v1::seal(key, &data)?;
            crate::fsutil::write_new_file(
                dst,
                &mut |w| w.write_all(&sealed).map_err(|e| Error::io(dst, e)),
                false,
            )
        }
    }
}

/// Decrypts one sealed file (v2, v1 or FastDeploy base64 v1) from disk into memory.
pub fn open_file(key: &Key, path: &Path) -> Result<Secret> {
    match sniff(path)? {
        Storage::SealedV2 => Ok(v2::open_file(key, path)?.1),
        Storage::PaddleV1 => v1::open(key, &read_secret(path)?, path),
        Storage::Plain => Err(Error::NotSealed {
            path: path.to_path_buf(),
        }),
    }
}

/// Seals a byte slice as a single v2 file image for member `name` (fresh sealing id, default chunk size).
pub fn seal_bytes(key: &Key, name: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
    v2::seal_bytes(key, &SealParams::member(name)?, plaintext)
}

/// Decrypts one sealed file image (v2, v1 or FastDeploy base64 v1) held in memory; `label` names it in errors.
pub fn open_bytes(key: &Key, data: &[u8], label: &str) -> Result<Secret> {
    let path = Path::new(label);
    if data.starts_with(v2::MAGIC) {
        Ok(v2::open_bytes(key, data, path)?.1)
    } else if v1::looks_like_v1(data) {
        v1::open(key, data, path)
    } else {
        Err(Error::NotSealed {
            path: path.to_path_buf(),
        })
    }
}

/// Whether a file is sealed, and in which format.
pub fn file_storage(path: &Path) -> Result<Storage> {
    sniff(path)
}

/// Decrypts sealed file `src` into new file `dst` (refusing to overwrite). This writes plaintext to
/// disk on purpose: it is the explicit escape hatch.
pub fn decrypt_file(key: &Key, src: &Path, dst: &Path) -> Result<u64> {
    let plain = open_file(key, src)?;
    crate::fsutil::write_new_file(
        dst,
        &mut |w| w.write_all(&plain).map_err(|e| Error::io(dst, e)),
        true,
    )?;
    Ok(plain.len() as u64)
}

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

/// The outcome of [`verify`]: one entry per member, in order.
pub type VerifyReport = Vec<(String, Result<VerifiedMember>)>;

/// Authenticates a sealed directory or file without writing plaintext anywhere. Errors about the
/// directory as a whole (manifest, wrong key, missing or added members) are returned as `Err`;
/// each member's own outcome is an entry of the report.
pub fn verify(key: &Key, path: &Path) -> Result<VerifyReport> {
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
                return Err(Error::NotSealed {
                    path: path.to_path_buf(),
                })
            }
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(vec![(
            name.clone(),
            outcome.map(|(size, sha256)| VerifiedMember {
                name,
                size,
                sha256,
                storage,
            }),
        )]);
    }
    let dir = ModelDir::open(path, Some(key))?;
    let mut report = Vec::new();
    match &dir.inner {
        Inner::Sealed(d) => {
            for m in &d.members {
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
        }
        Inner::PaddleV1 { files, .. } => {
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
        }
        Inner::Plain(_) => {
            return Err(Error::NotSealed {
                path: path.to_path_buf(),
            })
        }
    }
    Ok(report)
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

fn hash_stream(r: &mut dyn Read, path: &Path) -> Result<(u64, String)> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    let mut buf = zeroize::Zeroizing::new(vec![0u8; 1 << 16]);
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

/// What the header of one file says, read without a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InspectEntry {
    /// File path relative to the inspected directory (or the file name).
    pub file: String,
    /// Format.
    pub storage: Storage,
    /// Size of the file on disk.
    pub file_size: u64,
    /// The v2 header, for v2 files whose header parses.
    pub header: Option<Header>,
    /// A problem with the header, if any.
    pub problem: Option<String>,
}

/// Reads the headers of a file or of every file of a directory, without a key.
pub fn inspect(path: &Path) -> Result<Vec<InspectEntry>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let files = if meta.is_file() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        vec![SourceFile {
            name,
            path: path.to_path_buf(),
            size: meta.len(),
        }]
    } else {
        list_files(path)?
    };
    let mut out = Vec::new();
    for f in files {
        let storage = sniff(&f.path)?;
        let (header, problem) = if storage == Storage::SealedV2 {
            let mut file = File::open(&f.path).map_err(|e| Error::io(&f.path, e))?;
            match v2::read_header(&mut file, &f.path) {
                Ok(h) => {
                    let problem = (h.sealed_len() != f.size).then(|| {
                        format!(
                            "file is {} bytes, header requires {}",
                            f.size,
                            h.sealed_len()
                        )
                    });
                    (Some(h), problem)
                }
                Err(e) => (None, Some(e.to_string())),
            }
        } else {
            (None, None)
        };
        out.push(InspectEntry {
            file: f.name,
            storage,
            file_size: f.size,
            header,
            problem,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(name: &str, file: &str) -> Vec<u8> {
        let entry = serde_json::json!({"name": name, "file": file, "role": "model", "size": 1,
            "sha256": "0".repeat(64), "header_mac": "0".repeat(64)});
        serde_json::to_vec(&serde_json::json!({"format": MANIFEST_FORMAT, "version": 2, "seal_id": "ab".repeat(16), "members": [entry]})).unwrap()
    }

    #[test]
    fn manifest_names_must_be_safe_relative_paths() {
        assert!(parse_manifest(&manifest("sub/model.onnx", "sub/model.onnx.sealed")).is_ok());
        for bad in [
            "../model.onnx",
            "/etc/passwd",
            "a//b",
            "a/./b",
            "",
            "C:/x",
            "a\\\\..\\\\b",
            MANIFEST_NAME,
        ] {
            let file = format!("{bad}{SEALED_SUFFIX}");
            assert!(
                parse_manifest(&manifest(bad, &file)).is_err(),
                "{bad:?} accepted"
            );
        }
        assert!(parse_manifest(&manifest("model.onnx", "../model.onnx.sealed")).is_err());
        assert!(parse_manifest(b"{}").is_err());
        assert!(parse_manifest(b"\\xff").is_err());
    }

    #[test]
    fn roles_follow_paddle_and_onnx_names() {
        for (name, role) in [
            ("__model__", Role::Model),
            ("a/model.onnx", Role::Model),
            ("inference.json", Role::Model),
            ("__params__", Role::Params),
            ("inference.pdiparams", Role::Params),
            ("model.yml", Role::Config),
            ("deploy.yaml", Role::Config),
            ("label_list.txt", Role::Labels),
            (".success", Role::Other),
        ] {
            assert_eq!(Role::of(name), role, "{name}");
        }
    }
}
