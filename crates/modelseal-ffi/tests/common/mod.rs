//! Test fixture shared by the FFI tests: a plain PaddleX-style model directory, its v2 and v1
//! sealings, a truncated sealing, and directories that trip each of PaddleX's checks.
#![allow(dead_code)]

use modelseal::{Key, OpenOptions, OutputFormat, SealOptions};
use std::fs;
use std::path::{Path, PathBuf};

/// Bytes 0..31: a key with a 0x00 byte (PaddleX 2.x's decrypt_file fails for such keys).
pub const KEY_NUL: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub key: String,
    pub wrong_key: String,
}

fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn write(dir: &Path, name: &str, data: &[u8]) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), data).unwrap();
}

impl Fixture {
    /// Layout under `root()`:
    /// plain/ (`.success` empty, `__model__`, `__params__` spanning many 4 KiB chunks, `model.yml`),
    /// v2/ (sealed with `key`, 4 KiB chunks), v1/ (PaddleX v1 with KEY_NUL), truncated/ (v2 copy with
    /// `__params__.sealed` cut short), empty/, no_yml/, no_model/, no_params/, work/ (scratch),
    /// key.txt, key_nul.txt, wrong_key.txt, plain.bin (a plain file), v2.bin (a sealed file).
    pub fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let key = Key::generate().unwrap();
        let wrong = Key::generate().unwrap();
        let plain = root.join("plain");
        write(&plain, ".success", b"");
        write(&plain, "__model__", &bytes(1, 5000));
        write(&plain, "__params__", &bytes(2, 70_001));
        write(
            &plain,
            "model.yml",
            b"Model: ResNet50\n_Attributes:\n  model_type: classifier\n  labels: [cat, dog]\n",
        );
        let src = OpenOptions::new().open(&plain).unwrap();
        let v2 = SealOptions {
            format: OutputFormat::V2,
            chunk_log2: 12,
            force: false,
        };
        modelseal::seal_dir(&key, &src, &root.join("v2"), &v2, &|_| {}).unwrap();
        let v1 = SealOptions {
            format: OutputFormat::PaddleV1,
            chunk_log2: 12,
            force: false,
        };
        modelseal::seal_dir(
            &Key::from_base64(KEY_NUL).unwrap(),
            &src,
            &root.join("v1"),
            &v1,
            &|_| {},
        )
        .unwrap();
        modelseal::seal_dir(&key, &src, &root.join("truncated"), &v2, &|_| {}).unwrap();
        let t = root.join("truncated/__params__.sealed");
        let data = fs::read(&t).unwrap();
        fs::write(&t, &data[..data.len() - 100]).unwrap();
        fs::create_dir_all(root.join("empty")).unwrap();
        for (dir, skip) in [
            ("no_yml", "model.yml"),
            ("no_model", "__model__"),
            ("no_params", "__params__"),
        ] {
            for name in [".success", "__model__", "__params__", "model.yml"] {
                if name != skip {
                    write(&root.join(dir), name, &fs::read(plain.join(name)).unwrap());
                }
            }
        }
        fs::create_dir_all(root.join("work")).unwrap();
        fs::write(root.join("key.txt"), format!("{}\n", &*key.to_base64())).unwrap();
        fs::write(root.join("key_nul.txt"), format!("{KEY_NUL}\n")).unwrap();
        fs::write(root.join("bad_key.txt"), "not-a-key\n").unwrap();
        fs::write(
            root.join("wrong_key.txt"),
            format!("{}\n", &*wrong.to_base64()),
        )
        .unwrap();
        write(root, "plain.bin", &bytes(3, 9000));
        // A real Paddle program (the PP-OCR text-line classifier's architecture) and its
        // parameters, for modelseal_paddle_to_onnx.
        let paddle = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../modelseal-paddle/tests/data/models/ocr_cls");
        fs::copy(paddle.join("legacy.pdmodel"), root.join("program.pdmodel")).unwrap();
        fs::copy(
            paddle.join("params.pdiparams"),
            root.join("program.pdiparams"),
        )
        .unwrap();
        modelseal::seal_file(
            &key,
            &root.join("plain.bin"),
            &root.join("v2.bin"),
            OutputFormat::V2,
            12,
        )
        .unwrap();
        Fixture {
            key: key.to_base64().to_string(),
            wrong_key: wrong.to_base64().to_string(),
            tmp,
        }
    }

    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, data))
}
