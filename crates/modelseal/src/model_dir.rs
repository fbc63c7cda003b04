//! A model directory opened for reading, whatever its storage (plain, sealed v2, PaddleX v1): the
//! deployment side asks it for member bytes by logical name and never sees the format.

use crate::error::{Error, Result};
use crate::fsutil::{read_prefix, read_secret, SourceFile};
use crate::key::Key;
use crate::manifest::Role;
use crate::policy::SealId;
use crate::sealed_dir::{join, SealedDir};
use crate::secret::Secret;
use crate::v1;
use crate::v2;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

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

impl Storage {
    /// A stable lower-case name: `plain`, `sealed-v2` or `paddlex-v1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Storage::Plain => "plain",
            Storage::SealedV2 => "sealed-v2",
            Storage::PaddleV1 => "paddlex-v1",
        }
    }
}

/// How a file's leading bytes say it is stored.
pub(crate) fn storage_of_prefix(prefix: &[u8]) -> Storage {
    if prefix.starts_with(v2::MAGIC) {
        Storage::SealedV2
    } else if v1::looks_like_v1(prefix) {
        Storage::PaddleV1
    } else {
        Storage::Plain
    }
}

/// How the file at `path` is stored, from its first bytes.
pub(crate) fn sniff(path: &Path) -> Result<Storage> {
    Ok(storage_of_prefix(&read_prefix(path, 8)?))
}

/// A model directory opened for reading through [`crate::OpenOptions`], the one open policy.
///
/// ```no_run
/// use modelseal::{Key, OpenOptions};
/// let key = Key::read_file("model.key".as_ref())?;
/// let dir = OpenOptions::new().key(key).open("sealed/".as_ref())?;
/// for name in dir.names() {
///     let bytes = dir.read(&name)?; // decrypted and authenticated, in memory only
///     println!("{name}: {} bytes", bytes.len());
/// }
/// # Ok::<(), modelseal::Error>(())
/// ```
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
    /// Plain members held in memory (e.g. a conversion's output).
    Memory(BTreeMap<String, Secret>),
}

impl ModelDir {
    pub(crate) fn plain(root: &Path, files: Vec<SourceFile>) -> ModelDir {
        ModelDir {
            root: root.to_path_buf(),
            inner: Inner::Plain(files.into_iter().map(|f| (f.name, f.path)).collect()),
        }
    }

    pub(crate) fn sealed(dir: SealedDir) -> ModelDir {
        ModelDir {
            root: dir.root().to_path_buf(),
            inner: Inner::Sealed(dir),
        }
    }

    /// A PaddleX v1 directory: logical name -> (file, encrypted).
    pub(crate) fn paddle_v1(
        root: &Path,
        key: Key,
        files: BTreeMap<String, (PathBuf, bool)>,
    ) -> ModelDir {
        ModelDir {
            root: root.to_path_buf(),
            inner: Inner::PaddleV1 { key, files },
        }
    }

