//! Runs every committed test vector of tests/vectors/vectors.json through each way of opening a sealed file:
//! from a path, from bytes, and (for v2) through the streaming reader; all must agree with the expected result.

mod support;

use modelseal::{Error, Key};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

fn check(outcome: Result<Vec<u8>, Error>, v: &Value, how: &str) {
    let file = v["file"].as_str().unwrap();
    let expect = v["expect"].as_str().unwrap();
    match (outcome, expect) {
        (Ok(plain), "ok") => {
            assert_eq!(
                plain.len() as u64,
                v["size"].as_u64().unwrap(),
                "{file} ({how}): size"
            );
            assert_eq!(
                support::sha256_hex(&plain),
                v["sha256"].as_str().unwrap(),
                "{file} ({how}): sha256"
            );
        }
        (Ok(_), _) => panic!("{file} ({how}): opened, but {expect} was expected"),
        (Err(e), "ok") => panic!("{file} ({how}): expected to open, got {e}"),
        (Err(e), _) => {
            assert_eq!(e.name(), expect, "{file} ({how}): got {e}");
            if let Some(chunk) = v.get("chunk").and_then(Value::as_u64) {
                match e {
                    Error::ChunkCorrupted { chunk: got, .. } => {
                        assert_eq!(got, chunk, "{file} ({how}): chunk index")
                    }
                    other => panic!("{file} ({how}): expected a chunk error, got {other}"),
                }
            }
            // Every error names the file it is about (path-based opening).
            if how == "path" && !matches!(expect, "bad_key") {
                assert!(
                    e.to_string().contains(file),
                    "{file} ({how}): message does not name the file: {e}"
                );
            }
        }
    }
}

#[test]
fn every_vector_gives_its_expected_result() {
    let dir = vectors_dir();
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("vectors.json")).unwrap()).unwrap();
    let vectors = index["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 40, "vector set is incomplete");
    let negatives = vectors.iter().filter(|v| v["expect"] != "ok").count();
    assert!(
        negatives > vectors.len() / 2,
        "negative vectors must outnumber positive ones"
    );
    for v in vectors {
        let file = v["file"].as_str().unwrap();
        let path = dir.join(file);
        let key = Key::from_base64(v["key"].as_str().unwrap()).unwrap();
        check(
            modelseal::open_file(&key, &path).map(|s| s.to_vec()),
            v,
            "path",
        );
        let bytes = std::fs::read(&path).unwrap();
        check(
            modelseal::open_bytes(&key, &bytes, file).map(|s| s.to_vec()),
            v,
            "bytes",
        );
        if bytes.starts_with(modelseal::internal::V2_MAGIC) && v["expect"] != "unsupported_version"
        {
            let streamed =
                modelseal::internal::OpenReader::new(&key, &bytes[..], &path).and_then(|mut r| {
                    let mut out = Vec::new();
                    r.read_to_end(&mut out)
                        .map_err(|e| modelseal::internal::reader_error(e, &path))?;
                    Ok(out)
                });
            check(streamed, v, "stream");
        }
    }
}
