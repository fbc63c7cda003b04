//! The `modelseal` and `paddle_encrypt_tool` binaries end to end: key sources and their order,
//! exit codes, outputs, PaddleX-compatible forms and byte-exact v1 output.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

const KAT_KEY: &str = "MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2Nzg=";

fn modelseal(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_modelseal"));
    c.args(args)
        .env_remove("MODELSEAL_KEY")
        .stdin(Stdio::null());
    c
}

fn tool(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_paddle_encrypt_tool"));
    c.args(args)
        .env_remove("MODELSEAL_KEY")
        .stdin(Stdio::null());
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().unwrap();
    (
        status.code().unwrap(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

fn model(tmp: &TempDir) -> std::path::PathBuf {
    let d = tmp.path().join("model");
    fs::create_dir_all(d.join("sub")).unwrap();
    fs::write(d.join("model.onnx"), vec![3u8; 100_000]).unwrap();
    fs::write(d.join("inference.yml"), b"PreProcess: {}\n").unwrap();
    fs::write(d.join("sub/labels.txt"), b"a\nb\n").unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn keygen_prints_or_writes_a_private_file_once() {
    let (code, out, _) = run(&mut modelseal(&["keygen"]));
    assert_eq!(code, 0);
    assert_eq!(out.trim().len(), 44);
    let (_, out2, _) = run(&mut modelseal(&["keygen"]));
    assert_ne!(out, out2);
    let tmp = TempDir::new().unwrap();
    let k = tmp.path().join("key");
    let (code, out, _) = run(&mut modelseal(&["keygen", "--out", s(&k)]));
    assert_eq!((code, out.as_str()), (0, ""));
    let first = fs::read_to_string(&k).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&k).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let (code, _, err) = run(&mut modelseal(&["keygen", "--out", s(&k)]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(fs::read_to_string(&k).unwrap(), first);
}

#[test]
fn encrypt_without_a_key_prints_a_new_one_once_on_stdout() {
    let tmp = TempDir::new().unwrap();
    let m = model(&tmp);
    let o = tmp.path().join("sealed");
    let (code, out, err) = run(&mut modelseal(&[
        "encrypt",
        "--model-dir",
        s(&m),
        "--save-dir",
        s(&o),
    ]));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "stdout must hold only the key: {out}");
    assert_eq!(lines[0].len(), 44);
    assert!(
        !err.contains(lines[0]),
        "the key must not also go to stderr"
    );
    let (code, out, err) =
        run(modelseal(&["verify", "--model-dir", s(&o)]).env("MODELSEAL_KEY", lines[0]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("OK")).count(),
        3,
        "{out}"
    );
    assert!(
        !err.contains("warning"),
        "no argv warning for the environment variable: {err}"
    );
}

#[test]
fn key_sources_follow_file_env_argument_order() {
    let tmp = TempDir::new().unwrap();
    let m = model(&tmp);
    let o = tmp.path().join("sealed");
    let kf = tmp.path().join("k");
    fs::write(&kf, format!("{KAT_KEY}\n")).unwrap();
    let (code, out, err) = run(&mut modelseal(&[
        "encrypt",
        "--model-dir",
        s(&m),
        "--save-dir",
        s(&o),
        "--key-file",
        s(&kf),
    ]));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    // File wins over environment and argument.
    let (code, _, err) = run(modelseal(&[
        "verify",
        "--model-dir",
        s(&o),
        "--key-file",
        s(&kf),
        "--key",
        other,
    ])
    .env("MODELSEAL_KEY", other));
    assert_eq!(code, 0, "{err}");
    // Environment wins over the argument.
    let (code, _, _) =
        run(modelseal(&["verify", "--model-dir", s(&o), "--key", other])
            .env("MODELSEAL_KEY", KAT_KEY));
    assert_eq!(code, 0);
    let (code, _, err) = run(
        modelseal(&["verify", "--model-dir", s(&o), "--key", KAT_KEY]).env("MODELSEAL_KEY", other),
    );
    assert_eq!(code, 4, "{err}");
    // The argument alone works, with a warning.
    let (code, _, err) = run(&mut modelseal(&[
        "verify",
        "--model-dir",
        s(&o),
        "--key",
        KAT_KEY,
    ]));
    assert_eq!(code, 0);
    assert!(
        err.contains("warning: --key puts the key on the command line"),
        "{err}"
    );
    // stdin.
    let mut c = modelseal(&["verify", "--model-dir", s(&o), "--key-file", "-"]);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), KAT_KEY.as_bytes()).unwrap();
    drop(child.stdin.take());
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(0));
    // stdin read without its process-wide buffer: a pipe fed in pieces, a file redirected to it,
    // and an endless stream refused at the bound, naming standard input.
    let stdin_key = |feed: Box<dyn FnOnce(std::process::ChildStdin) + Send>| {
        let mut c = modelseal(&["verify", "--model-dir", s(&o), "--key-file", "-"]);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let input = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || feed(input));
        let out = child.wait_with_output().unwrap();
        let _ = writer.join();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = stdin_key(Box::new(|mut w| {
        use std::io::Write;
        for piece in [&KAT_KEY[..10], &KAT_KEY[10..30], &KAT_KEY[30..], "\n"] {
            let _ = w.write_all(piece.as_bytes());
            let _ = w.flush();
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }));
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = stdin_key(Box::new(|mut w| {
        use std::io::Write;
        let _ = w.write_all(&vec![b'A'; 1 << 20]);
    }));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("standard input") && err.contains("longer than a key"),
        "{err}"
    );
    let key_copy = tmp.path().join("key-for-stdin");
    fs::write(&key_copy, format!("{KAT_KEY}\n")).unwrap();
    let (code, _, err) = run(
        modelseal(&["verify", "--model-dir", s(&o), "--key-file", "-"])
            .stdin(fs::File::open(&key_copy).unwrap()),
    );
    assert_eq!(code, 0, "{err}");
    // An empty key file is an error, not a fall-through to the next source.
    let (code, _, err) =
        run(
            modelseal(&["verify", "--model-dir", s(&o), "--key-file", "/dev/null"])
                .env("MODELSEAL_KEY", KAT_KEY),
        );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("invalid key from key file /dev/null: the key is empty"),
        "{err}"
    );
    // Bad keys from any source are refused with a clear message naming the source and the usage exit code.
    for bad in ["MTIz", "!!!!"] {
        let (code, _, err) = run(&mut modelseal(&[
            "verify",
            "--model-dir",
            s(&o),
            "--key",
            bad,
        ]));
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains("invalid key from --key"), "{err}");
        let (code, _, err) =
            run(modelseal(&["verify", "--model-dir", s(&o)]).env("MODELSEAL_KEY", bad));
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(
            err.contains("invalid key from environment variable MODELSEAL_KEY"),
            "{err}"
        );
    }
    let (code, _, err) = run(&mut modelseal(&["verify", "--model-dir", s(&o)]));
    assert_eq!(code, 2);
    assert!(err.contains("a key is required"), "{err}");
}