    /// A plain model directory whose members are given in memory, for example a conversion's
    /// output about to be sealed ([`crate::seal_dir`]) or written ([`crate::write_plain_dir`]).
    /// `origin` is the directory they were made from: errors name it, and an output is never
    /// written inside it. Member names follow the rule of sealed directories (relative
    /// `/`-separated paths, no `.`/`..` parts, no duplicates).
    ///
    /// ```
    /// use modelseal::{seal_dir, Key, ModelDir, OpenOptions, SealOptions, Secret};
    /// # let tmp = tempfile::TempDir::new()?;
    /// # let origin = tmp.path().join("paddle-model");
    /// # std::fs::create_dir(&origin)?;
    /// let converted = ModelDir::from_members(
    ///     &origin,
    ///     vec![
    ///         ("model.onnx".to_string(), Secret::from_slice(b"onnx bytes")),
    ///         ("inference.yml".to_string(), Secret::from_slice(b"Global: {}")),
    ///     ],
    /// )?;
    /// assert_eq!(converted.names(), ["inference.yml", "model.onnx"]);
    /// // Sealed straight from memory: the plaintext never touches the disk.
    /// let key = Key::generate()?;
    /// let sealed = tmp.path().join("sealed");
    /// seal_dir(&key, &converted, &sealed, &SealOptions::default(), &|_| {})?;
    /// let opened = OpenOptions::new().key(key).open(&sealed)?;
    /// assert_eq!(&*opened.read("model.onnx")?, b"onnx bytes");
    /// // Names must be relative paths inside the directory.
    /// let bad = vec![("../up".to_string(), Secret::from_slice(b"x"))];
    /// assert!(ModelDir::from_members(&origin, bad).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_members(origin: &Path, members: Vec<(String, Secret)>) -> Result<ModelDir> {
        let mut map = BTreeMap::new();
        for (name, bytes) in members {
            crate::manifest::check_member_name(&name, origin)?;
            if map.insert(name.clone(), bytes).is_some() {
                return Err(Error::usage(origin, format!("member {name:?} given twice")));
            }
        }
        Ok(ModelDir {
            root: origin.to_path_buf(),
            inner: Inner::Memory(map),
        })
    }

    pub(crate) fn as_sealed(&self) -> Option<&SealedDir> {
        match &self.inner {
            Inner::Sealed(d) => Some(d),
            _ => None,
        }
    }

    /// The PaddleX v1 files: logical name -> (file, encrypted).
    pub(crate) fn v1_files(&self) -> Option<&BTreeMap<String, (PathBuf, bool)>> {
        match &self.inner {
            Inner::PaddleV1 { files, .. } => Some(files),
            _ => None,
        }
    }

    /// The directory this was opened from (`<memory>` for one opened from memory).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How the directory is stored.
    pub fn storage(&self) -> Storage {
        match self.inner {
            Inner::Plain(_) | Inner::Memory(_) => Storage::Plain,
            Inner::Sealed(_) => Storage::SealedV2,
            Inner::PaddleV1 { .. } => Storage::PaddleV1,
        }
    }

    /// True for sealed directories (v2 or v1).
    pub fn is_sealed(&self) -> bool {
        self.storage() != Storage::Plain
    }

    /// The sealing id of a v2 directory (shared by every file of one sealing); `None` otherwise.
    pub fn seal_id(&self) -> Option<SealId> {
        self.as_sealed().map(|d| SealId::from_bytes(d.seal_id()))
    }

    /// Logical member names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = match &self.inner {
            Inner::Plain(m) => m.keys().cloned().collect(),
            Inner::Sealed(d) => d.members().iter().map(|m| m.name.clone()).collect(),
            Inner::PaddleV1 { files, .. } => files.keys().cloned().collect(),
            Inner::Memory(m) => m.keys().cloned().collect(),
        };
        names.sort();
        names
    }

    /// The role of member `name`: recorded in the manifest of a v2 directory, else from its name.
    pub fn role(&self, name: &str) -> Option<Role> {
        match &self.inner {
            Inner::Sealed(d) => d.entry(name).ok().map(|m| m.role),
            Inner::Plain(m) => m.contains_key(name).then(|| Role::of(name)),
            Inner::PaddleV1 { files, .. } => files.contains_key(name).then(|| Role::of(name)),
            Inner::Memory(m) => m.contains_key(name).then(|| Role::of(name)),
        }
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
            Inner::Memory(m) => m.get(name).map(|b| b.len() as u64),
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
            Inner::Memory(m) => Ok(m.get(name).ok_or_else(missing)?.clone()),
        }
    }

    /// A reader over member `name` and its size. v2 members stream chunk by chunk, each chunk
    /// authenticated before it is returned; others are read whole first.
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
            Inner::Memory(m) => {
                let data: &[u8] = m.get(name).ok_or_else(|| Error::MemberMissing {
                    dir: self.root.clone(),
                    name: name.into(),
                })?;
                Ok((data.len() as u64, Box::new(data)))
            }
        }
    }

    /// The path of member `name`'s file on disk (`None` for a directory opened from memory).
    pub fn member_path(&self, name: &str) -> Option<PathBuf> {
        match &self.inner {
            Inner::Plain(m) => m.get(name).cloned(),
            Inner::Sealed(d) => d
                .on_disk()
                .then(|| d.entry(name).ok().map(|m| join(d.root(), &m.file)))
                .flatten(),
            Inner::PaddleV1 { files, .. } => files.get(name).map(|(p, _)| p.clone()),
            Inner::Memory(_) => None,
        }
    }
}

impl std::fmt::Debug for ModelDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelDir")
            .field("root", &self.root)
            .field("storage", &self.storage())
            .field("members", &self.names().len())
            .finish()
    }
}
