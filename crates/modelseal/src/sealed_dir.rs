//! A sealed v2 directory opened with its key, on disk or in memory: the manifest authenticated and
//! every member file's header checked against it before anything is decrypted.

use crate::error::{Error, Result};
use crate::fsutil::SourceFile;
use crate::key::Key;
use crate::manifest::{parse_manifest, MemberEntry, MANIFEST_NAME};
use crate::secret::Secret;
use crate::v2::{self, Header, Kind, OpenReader};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest manifest opened: far above any real one (a few hundred bytes per member).
const MAX_MANIFEST_LEN: u64 = 64 << 20;

/// A sealed v2 directory opened with its key: the manifest is authenticated and every member file's
/// header was checked against it (names, sealing, exact file), but no member payload is decrypted yet.
pub(crate) struct SealedDir {
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

pub(crate) fn join(root: &Path, rel: &str) -> PathBuf {
    rel.split('/').fold(root.to_path_buf(), |p, c| p.join(c))
}

impl SealedDir {
    /// Opens `root` (whose files `files` lists), authenticating the manifest and checking the set
    /// of member files against it.
    pub(crate) fn open(root: &Path, files: &[SourceFile], key: &Key) -> Result<SealedDir> {
        let present = files.iter().map(|f| f.name.clone()).collect();
        Self::open_store(root.to_path_buf(), Store::Fs, present, key)
    }

    /// Opens a sealed directory whose files are given in memory as (path relative to the directory, bytes),
    /// e.g. unpacked from an archive or received over a network. The same checks apply as on disk.
    pub(crate) fn from_memory(files: Vec<(String, Vec<u8>)>, key: &Key) -> Result<SealedDir> {
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
        // Kind and name are checked on the authenticated header, before any payload is decrypted.
        if v.header().kind != Kind::Manifest || v.header().name != MANIFEST_NAME {
            return Err(Error::MemberSwapped {
                path: manifest_path,
                expected: MANIFEST_NAME.into(),
                found: v.header().name.clone(),
            });
        }
        if v.header().plaintext_len > MAX_MANIFEST_LEN {
            return Err(Error::Manifest {
                path: manifest_path,
                reason: format!(
                    "{} bytes; a manifest is at most {MAX_MANIFEST_LEN}",
                    v.header().plaintext_len
                ),
            });
        }
        let (header, plain) = dir.open_verified(&v, MANIFEST_NAME)?;
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
                v2::open_verified_image(v, data, &path)
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

    /// The sealing id shared by every file of this sealing.
    pub(crate) fn seal_id(&self) -> [u8; 16] {
        self.seal_id
    }

    /// The directory (or `<memory>`).
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the files are on disk (not in memory).
    pub(crate) fn on_disk(&self) -> bool {
        matches!(self.store, Store::Fs)
    }

    /// The members, in manifest order.
    pub(crate) fn members(&self) -> &[MemberEntry] {
        &self.members
    }

    pub(crate) fn entry(&self, name: &str) -> Result<&MemberEntry> {
        self.members
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| Error::MemberMissing {
                dir: self.root.clone(),
                name: name.to_string(),
            })
    }

    /// Decrypts member `name` into zeroize-on-drop memory (all or nothing).
    pub(crate) fn read(&self, name: &str) -> Result<Secret> {
        let m = self.entry(name)?;
        let v = self.check_member(m)?;
        Ok(self.open_verified(&v, &m.file)?.1)
    }

    /// A streaming reader over member `name`; each chunk is authenticated before it is returned.
    pub(crate) fn stream(&self, name: &str) -> Result<OpenReader<Box<dyn Read + Send>>> {
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