#[test]
fn exit_codes_tell_failures_apart() {
    let tmp = TempDir::new().unwrap();
    let m = model(&tmp);
    let o = tmp.path().join("sealed");
    let kf = tmp.path().join("k");
    fs::write(&kf, KAT_KEY).unwrap();
    assert_eq!(
        run(&mut modelseal(&[
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
    assert_eq!(run(&mut modelseal(&["encrypt", "--bogus"])).0, 2);
    let (code, _, err) = run(&mut modelseal(&[
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
    let (code, _, err) = run(&mut modelseal(&[
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
    assert_eq!(run(&mut modelseal(&["keygen", "--out", s(&wrong)])).0, 0);
    let (code, _, err) = run(&mut modelseal(&[
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
        run(&mut modelseal(&[
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
        run(&mut modelseal(&[
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
    let (code, out, err) = run(&mut modelseal(&[
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
    let (code, _, err) = run(&mut modelseal(&[
        "verify",
        "--model-dir",
        s(&o),
        "--key-file",
        s(&kf),
    ]));
    assert_eq!(code, 5, "{err}");
    // --help documents the exit codes.
    let (code, out, _) = run(&mut modelseal(&["--help"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("Exit codes:") && out.contains("4  wrong key") && out.contains("5  integrity"),
        "{out}"
    );
}

#[test]
fn inspect_decrypt_and_rekey() {
    let tmp = TempDir::new().unwrap();
    let m = model(&tmp);
    let kf = tmp.path().join("k");
    fs::write(&kf, KAT_KEY).unwrap();
    let v1 = tmp.path().join("v1");
    let (code, _, err) = run(&mut modelseal(&[
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
    let (code, out, _) = run(&mut modelseal(&["inspect", s(&v1)]));
    assert_eq!(code, 0);
    assert!(out.contains("model.onnx.encrypted: PaddleX v1"), "{out}");
    // Re-key v1 -> v2 under a generated key, printed once.
    let v2 = tmp.path().join("v2");
    let (code, out, err) = run(&mut modelseal(&[
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
    let (code, out, _) = run(&mut modelseal(&["inspect", s(&v2)]));
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
    let (code, _, err) = run(&mut modelseal(&[
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
    let (code, _, err) = run(&mut modelseal(&[
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
        run(&mut modelseal(&[
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
    let (code, _, err) = run(&mut modelseal(&[
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
    let m = model(&tmp);
    fs::write(m.join("zz.bin"), b"x").unwrap();
    fs::write(m.join("modelseal.manifest"), b"x").unwrap();
    let o = tmp.path().join("out");
    let (code, _, err) = run(&mut modelseal(&[
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

#[test]
fn paddle_encrypt_tool_accepts_paddlex_forms() {
    let tmp = TempDir::new().unwrap();
    let m = model(&tmp);
    let (code, out, _) = run(&mut tool(&["-g"]));
    assert_eq!(code, 0);
    let key = out
        .strip_prefix("Generate key success: \n\t")
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(key.len(), 44);

    let o1 = tmp.path().join("o1");
    let (code, out, err) = run(&mut tool(&["-model_dir", s(&m), "-save_dir", s(&o1)]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Output: Encryption key: \n\t"), "{out}");
    let gen = out.lines().nth(1).unwrap().trim().to_string();
    assert!(
        out.contains(&format!("to {}(dir) success!", o1.display())),
        "{out}"
    );
    assert_eq!(
        run(modelseal(&["verify", "--model-dir", s(&o1)]).env("MODELSEAL_KEY", &gen)).0,
        0
    );

    let o2 = tmp.path().join("o2");
    let (code, out, err) = run(&mut tool(&[
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
        run(modelseal(&["verify", "--model-dir", s(&o2)]).env("MODELSEAL_KEY", &key)).0,
        0
    );

    let o3 = tmp.path().join("o3");
    let (code, _, err) = run(&mut tool(&[
        &format!("--key={key}"),
        &format!("--model_dir={}", s(&m)),
        &format!("--save_dir={}", s(&o3)),
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        run(modelseal(&["verify", "--model-dir", s(&o3)]).env("MODELSEAL_KEY", &key)).0,
        0
    );

    // Single file, v1 output byte-exact with PaddleX's known answer (bytes 0..71 and 135..).
    let hello = tmp.path().join("hello.txt");
    fs::write(&hello, b"hello world !").unwrap();
    let enc = tmp.path().join("hello.encrypted");
    let (code, out, err) = run(&mut tool(&[
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
        run(&mut tool(&[
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
    let (code, _, err) = run(&mut tool(&[
        "-model_dir",
        "/nonexistent",
        "-save_dir",
        s(&tmp.path().join("o4")),
    ]));
    assert_eq!(code, 3);
    assert!(err.contains("errorcode = 106"), "{err}");
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let (code, _, err) = run(&mut tool(&[
        "-model_dir",
        s(&empty),
        "-save_dir",
        s(&tmp.path().join("o5")),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("errorcode = 107"), "{err}");
    let (code, _, err) = run(&mut tool(&[
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
    let (code, _, err) = run(&mut tool(&["-bogus"]));
    assert_eq!(code, 2);
    assert!(err.contains("unknown flag"), "{err}");
    let (code, out, _) = run(&mut tool(&["-h"]));
    assert_eq!(code, 0);
    assert!(out.contains("*** paddle_encrypt_tool Usage ***"));
}
