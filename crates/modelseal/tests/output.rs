//! Sealing output is atomic and non-destructive: a failed sealing leaves nothing, inputs are never
//! touched, an existing output is replaced only when it is an earlier sealing and `force` is
//! given; empty and unsealable sources give clear errors.

mod support;

use modelseal::{seal_dir, ErrorKind, Key, OutputFormat, SealOptions};
use std::fs;
use support::{flip_last_byte, leftovers, make_dir, open_all, open_dir, opts, seal};
use tempfile::TempDir;

#[test]
fn output_is_atomic_and_inputs_are_never_touched() {
    let tmp = TempDir::new().unwrap();
    let key = Key::generate().unwrap();
    // A member name that cannot be one is refused before anything is written.
    let src = tmp.path().join("m");
    make_dir(&src, &[("a.onnx", 100000), ("modelseal.manifest", 10)]);
    let dst = tmp.path().join("out");
    let err = seal(&key, &src, &dst, &opts(12)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    assert!(err.to_string().contains("modelseal.manifest"), "{err}");
    assert!(!dst.exists());
    // Fails after a member was written (re-keying a directory whose second member is damaged):
    // nothing is left behind.
    let v1src = tmp.path().join("v1src");
    make_dir(
        &v1src,
        &[("__model__", 5000), ("__params__", 9000), ("model.yml", 10)],
    );
    let v1 = tmp.path().join("v1");
    let o = SealOptions {
        format: OutputFormat::PaddleV1,
        ..opts(12)
    };
    seal(&key, &v1src, &v1, &o).unwrap();
    flip_last_byte(&v1.join("__params__.encrypted"), 1);
    let err = seal_dir(
        &key,
        &open_dir(&v1, Some(&key)).unwrap(),
        &dst,
        &opts(12),
        &|_| {},
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    assert!(!dst.exists());
    assert!(
        leftovers(tmp.path()).is_empty(),
        "{:?}",
        leftovers(tmp.path())
    );

    let src2 = tmp.path().join("m2");
    make_dir(&src2, &[("model.onnx", 1000)]);
    let before = fs::read(src2.join("model.onnx")).unwrap();
    for bad in [src2.clone(), src2.join("out"), src2.join("a/b/c")] {
        let err = seal(&key, &src2, &bad, &opts(12)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage, "{}: {err}", bad.display());
        assert!(err.to_string().contains(&*bad.to_string_lossy()), "{err}");
    }
    assert!(
        !src2.join("a").exists(),
        "a refused output created directories inside the input"
    );
    assert_eq!(fs::read_dir(&src2).unwrap().count(), 1);
    assert_eq!(fs::read(src2.join("model.onnx")).unwrap(), before);

    // Existing non-empty output that is not a sealing: refused, with force too.
    let out = tmp.path().join("o");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("keep"), b"x").unwrap();
    for force in [false, true] {
        let o = SealOptions { force, ..opts(12) };
        let err = seal(&key, &src2, &out, &o).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert_eq!(fs::read(out.join("keep")).unwrap(), b"x");
    }
    // An earlier sealing: refused without force, replaced with force.
    fs::remove_file(out.join("keep")).unwrap();
    seal(&key, &src2, &out, &opts(12)).unwrap();
    let first = open_dir(&out, Some(&key)).unwrap().seal_id();
    let err = seal(&key, &src2, &out, &opts(12)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    seal(
        &key,
        &src2,
        &out,
        &SealOptions {
            force: true,
            ..opts(12)
        },
    )
    .unwrap();
    assert_ne!(open_dir(&out, Some(&key)).unwrap().seal_id(), first);
    assert_eq!(open_all(&out, &key).unwrap().len(), 1);
    assert!(leftovers(tmp.path()).is_empty());
    // An empty existing output directory is fine without force.
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    seal(&key, &src2, &empty, &opts(12)).unwrap();

    // With force, an output that contains the input is refused (it would delete the input).
    let outer = tmp.path().join("outer");
    let inner = outer.join("inner");
    make_dir(&inner, &[("model.onnx", 10)]);
    let err = seal(
        &key,
        &inner,
        &outer,
        &SealOptions {
            force: true,
            ..opts(12)
        },
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert!(inner.join("model.onnx").exists());
}

#[test]
fn empty_and_unsealable_sources_give_clear_errors() {
    let tmp = TempDir::new().unwrap();
    let key = Key::generate().unwrap();
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let err = seal(&key, &empty, &tmp.path().join("o"), &opts(12)).unwrap_err();
    assert!(err.to_string().contains("no files"), "{err}");
    let missing = tmp.path().join("missing");
    let err = open_dir(&missing, None).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().contains("missing"), "{err}");
    #[cfg(unix)]
    {
        let src = tmp.path().join("fifo");
        fs::create_dir(&src).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(src.join("pipe"))
            .status()
            .unwrap();
        assert!(status.success());
        let err = open_dir(&src, None).err().unwrap();
        assert!(
            err.to_string().contains("pipe") && err.to_string().contains("not a regular file"),
            "{err}"
        );
    }
}
