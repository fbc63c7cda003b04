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

const DETECTOR: &str = env!("CARGO_BIN_EXE_detector");
const SEGMENTER: &str = env!("CARGO_BIN_EXE_segmenter");

/// Runs `bin args` under `strace -f` tracing `prctl` and `openat`; the output and the trace.
fn traced(bin: &str, args: &[&str], cwd: &Path) -> (std::process::Output, String) {
    let trace = cwd.join(format!(
        "trace-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let mut a = vec![
        "-f",
        "-qq",
        "-e",
        "trace=prctl,openat",
        "-e",
        "signal=none",
        "-o",
        trace.to_str().unwrap(),
        bin,
    ];
    a.extend_from_slice(args);
    let o = run("strace", &a, cwd);
    let text = fs::read_to_string(&trace).unwrap_or_default();
    let _ = fs::remove_file(&trace);
    (o, text)
}

/// The index of the trace line that makes the process non-dumpable (it must succeed).
fn dumpable_line(trace: &str) -> Option<usize> {
    trace.lines().position(|l| {
        l.contains("prctl(PR_SET_DUMPABLE, ")
            && (l.contains("SUID_DUMP_DISABLE") || l.contains("PR_SET_DUMPABLE, 0)"))
            && l.trim_end().ends_with("= 0")
    })
}

fn have_strace() -> bool {
    support::need(
        std::process::Command::new("strace")
            .arg("-V")
            .output()
            .is_ok(),
        "strace (scripts/setup.sh installs it)",
    )
}

#[test]
fn global_flags_before_the_subcommand_neither_skip_hardening_nor_single_dash_flags() {
    let Some(m) = models() else { return };
    if !have_strace() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let cls = m.join("cls");
    let layout = m.join("layout");
    let det_db = m.join("det_db");
    let text = m.join("images/text.png");
    let page = m.join("images/page.png");
    let (cls, layout, det_db, text, page, out) = (
        cls.to_str().unwrap(),
        layout.to_str().unwrap(),
        det_db.to_str().unwrap(),
        text.to_str().unwrap(),
        page.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let det_db_flag = format!("-model_dir={det_db}");
    let cases: [&[&str]; 5] = [
        &["-v", "classify", "-model_dir", cls, "-image", text],
        &[
            "-q",
            "detect",
            "-model_dir",
            layout,
            "-image",
            page,
            "-save_dir",
            out,
        ],
        &[
            "-vv",
            "segment",
            &det_db_flag,
            "-image",
            text,
            "-save_dir",
            out,
        ],
        &[
            "--quiet",
            "classify",
            "-model_dir",
            cls,
            "-image",
            text,
            "-topk=2",
        ],
        &[
            "-v",
            "-v",
            "classify",
            "-model_dir",
            cls,
            "-image",
            text,
            "-json",
        ],
    ];
    for joined in cases {
        let (o, trace) = traced(MODELSEAL, joined, tmp.path());
        assert!(o.status.success(), "{joined:?}: {}", stderr(&o));
        assert!(
            dumpable_line(&trace).is_some(),
            "{joined:?}: the process was not made non-dumpable:\n{trace}"
        );
        let out_text = stdout(&o);
        let command = joined.iter().find(|a| !a.starts_with('-')).unwrap();
        match *command {
            "classify" if joined.contains(&"-json") => {
                assert!(out_text.trim_start().starts_with('{'), "{out_text}")
            }
            "classify" => assert!(out_text.starts_with("Predict label: "), "{out_text}"),
            "detect" => assert!(
                out_text.contains("Visualized output saved as"),
                "{out_text}"
            ),
            _ => assert!(
                out_text.contains("Visualized output saved as"),
                "{out_text}"
            ),
        }
        if joined.contains(&"-topk=2") {
            assert_eq!(out_text.lines().count(), 2, "-topk=2 was read: {out_text}");
        }
    }
}

#[test]
fn every_modelseal_command_is_non_dumpable_before_it_reads_or_writes_a_key() {
    if !have_strace() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("key");
    let key_s = key.to_str().unwrap();
    let src = tmp.path().join("model");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("model.onnx"), b"onnx").unwrap();
    let sealed = tmp.path().join("sealed");
    let cases: [&[&str]; 4] = [
        &["-v", "keygen", "--out", key_s],
        &[
            "-q",
            "encrypt",
            "--model-dir",
            src.to_str().unwrap(),
            "--save-dir",
            sealed.to_str().unwrap(),
            "--key-file",
            key_s,
        ],
        &[
            "verify",
            "--model-dir",
            sealed.to_str().unwrap(),
            "--key-file",
            key_s,
        ],
        &["--verbose", "inspect", sealed.to_str().unwrap()],
    ];
    for args in cases {
        let (o, trace) = traced(MODELSEAL, args, tmp.path());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let hardened = dumpable_line(&trace)
            .unwrap_or_else(|| panic!("{args:?}: not made non-dumpable:\n{trace}"));
        // The key file (or keygen's temporary file beside it) is opened only afterwards.
        if let Some(opened) = trace.lines().position(|l| {
            l.contains("openat(") && l.contains(tmp.path().to_str().unwrap()) && l.contains("key")
        }) {
            assert!(
                hardened < opened,
                "{args:?}: the key was opened before the process was hardened:\n{trace}"
            );
        } else {
            assert!(
                args.contains(&"inspect"),
                "{args:?}: no key file opened:\n{trace}"
            );
        }
    }
}

#[test]
fn force_never_replaces_a_directory_with_a_decoy_but_replaces_real_earlier_sealings() {
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "key");
    let src = tmp.path().join("model");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("model.onnx"), b"onnx").unwrap();
    fs::write(src.join("inference.yml"), b"Global: {model_name: x}\n").unwrap();
    fs::write(src.join("labels.txt"), b"cat\ndog\n").unwrap();
    let encrypt = |dst: &Path, extra: &[&str]| {
        let mut args = vec![
            "encrypt",
            "--model-dir",
            src.to_str().unwrap(),
            "--save-dir",
            dst.to_str().unwrap(),
            "--key-file",
            &key,
            "--force",
        ];
        args.extend_from_slice(extra);
        run(MODELSEAL, &args, tmp.path())
    };
    // A user's directory: a decoy named like a v1 model that starts with "PADDLE", beside the
    // user's own files.
    let mine = tmp.path().join("mine");
    fs::create_dir_all(mine.join("data")).unwrap();
    let files: [(&str, &[u8]); 3] = [
        ("__model__.encrypted", b"PADDLE: my paddling club's notes"),
        ("thesis.tex", b"years of work"),
        ("data/results.csv", b"1,2,3\n"),
    ];
    for (n, b) in files {
        fs::write(mine.join(n), b).unwrap();
    }
    for extra in [&[][..], &["--format", "paddlex-v1"][..]] {
        let o = encrypt(&mine, extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("not an earlier sealing"),
            "{}",
            stderr(&o)
        );
        for (n, b) in files {
            assert_eq!(fs::read(mine.join(n)).unwrap(), b, "{n} was touched");
        }
        assert_eq!(fs::read_dir(&mine).unwrap().count(), 3, "nothing added");
    }
    // Real earlier sealings, v2 and PaddleX v1, are replaced.
    for format in ["v2", "paddlex-v1"] {
        let dst = tmp.path().join(format!("earlier-{format}"));
        let o = encrypt(&dst, &["--format", format]);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = encrypt(&dst, &[]);
        assert!(o.status.success(), "{format}: {}", stderr(&o));
        let o = run(
            MODELSEAL,
            &[
                "verify",
                "--model-dir",
                dst.to_str().unwrap(),
                "--key-file",
                &key,
            ],
            tmp.path(),
        );
        assert!(o.status.success(), "{format}: {}", stderr(&o));
    }
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
