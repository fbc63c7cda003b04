//! The `modelseal` binary end to end: exit codes that tell failures apart, `inspect`, `decrypt`
//! and `rekey`, and no output left by a failed encryption.

mod support;

use std::fs;
use support::{exec, modelseal, s, tiny_model, KAT_KEY};
use tempfile::TempDir;

#[test]
fn exit_codes_tell_failures_apart() {
    let tmp = TempDir::new().unwrap();
    let m = tiny_model(tmp.path());
    let o = tmp.path().join("sealed");
    let kf = tmp.path().join("k");
    fs::write(&kf, KAT_KEY).unwrap();
    assert_eq!(
        exec(&mut modelseal(&[
            "encrypt",
            "--model-dir",
            s(&m),
            "--save-dir",
            s(&o),
            "--key-file",
            s(&kf)
        ]))
        .0,
        0
    );
    // Usage: unknown flag, existing output.
    assert_eq!(exec(&mut modelseal(&["encrypt", "--bogus"])).0, 2);
    let (code, _, err) = exec(&mut modelseal(&[
        "encrypt",
        "--model-dir",
        s(&m),
        "--save-dir",
        s(&o),
        "--key-file",
        s(&kf),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("--force"), "{err}");
    // I/O: missing model directory.
    let (code, _, err) = exec(&mut modelseal(&[
        "encrypt",
        "--model-dir",
        "/nonexistent/dir",
        "--save-dir",
        s(&tmp.path().join("x")),
        "--key-file",
        s(&kf),
    ]));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("/nonexistent/dir"), "{err}");
    // Wrong key.
    let wrong = tmp.path().join("wrong");
    assert_eq!(exec(&mut modelseal(&["keygen", "--out", s(&wrong)])).0, 0);
    let (code, _, err) = exec(&mut modelseal(&[
        "verify",
        "--model-dir",
        s(&o),
        "--key-file",
        s(&wrong),
    ]));
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("wrong key"), "{err}");
    // Unsupported: a plain directory or file.
    assert_eq!(
        exec(&mut modelseal(&[
            "verify",
            "--model-dir",
            s(&m),
            "--key-file",
            s(&kf)
        ]))
        .0,
        6
    );
    assert_eq!(
        exec(&mut modelseal(&[
            "decrypt",
            "--in",
            s(&m.join("model.onnx")),
            "--out",
            s(&tmp.path().join("p")),
            "--key-file",
            s(&kf)
        ]))
        .0,
        6
    );
    // Integrity: a flipped byte in one member is reported on that member's line.
    let f = o.join("model.onnx.sealed");
    let mut d = fs::read(&f).unwrap();
    let n = d.len();
    d[n / 2] ^= 4;
    fs::write(&f, &d).unwrap();
    let (code, out, err) = exec(&mut modelseal(&[
        "verify",
        "--model-dir",
        s(&o),
        "--key-file",
        s(&kf),
    ]));
    assert_eq!(code, 5, "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("FAIL  model.onnx") && l.contains("chunk")),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with("OK")).count(),
        2,
        "{out}"
    );
    // Truncated.
    d.truncate(n - 20);
    fs::write(&f, &d).unwrap();
    let (code, _, err) = exec(&mut modelseal(&[
        "verify",
        "--model-dir",
        s(&o),
        "--key-file",
        s(&kf),
    ]));
    assert_eq!(code, 5, "{err}");
    // --help documents the exit codes.
    let (code, out, _) = exec(&mut modelseal(&["--help"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("Exit codes:") && out.contains("4  wrong key") && out.contains("5  integrity"),
        "{out}"
    );
}

#[test]
fn inspect_decrypt_and_rekey() {
    let tmp = TempDir::new().unwrap();
    let m = tiny_model(tmp.path());
    let kf = tmp.path().join("k");
    fs::write(&kf, KAT_KEY).unwrap();
    let v1 = tmp.path().join("v1");
    let (code, _, err) = exec(&mut modelseal(&[
        "encrypt",
        "--model-dir",
        s(&m),
        "--save-dir",
        s(&v1),
        "--key-file",
        s(&kf),
        "--format",
        "paddlex-v1",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("same AES-GCM nonce"),
        "v1 output must warn: {err}"
    );
    assert!(v1.join("model.onnx.encrypted").exists() && v1.join("sub/labels.txt").exists());
    let (code, out, _) = exec(&mut modelseal(&["inspect", s(&v1)]));
    assert_eq!(code, 0);
    assert!(out.contains("model.onnx.encrypted: PaddleX v1"), "{out}");
    // Re-key v1 -> v2 under a generated key, printed once.
    let v2 = tmp.path().join("v2");
    let (code, out, err) = exec(&mut modelseal(&[
        "rekey",
        "--model-dir",
        s(&v1),
        "--save-dir",
        s(&v2),
        "--key-file",
        s(&kf),
    ]));
    assert_eq!(code, 0, "{err}");
    let new_key = out.trim().to_string();
    assert_eq!(new_key.len(), 44);
    let (code, out, _) = exec(&mut modelseal(&["inspect", s(&v2)]));
    assert_eq!(code, 0);
    assert!(
        out.contains("member 'model.onnx', 100000 plaintext bytes"),
        "{out}"
    );
    assert!(
        out.contains("modelseal.manifest: modelseal v2 manifest"),
        "{out}"
    );
    let nk = tmp.path().join("nk");
    fs::write(&nk, &new_key).unwrap();
    let plain = tmp.path().join("plain.onnx");
    let (code, _, err) = exec(&mut modelseal(&[
        "decrypt",
        "--in",
        s(&v2.join("model.onnx.sealed")),
        "--out",
        s(&plain),
        "--key-file",
        s(&nk),
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read(&plain).unwrap(), vec![3u8; 100_000]);
    let (code, _, err) = exec(&mut modelseal(&[
        "decrypt",
        "--in",
        s(&v2.join("model.onnx.sealed")),
        "--out",
        s(&plain),
        "--key-file",
        s(&nk),
    ]));
    assert_eq!(code, 2, "{err}");
    // The old key no longer opens the re-keyed copy.
    assert_eq!(
        exec(&mut modelseal(&[
            "verify",
            "--model-dir",
            s(&v2),
            "--key-file",
            s(&kf)
        ]))
        .0,
        4
    );
    // Encrypting an already sealed directory is refused.
    let (code, _, err) = exec(&mut modelseal(&[
        "encrypt",
        "--model-dir",
        s(&v2),
        "--save-dir",
        s(&tmp.path().join("again")),
        "--key-file",
        s(&nk),
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("rekey"), "{err}");
}

#[test]
fn a_failed_encryption_leaves_no_output() {
    let tmp = TempDir::new().unwrap();
    let m = tiny_model(tmp.path());
    fs::write(m.join("zz.bin"), b"x").unwrap();
    fs::write(m.join("modelseal.manifest"), b"x").unwrap();
    let o = tmp.path().join("out");
    let (code, _, err) = exec(&mut modelseal(&[
        "encrypt",
        "--model-dir",
        s(&m),
        "--save-dir",
        s(&o),
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(!o.exists());
    let names: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["model"], "left behind: {names:?}");
}
