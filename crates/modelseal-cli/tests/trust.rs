//! The trust boundary as the command-line tools show it: with a key only the sealing runs; PaddleX
//! v1 only with --allow-paddlex-v1; a pinned sealing id; links and --force when sealing; the key
//! variable kept from child processes; the deploy tools non-dumpable.

mod support;

use std::fs;
use std::path::Path;

use support::{models, run, run_env, stderr, stdout};

const MODELSEAL: &str = env!("CARGO_BIN_EXE_modelseal");
const CLASSIFIER: &str = env!("CARGO_BIN_EXE_classifier");

fn keygen(dir: &Path, name: &str) -> String {
    let p = dir.join(name);
    let o = run(MODELSEAL, &["keygen", "--out", p.to_str().unwrap()], dir);
    assert!(o.status.success(), "{}", stderr(&o));
    p.display().to_string()
}

fn seal(src: &Path, dst: &Path, key: &str, extra: &[&str]) {
    let mut args = vec![
        "encrypt",
        "--model-dir",
        src.to_str().unwrap(),
        "--save-dir",
        dst.to_str().unwrap(),
        "--key-file",
        key,
    ];
    args.extend_from_slice(extra);
    let o = run(MODELSEAL, &args, src.parent().unwrap());
    assert!(o.status.success(), "{}", stderr(&o));
}

fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
}

