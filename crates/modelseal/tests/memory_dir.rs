//! Model directories held in memory (`ModelDir::from_members`): member-name rules, sealing them
//! like a directory on disk, and writing them out plain (`write_plain_dir`) under the same output
//! rules, never for a sealed source.

use modelseal::{
    seal_dir, write_plain_dir, ErrorKind, Key, ModelDir, OpenOptions, SealOptions, Secret,
};

fn members(list: &[(&str, &[u8])]) -> Vec<(String, Secret)> {
    list.iter()
        .map(|(n, b)| (n.to_string(), Secret::from_slice(b)))
        .collect()
}

#[test]
fn bad_member_names_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in [
        "",
        "../up",
        "/abs",
        "a/../b",
        "a\\b",
        modelseal::MANIFEST_NAME,
        "./x",
    ] {
        let e = ModelDir::from_members(tmp.path(), members(&[(bad, b"x")]))
            .err()
            .unwrap_or_else(|| panic!("{bad:?} accepted"));
        assert_eq!(e.kind(), ErrorKind::Usage, "{bad:?}: {e}");
    }
    let twice = members(&[("a.onnx", b"1"), ("a.onnx", b"2")]);
    let e = ModelDir::from_members(tmp.path(), twice).unwrap_err();
    assert!(e.to_string().contains("given twice"), "{e}");
}

#[test]
fn a_memory_directory_seals_and_opens_like_one_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = tmp.path().join("origin");
    std::fs::create_dir(&origin).unwrap();
    let dir = ModelDir::from_members(
        &origin,
        members(&[
            ("model.onnx", b"onnx bytes"),
            ("sub/inference.yml", b"Global: {}"),
        ]),
    )
    .unwrap();
    assert!(!dir.is_sealed());
    assert_eq!(dir.names(), vec!["model.onnx", "sub/inference.yml"]);
    assert_eq!(dir.size("model.onnx"), Some(10));
    assert_eq!(dir.member_path("model.onnx"), None);
    assert!(dir.read("absent").is_err());
    let key = Key::generate().unwrap();
    let sealed = tmp.path().join("sealed");
    seal_dir(&key, &dir, &sealed, &SealOptions::default(), &|_| {}).unwrap();
    let opened = OpenOptions::new().key(key).open(&sealed).unwrap();
    assert_eq!(&*opened.read("model.onnx").unwrap(), b"onnx bytes");
    assert_eq!(&*opened.read("sub/inference.yml").unwrap(), b"Global: {}");
    // Sealing into the origin is refused as for a directory on disk.
    let inside = origin.join("out");
    let e = seal_dir(
        &Key::generate().unwrap(),
        &dir,
        &inside,
        &SealOptions::default(),
        &|_| {},
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage, "{e}");
    assert!(!inside.exists());
}

#[test]
fn plain_output_follows_the_output_rules_and_never_takes_a_sealed_source() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = tmp.path().join("origin");
    std::fs::create_dir(&origin).unwrap();
    std::fs::write(origin.join("model.onnx"), b"plain model").unwrap();
    let dir = ModelDir::from_members(
        &origin,
        members(&[("model.onnx", b"converted"), ("labels.txt", b"a\nb\n")]),
    )
    .unwrap();
    let out = tmp.path().join("out");
    assert_eq!(
        write_plain_dir(&dir, &out).unwrap(),
        vec!["labels.txt", "model.onnx"]
    );
    assert_eq!(std::fs::read(out.join("model.onnx")).unwrap(), b"converted");
    assert_eq!(std::fs::read(out.join("labels.txt")).unwrap(), b"a\nb\n");
    // An existing non-empty output is never replaced.
    let e = write_plain_dir(&dir, &out).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage, "{e}");
    assert_eq!(std::fs::read(out.join("model.onnx")).unwrap(), b"converted");
    // Inside the origin: refused, nothing written.
    let e = write_plain_dir(&dir, &origin.join("x")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Usage, "{e}");
    assert!(!origin.join("x").exists());
    // A sealed source: refused, nothing written.
    let key = Key::generate().unwrap();
    let sealed = tmp.path().join("sealed");
    seal_dir(
        &key,
        &OpenOptions::new().open(&origin).unwrap(),
        &sealed,
        &SealOptions::default(),
        &|_| {},
    )
    .unwrap();
    let opened = OpenOptions::new().key(key).open(&sealed).unwrap();
    let dst = tmp.path().join("decrypted");
    let e = write_plain_dir(&opened, &dst).unwrap_err();
    assert!(e.to_string().contains("sealed"), "{e}");
    assert!(!dst.exists());
    // No staging directory is left behind by any of the refusals.
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
