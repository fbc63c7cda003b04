//! Where a model's members come from: a model directory opened through the `modelseal` crate's
//! open policy (sealed v2, PaddleX v1 on opt-in, or plain without a key). The SDK only asks "give
//! me the bytes of member X"; decrypted bytes stay in zeroize-on-drop memory, never on disk.

use std::path::Path;

use modelseal::{ModelDir, OpenOptions, SealId, Secret, Storage};

use crate::error::{Error, Result};

/// A model directory opened for deployment, whatever its storage.
///
/// ```no_run
/// use modelseal::{Key, OpenOptions};
/// use modelseal_deploy::{BackendOptions, ModelSource, Predictor};
/// let key = Key::read_file("model.key".as_ref())?;
/// let source = ModelSource::open("sealed/".as_ref(), &OpenOptions::new().key(key))?;
/// let predictor = Predictor::open(&source, &BackendOptions::default())?;
/// drop(source); // the decrypted config and model were wiped once the session was built
/// # let _ = predictor;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ModelSource {
    dir: ModelDir,
}

impl ModelSource {
    /// Opens `dir` under the open policy `opts` (a key means: only a sealing that verifies).
    pub fn open(dir: &Path, opts: &OpenOptions) -> Result<ModelSource> {
        let opened = opts.open(dir).map_err(|source| Error::Open {
            dir: dir.to_path_buf(),
            source,
        })?;
        Ok(ModelSource { dir: opened })
    }

    /// A source over a directory already opened through the open policy (e.g. from memory).
    pub fn from_dir(dir: ModelDir) -> ModelSource {
        ModelSource { dir }
    }

    /// The directory this was opened from (for messages).
    pub fn dir(&self) -> &Path {
        self.dir.root()
    }

    /// Logical member names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.dir.names()
    }

    /// The plaintext bytes of member `name`, decrypted and authenticated, in zeroize-on-drop memory.
    pub fn read(&self, name: &str) -> Result<Secret> {
        self.dir.read(name).map_err(|source| Error::Open {
            dir: self.dir.root().to_path_buf(),
            source,
        })
    }

    /// How the members are stored at rest.
    pub fn storage(&self) -> Storage {
        self.dir.storage()
    }

    /// Whether the members are sealed (encrypted) at rest.
    pub fn is_sealed(&self) -> bool {
        self.dir.is_sealed()
    }

    /// The sealing id of a v2 sealing.
    pub fn seal_id(&self) -> Option<SealId> {
        self.dir.seal_id()
    }

    /// The directory as the `modelseal` crate opened it.
    pub fn model_dir(&self) -> &ModelDir {
        &self.dir
    }
}
