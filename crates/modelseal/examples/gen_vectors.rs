//! Writes the committed test vectors of docs/FORMAT.md into a directory (default `tests/vectors`).
//! Positive vectors are fresh sealings; negative ones are precise mutations of them. Run once; commit the output.

use modelseal::internal::{self as v2, SealParams};
use modelseal::Key;
use modelseal::Kind;
use serde_json::{json, Value};
use std::path::Path;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // bytes 0..32, contains 0x00
const OTHER_KEY: &str = "MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2Nzg=";
const NAME: &str = "vector.bin";

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

fn sha(data: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, data))
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tests/vectors".into());
    let out = Path::new(&out);
    std::fs::create_dir_all(out).unwrap();
    let key = Key::from_base64(KEY).unwrap();
    let mut entries: Vec<Value> = Vec::new();
    let mut write = |file: &str, data: &[u8], key: &str, expect: Value, note: &str| {
        std::fs::write(out.join(file), data).unwrap();
        let mut e = json!({"file": file, "key": key, "note": note});
        for (k, v) in expect.as_object().unwrap() {
            e[k] = v.clone();
        }
        entries.push(e);
    };
    let seal = |len: usize| {
        let params = SealParams {
            kind: Kind::Member,
            name: NAME.into(),
            seal_id: [0x5a; 16],
            chunk_log2: 12,
        };
        v2::seal_image(&key, &params, &pattern(len)).unwrap()
    };
    let ok = |len: usize| json!({"expect": "ok", "size": len, "sha256": sha(&pattern(len))});
    let err = |name: &str| json!({"expect": name});
    let err_chunk = |name: &str, chunk: u64| json!({"expect": name, "chunk": chunk});

    // Positive v2 vectors: sizes 0, 1, chunk-1, chunk, chunk+1, several chunks (chunk = 4096).
    for len in [0usize, 1, 4095, 4096, 4097, 10000] {
        write(
            &format!("v2_ok_{len}.sealed"),
            &seal(len),
            KEY,
            ok(len),
            "valid v2 file, chunk size 4096",
        );
    }
    let base = seal(10000); // 3 chunks: 4096, 4096, 1808
    let h = NAME.len() + 134;
    let c = 4096 + 16;
    let mutate = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut d = base.clone();
        f(&mut d);
        d
    };
    write(
        "v2_wrong_key.sealed",
        &base,
        OTHER_KEY,
        err("wrong_key"),
        "valid file opened with another key",
    );
    write(
        "v2_bad_magic.sealed",
        &mutate(&|d| d[0] ^= 0x20),
        KEY,
        err("not_sealed"),
        "first magic byte changed",
    );
    write(
        "v2_version_3.sealed",
        &mutate(&|d| d[7] = 3),
        KEY,
        err("unsupported_version"),
        "version byte 3",
    );
    write(
        "v2_kind_flip.sealed",
        &mutate(&|d| d[8] = 2),
        KEY,
        err("header_corrupted"),
        "kind byte changed member->manifest (authenticated)",
    );
    write(
        "v2_bad_cipher.sealed",
        &mutate(&|d| d[9] = 7),
        KEY,
        err("header_corrupted"),
        "unknown cipher id",
    );
    write(
        "v2_bad_chunk_log2.sealed",
        &mutate(&|d| d[10] = 40),
        KEY,
        err("header_corrupted"),
        "chunk size exponent out of range",
    );
    write(
        "v2_chunk_log2_changed.sealed",
        &mutate(&|d| d[10] = 13),
        KEY,
        err("header_corrupted"),
        "chunk size exponent changed to another valid value",
    );
    write(
        "v2_reserved.sealed",
        &mutate(&|d| d[11] = 1),
        KEY,
        err("header_corrupted"),
        "reserved byte set",
    );
    write(
        "v2_length_changed.sealed",
        &mutate(&|d| d[12] ^= 1),
        KEY,
        err("header_corrupted"),
        "plaintext length changed by one",
    );
    write(
        "v2_seal_id_flip.sealed",
        &mutate(&|d| d[20] ^= 1),
        KEY,
        err("header_corrupted"),
        "sealing id bit flipped",
    );
    write(
        "v2_salt_flip.sealed",
        &mutate(&|d| d[40] ^= 1),
        KEY,
        err("wrong_key"),
        "salt bit flipped: the commitment no longer matches (reads as wrong key)",
    );
    write(
        "v2_name_flip.sealed",
        &mutate(&|d| d[70] ^= 1),
        KEY,
        err("header_corrupted"),
        "member name bit flipped",
    );
    write(
        "v2_name_len_zero.sealed",
        &mutate(&|d| {
            d[68] = 0;
            d[69] = 0;
        }),
        KEY,
        err("header_corrupted"),
        "name length 0",
    );
    write(
        "v2_commitment_flip.sealed",
        &mutate(&|d| d[h - 64] ^= 1),
        KEY,
        err("wrong_key"),
        "key commitment bit flipped",
    );
    write(
        "v2_mac_flip.sealed",
        &mutate(&|d| d[h - 1] ^= 1),
        KEY,
        err("header_corrupted"),
        "header MAC bit flipped",
    );
    write(
        "v2_chunk0_flip.sealed",
        &mutate(&|d| d[h] ^= 1),
        KEY,
        err_chunk("chunk_corrupted", 0),
        "first ciphertext byte flipped",
    );
    write(
        "v2_chunk1_flip.sealed",
        &mutate(&|d| d[h + c + 100] ^= 0x80),
        KEY,
        err_chunk("chunk_corrupted", 1),
        "byte in chunk 1 flipped",
    );
    write(
        "v2_last_tag_flip.sealed",
        &mutate(&|d| {
            let n = d.len();
            d[n - 1] ^= 1
        }),
        KEY,
        err_chunk("chunk_corrupted", 2),
        "last tag byte flipped",
    );
    write(
        "v2_chunks_swapped.sealed",
        &mutate(&|d| {
            let (a, b) = d[h..h + 2 * c].split_at_mut(c);
            a.swap_with_slice(b);
        }),
        KEY,
        err_chunk("chunk_corrupted", 0),
        "chunks 0 and 1 swapped",
    );
    write(
        "v2_trunc_last_chunk.sealed",
        &mutate(&|d| d.truncate(h + 2 * c)),
        KEY,
        err("truncated"),
        "cut at a chunk boundary: final chunk missing",
    );
    write(
        "v2_trunc_mid.sealed",
        &mutate(&|d| d.truncate(h + c + 10)),
        KEY,
        err("truncated"),
        "cut inside chunk 1",
    );
    write(
        "v2_trunc_tag.sealed",
        &mutate(&|d| {
            let n = d.len();
            d.truncate(n - 1)
        }),
        KEY,
        err("truncated"),
        "last byte of the final tag missing",
    );
    write(
        "v2_trunc_header.sealed",
        &mutate(&|d| d.truncate(40)),
        KEY,
        err("truncated"),
        "cut inside the fixed header",
    );
    write(
        "v2_trunc_after_header.sealed",
        &mutate(&|d| d.truncate(h)),
        KEY,
        err("truncated"),
        "header only, no payload",
    );
    write(
        "v2_extended_byte.sealed",
        &mutate(&|d| d.push(0)),
        KEY,
        err("extended"),
        "one byte appended",
    );
    write(
        "v2_extended_chunk.sealed",
        &mutate(&|d| {
            let extra = d[h..h + c].to_vec();
            d.extend_from_slice(&extra)
        }),
        KEY,
        err("extended"),
        "chunk 0 appended again",
    );

    // PaddleX v1 vectors (§1.3 known answer, FastDeploy base64 form, a key with 0x00 bytes).
    let kat_key = Key::from_base64(OTHER_KEY).unwrap();
    let kat = v2::seal_v1(&kat_key, b"hello world !").unwrap();
    let kat_ok = json!({"expect": "ok", "size": 13, "sha256": sha(b"hello world !")});
    write(
        "v1_kat.encrypted",
        &kat,
        OTHER_KEY,
        kat_ok.clone(),
        "PaddleX known-answer vector (filler bytes random)",
    );
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&kat);
    write(
        "v1_kat_base64.encrypted",
        b64.as_bytes(),
        OTHER_KEY,
        kat_ok,
        "FastDeploy base64-wrapped v1",
    );
    let nul = v2::seal_v1(&key, &pattern(5000)).unwrap();
    write(
        "v1_nul_key.encrypted",
        &nul,
        KEY,
        ok(5000),
        "v1 under a key containing 0x00 (PaddleX 2.x's loader fails on it)",
    );
    write(
        "v1_wrong_key.encrypted",
        &kat,
        KEY,
        err("wrong_key"),
        "v1 opened with another key",
    );
    let mut t = kat.clone();
    t[140] ^= 1;
    write(
        "v1_tampered.encrypted",
        &t,
        OTHER_KEY,
        err_chunk("chunk_corrupted", 0),
        "v1 ciphertext bit flipped",
    );
    write(
        "v1_truncated.encrypted",
        &kat[..150],
        OTHER_KEY,
        err("truncated"),
        "v1 shorter than header + tag",
    );
    let mut v = kat.clone();
    v[6] = b'2';
    write(
        "v1_version_2.encrypted",
        &v,
        OTHER_KEY,
        err("unsupported_version"),
        "PADDLE2",
    );
    write(
        "plain.txt",
        b"not sealed at all\n",
        KEY,
        err("not_sealed"),
        "a plain file",
    );

    let manifest = json!({"description": "modelseal format test vectors; see docs/FORMAT.md. 'expect' is 'ok' (then size and sha256 of the plaintext) or the error name (Error::name), with 'chunk' for chunk errors.", "vectors": entries});
    std::fs::write(
        out.join("vectors.json"),
        serde_json::to_string_pretty(&manifest).unwrap() + "\n",
    )
    .unwrap();
    eprintln!(
        "wrote {} vectors to {}",
        manifest["vectors"].as_array().unwrap().len(),
        out.display()
    );
}
