//! Shared helpers of the format library's tests: model directories of known bytes, sealing and
//! opening them under the open policy, reading a sealed directory back whole, and damaging files.
#![allow(dead_code)]

use modelseal::{seal_dir, Key, ModelDir, OpenOptions, OutputFormat, SealOptions, SealedMember};
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// `n` bytes of a repeating pattern that differs with `seed`.
pub fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| ((i * 31 + seed as usize * 17) % 253) as u8)
        .collect()
}

/// Writes each `(name, size)` of `files` under `root` as patterned bytes (the i-th with seed i),
/// creating parent directories; the names with their bytes, in the order given.
pub fn make_dir(root: &Path, files: &[(&str, usize)]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, (name, len)) in files.iter().enumerate() {
        let p = root.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        let data = pattern(*len, i as u8);
        fs::write(&p, &data).unwrap();
        out.push((name.to_string(), data));
    }
    out
}

/// Writes each `(name, bytes)` of `files` under `root`, creating parent directories.
pub fn write_files(root: &Path, files: &[(&str, &[u8])]) {
    for (name, data) in files {
        let p = root.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, data).unwrap();
    }
}

/// Format v2 with chunks of `2^chunk_log2` bytes, never replacing an existing output.
pub fn opts(chunk_log2: u8) -> SealOptions {
    SealOptions {
        format: OutputFormat::V2,
        chunk_log2,
        force: false,
    }
}

/// Opens `dir` under the open policy with an optional key (PaddleX v1 allowed).
pub fn open_dir(dir: &Path, key: Option<&Key>) -> modelseal::Result<ModelDir> {
    OpenOptions::new()
        .key(key.cloned())
        .allow_paddlex_v1(true)
        .open(dir)
}

/// Seals the plain directory `src` (opened without a key) into `dst` under `key`.
pub fn seal(
    key: &Key,
    src: &Path,
    dst: &Path,
    o: &SealOptions,
) -> modelseal::Result<Vec<SealedMember>> {
    seal_dir(key, &open_dir(src, None)?, dst, o, &|_| {})
}

/// Opens and reads every member; the error if any step fails.
pub fn open_all(dir: &Path, key: &Key) -> modelseal::Result<Vec<(String, Vec<u8>)>> {
    let d = open_dir(dir, Some(key))?;
    d.names()
        .into_iter()
        .map(|n| d.read(&n).map(|b| (n, b.to_vec())))
        .collect()
}

/// A plain model directory of patterned files and its sealing (format v2) under a fresh key.
pub struct Fixture {
    pub _tmp: TempDir,
    /// The plain directory.
    pub src: PathBuf,
    /// Its sealing.
    pub out: PathBuf,
    pub key: Key,
    /// The members' names and plaintext, in the order given to [`fixture`].
    pub files: Vec<(String, Vec<u8>)>,
}

/// Writes `files` (see [`make_dir`]) and seals them with chunks of `2^chunk_log2` bytes.
pub fn fixture(files: &[(&str, usize)], chunk_log2: u8) -> Fixture {
    let tmp = TempDir::new().unwrap();
    let src = tmp.path().join("model");
    let out = tmp.path().join("sealed");
    let files = make_dir(&src, files);
    let key = Key::generate().unwrap();
    seal(&key, &src, &out, &opts(chunk_log2)).unwrap();
    Fixture {
        _tmp: tmp,
        src,
        out,
        key,
        files,
    }
}

/// A temporary directory holding the plain model directory `src` and a fresh key.
pub struct Plain {
    pub tmp: TempDir,
    pub src: PathBuf,
    pub key: Key,
}

/// Writes `files` into `<tmp>/src`.
pub fn plain_model(files: &[(&str, &[u8])]) -> Plain {
    let tmp = TempDir::new().unwrap();
    let src = tmp.path().join("src");
    write_files(&src, files);
    Plain {
        tmp,
        src,
        key: Key::generate().unwrap(),
    }
}

/// Flips the bits `mask` of the last byte of the file `path`. In a sealed file that byte belongs
/// to the last chunk's tag: decrypting the payload then fails with `ChunkCorrupted`.
pub fn flip_last_byte(path: &Path, mask: u8) {
    let mut bytes = fs::read(path).unwrap();
    *bytes.last_mut().unwrap() ^= mask;
    fs::write(path, bytes).unwrap();
}

/// The names in `parent` of the staging and replaced directories a sealing works with: none may
/// remain once it has finished or failed.
pub fn leftovers(parent: &Path) -> Vec<String> {
    fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("modelseal-"))
        .collect()
}

/// Every file under `dir` (by its relative `/`-separated name) with its bytes, as a directory
/// held in memory is given to `OpenOptions::open_memory`.
pub fn read_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    modelseal::internal::list_files(dir, false)
        .unwrap()
        .into_iter()
        .map(|f| (f.name, fs::read(&f.path).unwrap()))
        .collect()
}

/// The SHA-256 of `data`, in lower-case hexadecimal.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, data))
}
