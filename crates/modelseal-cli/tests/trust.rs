//! The open policy as the deploy tools show it: with a key only the sealing runs; PaddleX v1 only
//! with --allow-paddlex-v1 (on every deploy command) and with its model files encrypted; a pinned
//! sealing id refuses an older sealing.

mod support;

use std::fs;
use std::path::Path;

use support::{
    keygen, models, run, run_env, seal, stderr, stdout, verify, CLASSIFIER, DETECTOR, MODELSEAL,
    SEGMENTER,
};

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
    let o = verify(dir, key);
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

#[test]
fn paddlex_v1_needs_the_opt_in_on_every_deploy_command() {
    let Some(m) = models() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "key");
    let mut sealed = Vec::new();
    for model in ["cls", "layout", "det_db"] {
        let v1 = tmp.path().join(format!("{model}-v1"));
        seal(&m.join(model), &v1, &key, &["--format", "paddlex-v1"]);
        sealed.push(v1);
    }
    let (cls, layout, det_db) = (&sealed[0], &sealed[1], &sealed[2]);
    let text = m.join("images/text.png");
    let page = m.join("images/page.png");
    let out = tmp.path().join("out");
    // (binary, leading arguments, model directory, image, what its output shows)
    let cases: [(&str, &[&str], &Path, &Path, &str); 5] = [
        (MODELSEAL, &["classify"], cls, &text, "Predict label: "),
        (MODELSEAL, &["detect"], layout, &page, "predict label: "),
        (
            MODELSEAL,
            &["segment"],
            det_db,
            &text,
            "Visualized output saved as",
        ),
        (DETECTOR, &[], layout, &page, "predict label: "),
        (SEGMENTER, &[], det_db, &text, "Visualized output saved as"),
    ];
    for (bin, lead, dir, image, shows) in cases {
        let mut args: Vec<&str> = lead.to_vec();
        args.extend_from_slice(&[
            "--model_dir",
            dir.to_str().unwrap(),
            "--image",
            image.to_str().unwrap(),
            "--save_dir",
            out.to_str().unwrap(),
            "--key-file",
            &key,
        ]);
        let what = format!(
            "{} {lead:?}",
            Path::new(bin).file_name().unwrap().to_string_lossy()
        );
        let o = run(bin, &args, tmp.path());
        assert_eq!(o.status.code(), Some(6), "{what}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("modelseal rekey") && err.contains("--allow-paddlex-v1"),
            "{what}: names both ways out: {err}"
        );
        assert!(
            stdout(&o).is_empty(),
            "{what}: no result without the opt-in"
        );
        args.push("--allow-paddlex-v1");
        let o = run(bin, &args, tmp.path());
        assert!(o.status.success(), "{what}: {}", stderr(&o));
        assert!(stdout(&o).contains(shows), "{what}: {}", stdout(&o));
        assert_eq!(
            stderr(&o).matches("PaddleX v1").count(),
            1,
            "{what}: warned once: {}",
            stderr(&o)
        );
    }
}
