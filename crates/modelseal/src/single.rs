//! Single sealed files: sealing one file or byte string, and opening one sealed file image (v2,
//! PaddleX v1 or FastDeploy's base64 v1) from disk or memory. Directories go through the open policy.

use crate::error::{Error, Result};
use crate::fsutil::{read_secret, write_new_file};
use crate::key::Key;
use crate::manifest::valid_member_name;
use crate::model_dir::{sniff, storage_of_prefix, Storage};
use crate::sealing::OutputFormat;
use crate::secret::Secret;
use crate::v1;
use crate::v2::{self, Kind, SealParams};
use std::fs::File;
use std::path::Path;

const NO_HEADER: &str = "no modelseal or PaddleX header";

/// Seals one file `src` into a new file `dst` (which must not exist), streaming.
///
/// ```
/// use modelseal::{Key, OutputFormat, DEFAULT_CHUNK_LOG2};
/// # let tmp = tempfile::TempDir::new()?;
/// # let model = tmp.path().join("model.onnx");
/// # std::fs::write(&model, b"onnx bytes")?;
/// let key = Key::generate()?;
/// let sealed = tmp.path().join("model.onnx.sealed");
/// let format = OutputFormat::V2;
/// modelseal::seal_file(&key, &model, &sealed, format, DEFAULT_CHUNK_LOG2)?;
/// assert_eq!(&*modelseal::open_file(&key, &sealed)?, b"onnx bytes");
/// // The output is never overwritten.
/// assert!(modelseal::seal_file(&key, &model, &sealed, format, DEFAULT_CHUNK_LOG2).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
            write_new_file(
                dst,
                &mut |w| v2::seal_stream(key, &params, len, &mut f, w, src, &|_| {}).map(|_| ()),
                false,
            )
        }
        OutputFormat::PaddleV1 => {
            let data = read_secret(src)?;
            let sealed = v1::seal(key, &data)?;
            write_new_file(
                dst,
                &mut |w| w.write_all(&sealed).map_err(|e| Error::io(dst, e)),
                false,
            )
        }
    }
}

/// Decrypts one sealed file (v2, v1 or FastDeploy base64 v1) from disk into memory.
///
/// ```
/// use modelseal::{ErrorKind, Key, OutputFormat};
/// # let tmp = tempfile::TempDir::new()?;
/// let key = Key::generate()?;
/// let path = tmp.path().join("weights.bin.sealed");
/// let image = modelseal::seal_bytes(&key, "weights.bin", b"weights", OutputFormat::V2)?;
/// std::fs::write(&path, image)?;
/// let plain = modelseal::open_file(&key, &path)?; // wiped when dropped
/// assert_eq!(&*plain, b"weights");
/// let err = modelseal::open_file(&Key::generate()?, &path).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::WrongKey);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_file(key: &Key, path: &Path) -> Result<Secret> {
    match sniff(path)? {
        Storage::SealedV2 => Ok(v2::open_path(key, path)?.1),
        Storage::PaddleV1 => v1::open(key, &read_secret(path)?, path),
        Storage::Plain => Err(Error::not_sealed(path, NO_HEADER)),
    }
}

/// Seals a byte slice as a single sealed file image: format v2 for member `name` (fresh sealing
/// id, default chunk size), or PaddleX v1 (where `name` is not recorded).
///
/// ```
/// use modelseal::{Key, OutputFormat};
/// let key = Key::generate()?;
/// for format in [OutputFormat::V2, OutputFormat::PaddleV1] {
///     let sealed = modelseal::seal_bytes(&key, "weights.bin", b"some weights", format)?;
///     assert_eq!(&*modelseal::open_bytes(&key, &sealed, "weights.bin")?, b"some weights");
/// }
/// # Ok::<(), modelseal::Error>(())
/// ```
pub fn seal_bytes(
    key: &Key,
    name: &str,
    plaintext: &[u8],
    format: OutputFormat,
) -> Result<Vec<u8>> {
    match format {
        OutputFormat::V2 => {
            if !valid_member_name(name) {
                return Err(Error::usage(
                    name,
                    "not a valid member name (a relative '/'-separated path of 1 to 4096 bytes)",
                ));
            }
            v2::seal_image(key, &SealParams::member(name)?, plaintext)
        }
        OutputFormat::PaddleV1 => v1::seal(key, plaintext),
    }
}

/// Decrypts one sealed file image (v2, v1 or FastDeploy base64 v1) held in memory; `label` names it in errors.
///
/// ```
/// use modelseal::{ErrorKind, Key, OutputFormat};
/// let key = Key::generate()?;
/// let sealed = modelseal::seal_bytes(&key, "weights.bin", b"some weights", OutputFormat::V2)?;
/// assert_eq!(&*modelseal::open_bytes(&key, &sealed, "weights.bin")?, b"some weights");
/// // Every change is refused, and errors name the label.
/// let mut changed = sealed.clone();
/// *changed.last_mut().unwrap() ^= 1;
/// let err = modelseal::open_bytes(&key, &changed, "weights.bin").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Integrity);
/// assert!(err.to_string().contains("weights.bin"));
/// let err = modelseal::open_bytes(&key, b"plain bytes", "weights.bin").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Unsupported);
/// # Ok::<(), modelseal::Error>(())
/// ```
pub fn open_bytes(key: &Key, data: &[u8], label: &str) -> Result<Secret> {
    let path = Path::new(label);
    if data.starts_with(v2::MAGIC) {
        Ok(v2::open_image(key, data, path)?.1)
    } else if v1::looks_like_v1(data) {
        v1::open(key, data, path)
    } else {
        Err(Error::not_sealed(path, NO_HEADER))
    }
}

/// Whether a file is sealed, and in which format (from its first bytes).
pub fn file_storage(path: &Path) -> Result<Storage> {
    sniff(path)
}

/// Whether a file image held in memory is sealed, and in which format (from its first bytes).
pub fn bytes_storage(data: &[u8]) -> Storage {
    storage_of_prefix(data)
}

/// Decrypts sealed file `src` into new file `dst` (refusing to overwrite). This writes plaintext to
/// disk on purpose: it is the explicit escape hatch.
///
/// ```
/// use modelseal::{Key, OutputFormat};
/// # let tmp = tempfile::TempDir::new()?;
/// let key = Key::generate()?;
/// let sealed = tmp.path().join("model.onnx.sealed");
/// let image = modelseal::seal_bytes(&key, "model.onnx", b"onnx bytes", OutputFormat::V2)?;
/// std::fs::write(&sealed, image)?;
/// let plain = tmp.path().join("model.onnx");
/// assert_eq!(modelseal::decrypt_file(&key, &sealed, &plain)?, 10);
/// assert_eq!(std::fs::read(&plain)?, b"onnx bytes");
/// // An existing file is never overwritten.
/// assert!(modelseal::decrypt_file(&key, &sealed, &plain).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decrypt_file(key: &Key, src: &Path, dst: &Path) -> Result<u64> {
    let plain = open_file(key, src)?;
    write_new_file(
        dst,
        &mut |w| w.write_all(&plain).map_err(|e| Error::io(dst, e)),
        true,
    )?;
    Ok(plain.len() as u64)
}
