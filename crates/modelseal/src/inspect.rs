//! Inspecting sealed files without the key: what each header says, and whether the file length fits it.

use crate::error::{Error, Result};
use crate::fsutil::{list_files, SourceFile};
use crate::model_dir::{sniff, Storage};
use crate::v2::{self, Header};
use std::fs::File;
use std::path::Path;

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
///
/// ```
/// use modelseal::Storage;
/// # use modelseal::{seal_dir, Key, OpenOptions, SealOptions};
/// # let tmp = tempfile::TempDir::new()?;
/// # let exported = tmp.path().join("exported");
/// # std::fs::create_dir(&exported)?;
/// # std::fs::write(exported.join("model.onnx"), b"onnx bytes")?;
/// # let sealed = tmp.path().join("sealed");
/// # let plain = OpenOptions::new().open(&exported)?;
/// # seal_dir(&Key::generate()?, &plain, &sealed, &SealOptions::default(), &|_| {})?;
/// let entries = modelseal::inspect(&sealed)?;
/// for e in &entries {
///     println!("{}: {}, {} bytes", e.file, e.storage.as_str(), e.file_size);
/// }
/// let member = entries.iter().find(|e| e.file == "model.onnx.sealed").unwrap();
/// assert_eq!(member.storage, Storage::SealedV2);
/// let header = member.header.as_ref().unwrap();
/// assert_eq!((header.name.as_str(), header.plaintext_len), ("model.onnx", 10));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
        list_files(path, false)?
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
