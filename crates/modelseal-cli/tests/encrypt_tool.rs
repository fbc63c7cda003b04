//! `paddle_encrypt_tool`: PaddleX's argument forms, byte-exact v1 output, and PaddleX's error
//! codes printed with the shared exit codes.

mod support;

use std::fs;
use support::{encrypt_tool, exec, modelseal, s, tiny_model, KAT_KEY};
use tempfile::TempDir;

#[test]
fn paddle_encrypt_tool_accepts_paddlex_forms() {
    let tmp = TempDir::new().unwrap();
    let m = tiny_model(tmp.path());
    let (code, out, _) = exec(&mut encrypt_tool(&["-g"]));
    assert_eq!(code, 0);
    let key = out
        .strip_prefix("Generate key success: \n\t")
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(key.len(), 44);

    let o1 = tmp.path().join("o1");
    let (code, out, err) = exec(&mut encrypt_tool(&[
        "-model_dir",
        s(&m),
        "-save_dir",
        s(&o1),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Output: Encryption key: \n\t"), "{out}");
    let gen = out.lines().nth(1).unwrap().trim().to_string();
    assert!(
        out.contains(&format!("to {}(dir) success!", o1.display())),
        "{out}"
    );
    assert_eq!(
        exec(modelseal(&["verify", "--model-dir", s(&o1)]).env("MODELSEAL_KEY", &gen)).0,
        0
    );

    let o2 = tmp.path().join("o2");
    let (code, out, err) = exec(&mut encrypt_tool(&[
        "-key",
        &key,
        "-model_dir",
        s(&m),
        "-save_dir",
        s(&o2),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("Encryption key"),
        "a given key is not printed: {out}"
    );
    assert!(err.contains("warning: --key"), "{err}");
    assert_eq!(
        exec(modelseal(&["verify", "--model-dir", s(&o2)]).env("MODELSEAL_KEY", &key)).0,
        0
    );

    let o3 = tmp.path().join("o3");
    let (code, _, err) = exec(&mut encrypt_tool(&[
        &format!("--key={key}"),
        &format!("--model_dir={}", s(&m)),
        &format!("--save_dir={}", s(&o3)),
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        exec(modelseal(&["verify", "--model-dir", s(&o3)]).env("MODELSEAL_KEY", &key)).0,
        0
    );

    // Single file, v1 output byte-exact with PaddleX's known answer (bytes 0..71 and 135..).
    let hello = tmp.path().join("hello.txt");
    fs::write(&hello, b"hello world !").unwrap();
    let enc = tmp.path().join("hello.encrypted");
    let (code, out, err) = exec(&mut encrypt_tool(&[
        "-e",
        "-key",
        KAT_KEY,
        "-infile",
        s(&hello),
        "-outfile",
        s(&enc),
        "-format",
        "paddlex-v1",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        format!("Encrypt {}(file) to {}(file) success", s(&hello), s(&enc))
    );
    let bytes = fs::read(&enc).unwrap();
    assert_eq!(bytes.len(), 164);
    assert_eq!(
        &bytes[..71],
        b"PADDLE1fed9efbd5a8ef6820d639dbcb831daf9d6308312cc73d6188beb54a9a148e29a"
    );
    assert_eq!(
        hex::encode(&bytes[135..]),
        "3dd5cde1cb317a9052bbb78637cd4c298f70383096a51d9636acf5ed8e"
    );
    // v2 single file by default.
    let enc2 = tmp.path().join("hello.sealed");
    assert_eq!(
        exec(&mut encrypt_tool(&[
            "-e",
            "-key",
            KAT_KEY,
            "-infile",
            s(&hello),
            "-outfile",
            s(&enc2)
        ]))
        .0,
        0
    );
    assert!(fs::read(&enc2).unwrap().starts_with(b"MDLSEAL\x02"));

    // Failures carry PaddleX error codes and distinct exit codes.
    let (code, _, err) = exec(&mut encrypt_tool(&[
        "-model_dir",
        "/nonexistent",
        "-save_dir",
        s(&tmp.path().join("o4")),
    ]));
    assert_eq!(code, 3);
    assert!(err.contains("errorcode = 106"), "{err}");
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let (code, _, err) = exec(&mut encrypt_tool(&[
        "-model_dir",
        s(&empty),
        "-save_dir",
        s(&tmp.path().join("o5")),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("errorcode = 107"), "{err}");
    let (code, _, err) = exec(&mut encrypt_tool(&[
        "-key",
        "short",
        "-model_dir",
        s(&m),
        "-save_dir",
        s(&tmp.path().join("o6")),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("errorcode = 105"), "{err}");
    assert!(!tmp.path().join("o6").exists());
    let (code, _, err) = exec(&mut encrypt_tool(&["-bogus"]));
    assert_eq!(code, 2);
    assert!(err.contains("unknown flag"), "{err}");
    let (code, out, _) = exec(&mut encrypt_tool(&["-h"]));
    assert_eq!(code, 0);
    assert!(out.contains("*** paddle_encrypt_tool Usage ***"));
}

#[test]
fn failures_exit_with_the_status_modelseal_gives_and_print_paddlex_codes() {
    let tmp = TempDir::new().unwrap();
    let m = tiny_model(tmp.path());
    let kf = tmp.path().join("k");
    fs::write(&kf, KAT_KEY).unwrap();
    let unreadable = tmp.path().join("no/such/key");
    let foreign = tmp.path().join("foreign");
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("thesis.tex"), b"years").unwrap();
    let out = tmp.path().join("out");
    // (what, key flag and value, output directory, exit status, PaddleX's code)
    let cases = [
        (
            "an unreadable key file",
            ("key_file", s(&unreadable)),
            &out,
            3,
            105,
        ),
        ("a malformed key", ("key", "short"), &out, 2, 105),
        (
            "an output directory of other files",
            ("key_file", s(&kf)),
            &foreign,
            2,
            111,
        ),
    ];
    for (what, (flag, value), dst, status, paddlex_code) in cases {
        let tool_flag = format!("-{flag}");
        let (code, _, err) = exec(&mut encrypt_tool(&[
            &tool_flag,
            value,
            "-model_dir",
            s(&m),
            "-save_dir",
            s(dst),
        ]));
        assert_eq!(code, status, "paddle_encrypt_tool, {what}: {err}");
        assert!(
            err.contains(&format!("errorcode = {paddlex_code},")),
            "{what}: {err}"
        );
        let modelseal_flag = format!("--{}", flag.replace('_', "-"));
        let (code, _, err) = exec(&mut modelseal(&[
            "encrypt",
            &modelseal_flag,
            value,
            "--model-dir",
            s(&m),
            "--save-dir",
            s(dst),
        ]));
        assert_eq!(code, status, "modelseal, {what}: {err}");
        assert!(!out.exists(), "{what}: an output was written");
        assert_eq!(fs::read_dir(&foreign).unwrap().count(), 1, "{what}");
    }
}
