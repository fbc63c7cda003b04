//! The conventions users of well-liked command-line tools expect: `--version` everywhere, shell
//! completions and man pages from the clap definitions, `help <subcommand>`, the `_FILE` key
//! variable, `-v`/`-q` logging.

mod support;

use std::fs;
use std::path::PathBuf;

use support::{
    command, keygen, run, run_env, stderr, stdout, CLASSIFIER, DETECTOR, ENCRYPT_TOOL, MODELSEAL,
    SEGMENTER,
};

const BINARIES: [&str; 5] = [MODELSEAL, CLASSIFIER, DETECTOR, SEGMENTER, ENCRYPT_TOOL];

#[test]
fn every_binary_prints_its_version() {
    let tmp = tempfile::tempdir().unwrap();
    for bin in BINARIES {
        let o = run(bin, &["--version"], tmp.path());
        assert!(o.status.success(), "{bin}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains(env!("CARGO_PKG_VERSION")), "{bin}: {out}");
        let name = std::path::Path::new(bin)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        assert!(out.starts_with(name), "{bin}: {out}");
    }
}

#[test]
fn completions_for_every_shell() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = run(MODELSEAL, &["completions", shell], tmp.path());
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let out = stdout(&o);
        for word in [
            "encrypt",
            "verify",
            "classify",
            "allow-paddlex-v1",
            "seal-id",
        ] {
            assert!(out.contains(word), "{shell} completion lacks {word}");
        }
    }
    // The bash script is valid bash.
    let o = run(MODELSEAL, &["completions", "bash"], tmp.path());
    let script = tmp.path().join("modelseal.bash");
    fs::write(&script, &o.stdout).unwrap();
    let check = run("bash", &["-n", script.to_str().unwrap()], tmp.path());
    assert!(check.status.success(), "{}", stderr(&check));
    let o = run(MODELSEAL, &["completions", "tcsh"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn man_pages_for_the_command_and_its_subcommands() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man");
    let o = run(
        MODELSEAL,
        &["man", "--out-dir", dir.to_str().unwrap()],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for page in [
        "modelseal.1",
        "modelseal-encrypt.1",
        "modelseal-classify.1",
        "modelseal-verify.1",
    ] {
        let text = fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page} is not a man page");
    }
    let classify = fs::read_to_string(dir.join("modelseal-classify.1")).unwrap();
    assert!(
        classify.contains("model_dir") && classify.contains("seal\\-id"),
        "{classify}"
    );
}

#[test]
fn help_shows_a_subcommands_flags() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [&["help", "classify"][..], &["classify", "--help"][..]] {
        let o = run(MODELSEAL, args, tmp.path());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let out = stdout(&o);
        for flag in [
            "--model_dir",
            "--image_list",
            "--allow-paddlex-v1",
            "--seal-id",
            "--output-format",
            "Exit codes",
        ] {
            assert!(out.contains(flag), "{args:?}: no {flag} in {out}");
        }
    }
}

#[test]
fn the_key_file_variable_comes_after_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    fs::create_dir(&model).unwrap();
    fs::write(model.join("model.onnx"), b"onnx").unwrap();
    let k1 = PathBuf::from(keygen(tmp.path(), "k1"));
    let k2 = PathBuf::from(keygen(tmp.path(), "k2"));
    let sealed = tmp.path().join("sealed");
    let o = run_env(
        MODELSEAL,
        &[
            "encrypt",
            "--model-dir",
            model.to_str().unwrap(),
            "--save-dir",
            sealed.to_str().unwrap(),
        ],
        tmp.path(),
        &[("MODELSEAL_KEY_FILE", k1.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).is_empty(),
        "no key generated and printed: {}",
        stdout(&o)
    );
    let verify = |env_file: &std::path::Path, flag: Option<&std::path::Path>| {
        let mut args = vec!["verify", "--model-dir", sealed.to_str().unwrap()];
        if let Some(f) = flag {
            args.extend_from_slice(&["--key-file", f.to_str().unwrap()]);
        }
        run_env(
            MODELSEAL,
            &args,
            tmp.path(),
            &[("MODELSEAL_KEY_FILE", env_file.to_str().unwrap())],
        )
        .status
        .code()
    };
    assert_eq!(verify(&k1, None), Some(0));
    assert_eq!(verify(&k2, None), Some(4), "the variable's key is used");
    assert_eq!(verify(&k2, Some(&k1)), Some(0), "--key-file comes first");
    let missing = tmp.path().join("missing");
    assert_eq!(
        verify(&missing, None),
        Some(3),
        "a missing key file is an I/O error"
    );
    // MODELSEAL_KEY_FILE comes before MODELSEAL_KEY.
    let k2_text = fs::read_to_string(&k2).unwrap();
    let o = run_env(
        MODELSEAL,
        &["verify", "--model-dir", sealed.to_str().unwrap()],
        tmp.path(),
        &[
            ("MODELSEAL_KEY_FILE", k1.to_str().unwrap()),
            ("MODELSEAL_KEY", k2_text.trim()),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn verbose_logs_and_quiet_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    fs::create_dir(&model).unwrap();
    fs::write(model.join("model.onnx"), b"onnx").unwrap();
    let key = PathBuf::from(keygen(tmp.path(), "k"));
    let seal = |extra: &str, out: &str| {
        let out = tmp.path().join(out);
        command(
            MODELSEAL,
            &[
                extra,
                "encrypt",
                "--model-dir",
                model.to_str().unwrap(),
                "--save-dir",
                out.to_str().unwrap(),
                "--key-file",
                key.to_str().unwrap(),
            ],
        )
        .env_remove("RUST_LOG")
        .current_dir(tmp.path())
        .output()
        .unwrap()
    };
    let loud = seal("-v", "a");
    assert!(loud.status.success());
    assert!(
        stderr(&loud).contains("INFO") && stderr(&loud).contains("sealing"),
        "{}",
        stderr(&loud)
    );
    let key_text = fs::read_to_string(&key).unwrap();
    assert!(
        !stderr(&loud).contains(key_text.trim()),
        "no key material in logs"
    );
    let quiet = seal("-q", "b");
    assert!(quiet.status.success());
    assert!(!stderr(&quiet).contains("INFO"), "{}", stderr(&quiet));
}
