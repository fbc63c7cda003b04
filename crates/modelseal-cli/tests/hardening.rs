//! Process hardening as the tools show it: the key variable never reaches a child process, and
//! every `modelseal` command, deploy subcommands after global flags included, is made
//! non-dumpable (seen by strace) before it reads or writes a key.

mod support;

use std::fs;
use std::path::Path;

use support::{have_strace, keygen, models, run, seal, stderr, stdout, CLASSIFIER, MODELSEAL};

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
