//! The open policy, the trust boundary every front end inherits: with a key only a sealing that
//! verifies opens; PaddleX v1 only on explicit opt-in and with its model files encrypted; a
//! pinned sealing id refuses every other sealing; links out of the tree are not followed.

mod support;

use modelseal::{seal_dir, Error, ErrorKind, Key, OpenOptions, OutputFormat, SealOptions, Storage};
use std::fs;
use std::path::Path;
use support::{plain_model, read_files, write_files};
use tempfile::TempDir;

const MODEL: &[(&str, &[u8])] = &[
    ("model.onnx", b"an onnx model"),
    ("inference.yml", b"Global: {model_name: x}"),
    ("labels.txt", b"cat\ndog\n"),
];

/// Seals the plain directory `src` into `dst` in `format`.
fn seal(key: &Key, src: &Path, dst: &Path, format: OutputFormat) {
    let opts = SealOptions {
        format,
        ..SealOptions::default()
    };
    support::seal(key, src, dst, &opts).unwrap();
}

fn with_key(key: &Key) -> OpenOptions {
    OpenOptions::new().key(key.clone())
}

#[test]
fn a_plain_directory_opens_only_without_a_key() {
    let d = plain_model(MODEL);
    let plain = OpenOptions::new().open(&d.src).unwrap();
    assert_eq!(plain.storage(), Storage::Plain);
    let err = with_key(&d.key).open(&d.src).unwrap_err();
    assert!(matches!(err, Error::NotSealed { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains(&*d.src.to_string_lossy()), "{err}");
    // With the opt-in for v1 too: a plain directory is no sealing.
    let err = with_key(&d.key)
        .allow_paddlex_v1(true)
        .open(&d.src)
        .unwrap_err();
    assert!(matches!(err, Error::NotSealed { .. }), "{err}");
}

#[test]
fn a_sealed_directory_needs_its_key() {
    let d = plain_model(MODEL);
    let sealed = d.tmp.path().join("sealed");
    seal(&d.key, &d.src, &sealed, OutputFormat::V2);
    let err = OpenOptions::new().open(&sealed).unwrap_err();
    assert!(matches!(err, Error::KeyRequired { .. }), "{err}");
    let dir = with_key(&d.key).open(&sealed).unwrap();
    assert_eq!(dir.storage(), Storage::SealedV2);
    assert_eq!(&*dir.read("labels.txt").unwrap(), b"cat\ndog\n");
}

#[test]
fn a_paddle1_decoy_does_not_make_a_plain_directory_sealed() {
    let d = plain_model(MODEL);
    // A 7-byte file that starts like PaddleX v1, beside plain model files.
    write_files(&d.src, &[("decoy", b"PADDLE1")]);
    let err = with_key(&d.key).open(&d.src).unwrap_err();
    assert!(matches!(err, Error::PaddleV1NotAllowed { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    let err = with_key(&d.key)
        .allow_paddlex_v1(true)
        .open(&d.src)
        .unwrap_err();
    assert!(matches!(err, Error::NotSealed { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("inference.yml") || text.contains("model.onnx"),
        "names a plain model or config file: {err}"
    );
    // A decoy named like an encrypted model, with nothing else encrypted: the config is plain.
    let tmp = TempDir::new().unwrap();
    write_files(
        tmp.path(),
        &[
            ("model.onnx.encrypted", b"PADDLE1"),
            ("inference.yml", b"x: 1"),
        ],
    );
    let err = with_key(&d.key)
        .allow_paddlex_v1(true)
        .open(tmp.path())
        .unwrap_err();
    assert!(matches!(err, Error::NotSealed { .. }), "{err}");
    // Without a key, a directory holding anything that looks sealed needs the key: the error
    // names the file that looks sealed and says that a key is needed.
    let err = OpenOptions::new().open(&d.src).unwrap_err();
    assert!(
        matches!(&err, Error::KeyRequired { path } if path == &d.src.join("decoy")),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&*d.src.join("decoy").to_string_lossy())
            && text.contains("a key is required"),
        "{text}"
    );
    assert_eq!(err.kind(), ErrorKind::Usage);
}

#[test]
fn paddlex_v1_opens_only_on_opt_in_and_with_its_model_files_encrypted() {
    let d = plain_model(MODEL);
    let v1 = d.tmp.path().join("v1");
    seal(&d.key, &d.src, &v1, OutputFormat::PaddleV1);
    assert!(v1.join("model.onnx.encrypted").is_file());
    assert!(
        v1.join("labels.txt").is_file(),
        "PaddleX copies other files"
    );
    let err = with_key(&d.key).open(&v1).unwrap_err();
    assert!(matches!(err, Error::PaddleV1NotAllowed { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    let dir = with_key(&d.key).allow_paddlex_v1(true).open(&v1).unwrap();
    assert_eq!(dir.storage(), Storage::PaddleV1);
    assert_eq!(&*dir.read("model.onnx").unwrap(), b"an onnx model");
    assert_eq!(dir.seal_id(), None);
    // The config replaced by a plain one: refused, naming it.
    fs::remove_file(v1.join("inference.yml.encrypted")).unwrap();
    fs::write(v1.join("inference.yml"), b"Global: {model_name: evil}").unwrap();
    let err = with_key(&d.key)
        .allow_paddlex_v1(true)
        .open(&v1)
        .unwrap_err();
    assert!(matches!(err, Error::NotSealed { .. }), "{err}");
    assert!(err.to_string().contains("inference.yml"), "{err}");
    // A plain model beside the encrypted one (same logical name): refused.
    let v1b = d.tmp.path().join("v1b");
    seal(&d.key, &d.src, &v1b, OutputFormat::PaddleV1);
    fs::write(v1b.join("model.onnx"), b"another model").unwrap();
    let err = with_key(&d.key)
        .allow_paddlex_v1(true)
        .open(&v1b)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    // verify follows the same policy.
    let v1c = d.tmp.path().join("v1c");
    seal(&d.key, &d.src, &v1c, OutputFormat::PaddleV1);
    let err = modelseal::verify(&v1c, &with_key(&d.key)).unwrap_err();
    assert!(matches!(err, Error::PaddleV1NotAllowed { .. }), "{err}");
    let report = modelseal::verify(&v1c, &with_key(&d.key).allow_paddlex_v1(true)).unwrap();
    assert_eq!(report.storage, Storage::PaddleV1);
    assert!(report.first_error().is_none());
    // A single v1 file still opens (PaddleX's own decrypt function, and `decrypt`).
    let one = modelseal::open_file(&d.key, &v1c.join("model.onnx.encrypted")).unwrap();
    assert_eq!(&*one, b"an onnx model");
}

#[test]
fn a_pinned_sealing_id_refuses_every_other_sealing() {
    let d = plain_model(MODEL);
    let old = d.tmp.path().join("old");
    let new = d.tmp.path().join("new");
    seal(&d.key, &d.src, &old, OutputFormat::V2);
    write_files(&d.src, &[("model.onnx", b"the fixed model")]);
    seal(&d.key, &d.src, &new, OutputFormat::V2);
    let id = with_key(&d.key).open(&new).unwrap().seal_id().unwrap();
    let old_id = with_key(&d.key).open(&old).unwrap().seal_id().unwrap();
    assert_ne!(id, old_id);
    let pinned = with_key(&d.key).expect_seal_id(id);
    assert_eq!(pinned.open(&new).unwrap().seal_id(), Some(id));
    // Rolling back to the older sealing under the same key is refused once pinned...
    let err = pinned.open(&old).unwrap_err();
    assert!(matches!(err, Error::SealIdMismatch { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(err.to_string().contains(&id.to_string()), "{err}");
    // ...and, unpinned, it opens: the key alone does not tell sealings apart.
    assert!(with_key(&d.key).open(&old).is_ok());
    // Mixing: the older manifest in the new directory is refused either way.
    fs::copy(
        old.join("modelseal.manifest"),
        new.join("modelseal.manifest"),
    )
    .unwrap();
    assert!(with_key(&d.key).open(&new).is_err());
    // A pin without a key, or on PaddleX v1, cannot be met.
    let err = OpenOptions::new()
        .expect_seal_id(id)
        .open(&d.src)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    let v1 = d.tmp.path().join("v1");
    seal(&d.key, &d.src, &v1, OutputFormat::PaddleV1);
    let err = with_key(&d.key)
        .allow_paddlex_v1(true)
        .expect_seal_id(id)
        .open(&v1)
        .unwrap_err();
    assert!(matches!(err, Error::SealIdMismatch { .. }), "{err}");
    // From memory too.
    let files = read_files(&old);
    assert_eq!(files.len(), 4, "the manifest and three members");
    assert!(matches!(
        pinned.open_memory(files.clone()).unwrap_err(),
        Error::SealIdMismatch { .. }
    ));
    assert!(with_key(&d.key).open_memory(files.clone()).is_ok());
    assert!(matches!(
        OpenOptions::new().open_memory(files).unwrap_err(),
        Error::KeyRequired { .. }
    ));
}

#[test]
fn plain_files_beside_a_sealing_are_refused() {
    let d = plain_model(MODEL);
    let sealed = d.tmp.path().join("sealed");
    seal(&d.key, &d.src, &sealed, OutputFormat::V2);
    // An attacker drops a plain model beside the sealed members.
    fs::write(sealed.join("model.pdmodel"), b"evil program").unwrap();
    let err = with_key(&d.key).open(&sealed).unwrap_err();
    assert!(matches!(err, Error::MemberAdded { .. }), "{err}");
    fs::remove_file(sealed.join("model.pdmodel")).unwrap();
    // Or replaces a sealed member by a plain file of its name.
    fs::remove_file(sealed.join("model.onnx.sealed")).unwrap();
    fs::write(sealed.join("model.onnx.sealed"), b"evil model").unwrap();
    let err = with_key(&d.key).open(&sealed).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    // Or removes the manifest: sealed members alone are not a sealing.
    let bare = d.tmp.path().join("bare");
    seal(&d.key, &d.src, &bare, OutputFormat::V2);
    fs::remove_file(bare.join("modelseal.manifest")).unwrap();
    let err = with_key(&d.key).open(&bare).unwrap_err();
    assert!(matches!(err, Error::Manifest { .. }), "{err}");
}

#[cfg(unix)]
#[test]
fn links_out_of_the_tree_are_refused_unless_followed_explicitly() {
    let d = plain_model(MODEL);
    let outside = d.tmp.path().join("outside.txt");
    fs::write(&outside, b"/etc/shadow, say").unwrap();
    let link = d.src.join("extra.txt");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    // A link inside the tree is fine.
    std::os::unix::fs::symlink(d.src.join("labels.txt"), d.src.join("labels2.txt")).unwrap();
    let err = OpenOptions::new().open(&d.src).unwrap_err();
    assert!(matches!(err, Error::SymlinkOutside { .. }), "{err}");
    assert!(
        err.to_string().contains(&*link.to_string_lossy()),
        "names the link: {err}"
    );
    let out = d.tmp.path().join("sealed");
    assert!(!out.exists(), "nothing written");
    let followed = OpenOptions::new()
        .follow_symlinks(true)
        .open(&d.src)
        .unwrap();
    seal_dir(&d.key, &followed, &out, &SealOptions::default(), &|_| {}).unwrap();
    let dir = with_key(&d.key).open(&out).unwrap();
    assert_eq!(&*dir.read("extra.txt").unwrap(), b"/etc/shadow, say");
    assert_eq!(&*dir.read("labels2.txt").unwrap(), b"cat\ndog\n");
}

#[cfg(unix)]
#[test]
fn member_names_are_checked_when_sealing() {
    let d = plain_model(MODEL);
    write_files(&d.src, &[("odd\\name.txt", b"x")]);
    let plain = OpenOptions::new().open(&d.src).unwrap();
    let out = d.tmp.path().join("sealed");
    let err = seal_dir(&d.key, &plain, &out, &SealOptions::default(), &|_| {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    assert!(err.to_string().contains("odd\\\\name.txt"), "{err}");
    assert!(!out.exists());
}
