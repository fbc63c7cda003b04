//! Keys on the command line: `keygen`, the key printed once when none is given, and the order of
//! the key sources (`--key-file`, standard input, `MODELSEAL_KEY`, `--key`) with their errors.

mod support;

use std::fs;
use std::process::Stdio;
use support::{exec, modelseal, s, tiny_model, KAT_KEY};
use tempfile::TempDir;

#[test]
fn keygen_prints_or_writes_a_private_file_once() {
    let (code, out, _) = exec(&mut modelseal(&["keygen"]));
    assert_eq!(code, 0);
    assert_eq!(out.trim().len(), 44);
    let (_, out2, _) = exec(&mut modelseal(&["keygen"]));
    assert_ne!(out, out2);
    let tmp = TempDir::new().unwrap();
    let k = tmp.path().join("key");
    let (code, out, _) = exec(&mut modelseal(&["keygen", "--out", s(&k)]));
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
    let (code, _, err) = exec(&mut modelseal(&["keygen", "--out", s(&k)]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(fs::read_to_string(&k).unwrap(), first);
}

#[test]
fn encrypt_without_a_key_prints_a_new_one_once_on_stdout() {
    let tmp = TempDir::new().unwrap();
    let m = tiny_model(tmp.path());
    let o = tmp.path().join("sealed");
    let (code, out, err) = exec(&mut modelseal(&[
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
        exec(modelseal(&["verify", "--model-dir", s(&o)]).env("MODELSEAL_KEY", lines[0]));
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
    let m = tiny_model(tmp.path());
    let o = tmp.path().join("sealed");
    let kf = tmp.path().join("k");
    fs::write(&kf, format!("{KAT_KEY}\n")).unwrap();
    let (code, out, err) = exec(&mut modelseal(&[
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
    let (code, _, err) = exec(
        modelseal(&[
            "verify",
            "--model-dir",
            s(&o),
            "--key-file",
            s(&kf),
            "--key",
            other,
        ])
        .env("MODELSEAL_KEY", other),
    );
    assert_eq!(code, 0, "{err}");
    // Environment wins over the argument.
    let (code, _, _) = exec(
        modelseal(&["verify", "--model-dir", s(&o), "--key", other]).env("MODELSEAL_KEY", KAT_KEY),
    );
    assert_eq!(code, 0);
    let (code, _, err) = exec(
        modelseal(&["verify", "--model-dir", s(&o), "--key", KAT_KEY]).env("MODELSEAL_KEY", other),
    );
    assert_eq!(code, 4, "{err}");
    // The argument alone works, with a warning.
    let (code, _, err) = exec(&mut modelseal(&[
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
    let (code, _, err) = exec(
        modelseal(&["verify", "--model-dir", s(&o), "--key-file", "-"])
            .stdin(fs::File::open(&key_copy).unwrap()),
    );
    assert_eq!(code, 0, "{err}");
    // An empty key file is an error, not a fall-through to the next source.
    let (code, _, err) = exec(
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
        let (code, _, err) = exec(&mut modelseal(&[
            "verify",
            "--model-dir",
            s(&o),
            "--key",
            bad,
        ]));
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains("invalid key from --key"), "{err}");
        let (code, _, err) =
            exec(modelseal(&["verify", "--model-dir", s(&o)]).env("MODELSEAL_KEY", bad));
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(
            err.contains("invalid key from environment variable MODELSEAL_KEY"),
            "{err}"
        );
    }
    let (code, _, err) = exec(&mut modelseal(&["verify", "--model-dir", s(&o)]));
    assert_eq!(code, 2);
    assert!(err.contains("a key is required"), "{err}");
}