#[test]
fn a_plain_directory_does_not_run_when_a_key_is_given() {
    let Some(m) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "key");
    let img = m.join("images/text.png");
    let cls = m.join("cls");
    // Without a key, the plain model runs (unencrypted deployment).
    let o = run(
        CLASSIFIER,
        &[
            "--model_dir",
            cls.to_str().unwrap(),
            "--image",
            img.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // With a key from a file, or from MODELSEAL_KEY, the same directory is refused.
    let o = run(
        CLASSIFIER,
        &[
            "--model_dir",
            cls.to_str().unwrap(),
            "--image",
            img.to_str().unwrap(),
            "--key-file",
            &key,
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(stderr(&o).contains("not sealed"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "no prediction: {}", stdout(&o));
    let key_text = fs::read_to_string(&key).unwrap();
    let o = run_env(
        CLASSIFIER,
        &[
            "--model_dir",
            cls.to_str().unwrap(),
            "--image",
            img.to_str().unwrap(),
        ],
        tmp.path(),
        &[("MODELSEAL_KEY", key_text.trim())],
    );
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    // A decoy file starting with PADDLE1 does not make it a sealing.
    let decoy = tmp.path().join("decoy");
    copy_dir(&cls, &decoy);
    fs::write(decoy.join("x.encrypted"), b"PADDLE1").unwrap();
    for extra in [&[][..], &["--allow-paddlex-v1"][..]] {
        let mut args = vec![
            "--model_dir",
            decoy.to_str().unwrap(),
            "--image",
            img.to_str().unwrap(),
            "--key-file",
            &key,
        ];
        args.extend_from_slice(extra);
        let o = run(CLASSIFIER, &args, tmp.path());
        assert_eq!(o.status.code(), Some(6), "{extra:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn paddlex_v1_needs_the_opt_in_and_encrypted_model_files() {
    let Some(m) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "key");
    let img = m.join("images/text.png");
    let v1 = tmp.path().join("v1");
    seal(&m.join("cls"), &v1, &key, &["--format", "paddlex-v1"]);
    let base = [
        "--model_dir",
        v1.to_str().unwrap(),
        "--image",
        img.to_str().unwrap(),
        "--key-file",
        &key,
    ];
    let o = run(CLASSIFIER, &base, tmp.path());
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("modelseal rekey") && err.contains("--allow-paddlex-v1"),
        "names both ways out: {err}"
    );
    let mut args = base.to_vec();
    args.push("--allow-paddlex-v1");
    let o = run(CLASSIFIER, &args, tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("Predict label: "));
    assert_eq!(
        stderr(&o).matches("PaddleX v1").count(),
        1,
        "warned once: {}",
        stderr(&o)
    );
    // verify follows the same rule.
    let o = run(
        MODELSEAL,
        &[
            "verify",
            "--model-dir",
            v1.to_str().unwrap(),
            "--key-file",
            &key,
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let o = run(
        MODELSEAL,
        &[
            "verify",
            "--model-dir",
            v1.to_str().unwrap(),
            "--key-file",
            &key,
            "--allow-paddlex-v1",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // A plain model file in a v1 directory is refused even with the opt-in.
    fs::remove_file(v1.join("model.onnx.encrypted")).unwrap();
    fs::copy(m.join("cls/model.onnx"), v1.join("model.onnx")).unwrap();
    let o = run(CLASSIFIER, &args, tmp.path());
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(stderr(&o).contains("model.onnx"), "{}", stderr(&o));
    // rekey migrates v1 without the flag.
    let v1b = tmp.path().join("v1b");
    seal(&m.join("cls"), &v1b, &key, &["--format", "paddlex-v1"]);
    let v2 = tmp.path().join("v2");
    let new_key = keygen(tmp.path(), "new");
    let o = run(
        MODELSEAL,
        &[
            "rekey",
            "--model-dir",
            v1b.to_str().unwrap(),
            "--save-dir",
            v2.to_str().unwrap(),
            "--key-file",
            &key,
            "--new-key-file",
            &new_key,
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(
        CLASSIFIER,
        &[
            "--model_dir",
            v2.to_str().unwrap(),
            "--image",
            img.to_str().unwrap(),
            "--key-file",
            &new_key,
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

fn seal_id_of(dir: &Path, key: &str) -> String {
    let o = run(
        MODELSEAL,
        &[
            "verify",
            "--model-dir",
            dir.to_str().unwrap(),
            "--key-file",
            key,
        ],
        dir.parent().unwrap(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("sealing id: "))
        .unwrap_or_else(|| panic!("no sealing id line: {out}"));
    assert_eq!(line.len(), 32);
    line.to_string()
}

#[test]
fn a_pinned_sealing_id_refuses_an_older_sealing() {
    let Some(m) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "key");
    let img = m.join("images/text.png");
    let old = tmp.path().join("old");
    let new = tmp.path().join("new");
    seal(&m.join("cls"), &old, &key, &[]);
    seal(&m.join("cls"), &new, &key, &[]);
    let id = seal_id_of(&new, &key);
    assert_ne!(id, seal_id_of(&old, &key));
    let args = |dir: &Path| {
        vec![
            "--model_dir".to_string(),
            dir.display().to_string(),
            "--image".into(),
            img.display().to_string(),
            "--key-file".into(),
            key.clone(),
        ]
    };
    let pinned = |dir: &Path, how: &str| {
        let mut a = args(dir);
        let mut env = Vec::new();
        if how == "flag" {
            a.push("--seal-id".into());
            a.push(id.clone());
        } else {
            env.push(("MODELSEAL_SEAL_ID", id.as_str()));
        }
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run_env(CLASSIFIER, &a, tmp.path(), &env)
    };
    for how in ["flag", "env"] {
        let o = pinned(&new, how);
        assert!(o.status.success(), "{how}: {}", stderr(&o));
        let o = pinned(&old, how);
        assert_eq!(o.status.code(), Some(5), "{how}: {}", stderr(&o));
        assert!(stderr(&o).contains(&id), "{}", stderr(&o));
    }
    // Unpinned, the older sealing runs: the key alone cannot tell sealings apart.
    let a = args(&old);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    assert!(run(CLASSIFIER, &a, tmp.path()).status.success());
    // A malformed id is a usage error.
    let mut bad = args(&new);
    bad.push("--seal-id".into());
    bad.push("xyz".into());
    let bad: Vec<&str> = bad.iter().map(String::as_str).collect();
    assert_eq!(run(CLASSIFIER, &bad, tmp.path()).status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn sealing_refuses_links_out_of_the_tree_and_foreign_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "key");
    let src = tmp.path().join("model");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("model.onnx"), b"onnx").unwrap();
    fs::write(tmp.path().join("secret.txt"), b"outside").unwrap();
    std::os::unix::fs::symlink(tmp.path().join("secret.txt"), src.join("notes.txt")).unwrap();
    let out = tmp.path().join("sealed");
    let args = [
        "encrypt",
        "--model-dir",
        src.to_str().unwrap(),
        "--save-dir",
        out.to_str().unwrap(),
        "--key-file",
        &key,
    ];
    let o = run(MODELSEAL, &args, tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("notes.txt"),
        "names the link: {}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--follow-symlinks"), "{}", stderr(&o));
    assert!(!out.exists());
    let mut follow = args.to_vec();
    follow.push("--follow-symlinks");
    assert!(run(MODELSEAL, &follow, tmp.path()).status.success());
    // --force replaces the earlier sealing...
    let mut force = follow.clone();
    force.push("--force");
    let o = run(MODELSEAL, &force, tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    // ...but never a directory of other files.
    let foreign = tmp.path().join("foreign");
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("thesis.tex"), b"years").unwrap();
    let mut onto = force.clone();
    onto[4] = foreign.to_str().unwrap();
    let o = run(MODELSEAL, &onto, tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(fs::read(foreign.join("thesis.tex")).unwrap(), b"years");
    // Nor through a link to an earlier sealing.
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&out, &link).unwrap();
    onto[4] = link.to_str().unwrap();
    let o = run(MODELSEAL, &onto, tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
}

#[test]
fn the_key_variable_never_reaches_a_child_process() {
    let Some(m) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "key");
    let key_text = fs::read_to_string(&key).unwrap();
    let sealed = tmp.path().join("sealed");
    seal(&m.join("cls"), &sealed, &key, &[]);
    // A stand-in Python that records its environment: the ONNX Runtime lookup asks Python last.
    let dump = tmp.path().join("env.txt");
    let fake = tmp.path().join("python");
    fs::write(&fake, format!("#!/bin/sh\nenv > '{}'\n", dump.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let img = m.join("images/text.png");
    let o = support::run_env_without(
        CLASSIFIER,
        &[
            "--model_dir",
            sealed.to_str().unwrap(),
            "--image",
            img.to_str().unwrap(),
            "--backend",
            "auto",
        ],
        tmp.path(),
        &[
            ("MODELSEAL_KEY", key_text.trim()),
            ("PYTHON", fake.to_str().unwrap()),
            ("RUST_LOG", "debug"),
        ],
        &["ORT_DYLIB_PATH"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let env = fs::read_to_string(&dump).expect("the lookup ran the stand-in Python");
    assert!(!env.contains("MODELSEAL_KEY"), "{env}");
    assert!(
        !env.contains(key_text.trim()),
        "the key text leaked to a child"
    );
    assert!(
        stderr(&o).contains("process is not dumpable"),
        "the kernel reports the process non-dumpable: {}",
        stderr(&o)
    );
}
