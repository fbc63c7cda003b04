//! Sealing from the command line: links out of the tree refused unless followed, and --force
//! replacing only earlier sealings, never a directory of other files or a decoy.

mod support;

use std::fs;
use std::path::Path;

use support::{keygen, run, stderr, verify, MODELSEAL};

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
        let o = verify(&dst, &key);
        assert!(o.status.success(), "{format}: {}", stderr(&o));
    }
}
