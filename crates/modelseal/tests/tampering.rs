//! Every way a sealed directory can be damaged is detected: the wrong key, swapped, foreign,
//! removed and added members, a member or forged header in place of the manifest, a flipped bit
//! anywhere, truncation at every chunk boundary.

mod support;

use modelseal::{Error, ErrorKind, Key};
use std::fs;
use support::{fixture, flip_last_byte, open_all, open_dir, opts, seal};

#[test]
fn sealed_directory_needs_the_right_key() {
    let f = fixture(&[("model.onnx", 1000), ("inference.yml", 10)], 12);
    let err = open_dir(&f.out, None).err().unwrap();
    assert!(matches!(err, Error::KeyRequired { .. }), "{err}");
    let err = open_dir(&f.out, Some(&Key::generate().unwrap()))
        .err()
        .unwrap();
    assert!(matches!(err, Error::WrongKey { .. }), "{err}");
    assert!(err.to_string().contains("modelseal.manifest"), "{err}");
}

#[test]
fn swapped_members_are_detected() {
    let f = fixture(&[("model.onnx", 1000), ("inference.yml", 10)], 12);
    let a = f.out.join("model.onnx.sealed");
    let b = f.out.join("inference.yml.sealed");
    let tmp = f.out.join("swap");
    fs::rename(&a, &tmp).unwrap();
    fs::rename(&b, &a).unwrap();
    fs::rename(&tmp, &b).unwrap();
    let err = open_all(&f.out, &f.key).unwrap_err();
    assert!(matches!(err, Error::MemberSwapped { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Integrity);
}

#[test]
fn a_member_copied_over_the_manifest_is_refused_before_decryption() {
    let f = fixture(&[("model.onnx", 1000), ("inference.yml", 10)], 12);
    let manifest = f.out.join("modelseal.manifest");
    fs::copy(f.out.join("model.onnx.sealed"), &manifest).unwrap();
    // Its payload is damaged too: had it been decrypted, the error would be ChunkCorrupted.
    flip_last_byte(&manifest, 0x80);
    let err = open_all(&f.out, &f.key).unwrap_err();
    match &err {
        Error::MemberSwapped {
            path,
            expected,
            found,
        } => {
            assert_eq!(path, &manifest);
            assert_eq!(expected, "modelseal.manifest");
            assert_eq!(found, "model.onnx");
        }
        other => panic!("expected MemberSwapped, got {other:?}: {other}"),
    }
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(err.to_string().contains("modelseal.manifest"), "{err}");
}

#[test]
fn a_manifest_header_of_the_wrong_kind_or_name_is_refused_before_decryption() {
    use modelseal::internal::{seal_image, SealParams};
    use modelseal::Kind;
    let f = fixture(&[("model.onnx", 1000), ("inference.yml", 10)], 12);
    let seal_id = *open_dir(&f.out, Some(&f.key))
        .unwrap()
        .seal_id()
        .unwrap()
        .as_bytes();
    let manifest = f.out.join("modelseal.manifest");
    let original = fs::read(&manifest).unwrap();
    // Headers authenticated under the right key and sealing id: a manifest naming another
    // member, a member named like the manifest, and a member naming another member.
    for (kind, name) in [
        (Kind::Manifest, "model.onnx"),
        (Kind::Member, "modelseal.manifest"),
        (Kind::Member, "inference.yml"),
    ] {
        let params = SealParams {
            kind,
            name: name.into(),
            seal_id,
            chunk_log2: 12,
        };
        let forged = seal_image(&f.key, &params, b"{\"format\": \"modelseal-manifest\"}").unwrap();
        fs::write(&manifest, forged).unwrap();
        flip_last_byte(&manifest, 0x80);
        let err = open_all(&f.out, &f.key).unwrap_err();
        assert!(
            matches!(&err, Error::MemberSwapped { found, expected, .. }
                if found == name && expected == "modelseal.manifest"),
            "{kind:?} {name}: {err:?}"
        );
        assert_eq!(err.kind(), ErrorKind::Integrity);
    }
    // The genuine manifest opens again.
    fs::write(&manifest, original).unwrap();
    assert_eq!(open_all(&f.out, &f.key).unwrap().len(), 2);
}

#[test]
fn member_from_another_sealing_is_detected() {
    let f = fixture(&[("model.onnx", 1000), ("inference.yml", 10)], 12);
    let other = f.out.with_file_name("other");
    seal(&f.key, &f.src, &other, &opts(12)).unwrap();
    fs::copy(
        other.join("model.onnx.sealed"),
        f.out.join("model.onnx.sealed"),
    )
    .unwrap();
    let err = open_all(&f.out, &f.key).unwrap_err();
    assert!(matches!(err, Error::ForeignMember { .. }), "{err}");
    // Even a whole manifest from the other sealing does not match these members.
    let g = fixture(&[("model.onnx", 1000), ("inference.yml", 10)], 12);
    let other = g.out.with_file_name("other");
    seal(&g.key, &g.src, &other, &opts(12)).unwrap();
    fs::copy(
        other.join("modelseal.manifest"),
        g.out.join("modelseal.manifest"),
    )
    .unwrap();
    let err = open_all(&g.out, &g.key).unwrap_err();
    assert!(matches!(err, Error::ForeignMember { .. }), "{err}");
}

#[test]
fn removed_and_added_members_are_detected() {
    let f = fixture(
        &[
            ("model.onnx", 1000),
            ("inference.yml", 10),
            ("sub/labels.txt", 5),
        ],
        12,
    );
    fs::remove_file(f.out.join("sub/labels.txt.sealed")).unwrap();
    let err = open_all(&f.out, &f.key).unwrap_err();
    assert!(
        matches!(&err, Error::MemberMissing { name, .. } if name == "sub/labels.txt"),
        "{err}"
    );

    let g = fixture(&[("model.onnx", 1000), ("inference.yml", 10)], 12);
    fs::write(g.out.join("extra.yml"), b"threshold: 0.1").unwrap();
    let err = open_all(&g.out, &g.key).unwrap_err();
    assert!(
        matches!(&err, Error::MemberAdded { name, .. } if name == "extra.yml"),
        "{err}"
    );

    let h = fixture(&[("model.onnx", 1000)], 12);
    fs::remove_file(h.out.join("modelseal.manifest")).unwrap();
    let err = open_all(&h.out, &h.key).unwrap_err();
    assert!(matches!(err, Error::Manifest { .. }), "{err}");
}

#[test]
fn a_flipped_bit_anywhere_is_detected() {
    // Member of 3 chunks (chunk 4096) plus a 1-chunk config, and the manifest: flip every byte of each file.
    let f = fixture(&[("model.onnx", 9000), ("inference.yml", 40)], 12);
    for file in [
        "model.onnx.sealed",
        "inference.yml.sealed",
        "modelseal.manifest",
    ] {
        let path = f.out.join(file);
        let orig = fs::read(&path).unwrap();
        for pos in 0..orig.len() {
            let mut d = orig.clone();
            d[pos] ^= 1 << (pos % 8);
            fs::write(&path, &d).unwrap();
            match open_all(&f.out, &f.key) {
                Ok(_) => panic!("{file}: flipped bit at byte {pos} went unnoticed"),
                Err(e) => assert!(
                    matches!(
                        e.kind(),
                        ErrorKind::Integrity | ErrorKind::WrongKey | ErrorKind::Unsupported
                    ),
                    "{file} byte {pos}: unexpected error class: {e}"
                ),
            }
        }
        fs::write(&path, &orig).unwrap();
    }
    assert_eq!(open_all(&f.out, &f.key).unwrap().len(), 2);
}

#[test]
fn truncation_at_every_chunk_boundary_is_detected() {
    let f = fixture(&[("model.onnx", 4096 * 4 + 100)], 12);
    let path = f.out.join("model.onnx.sealed");
    let orig = fs::read(&path).unwrap();
    let h = 134 + "model.onnx".len();
    for k in 0..=4 {
        for cut in [
            h + k * (4096 + 16),
            h + k * (4096 + 16) + 4096,
            h + k * (4096 + 16) + 1,
        ] {
            if cut >= orig.len() {
                continue;
            }
            fs::write(&path, &orig[..cut]).unwrap();
            let err = open_all(&f.out, &f.key).unwrap_err();
            assert!(
                matches!(err, Error::Truncated { .. }),
                "cut at {cut}: {err}"
            );
            // The streaming reader sees it too (opened without the directory's size check).
            let key = f.key.clone();
            let r =
                modelseal::internal::OpenReader::new(&key, fs::File::open(&path).unwrap(), &path);
            let res = r.and_then(|mut r| {
                let mut sink = Vec::new();
                std::io::Read::read_to_end(&mut r, &mut sink)
                    .map_err(|e| modelseal::internal::reader_error(e, &path))
            });
            assert!(
                matches!(res, Err(Error::Truncated { .. })),
                "stream, cut at {cut}: {res:?}"
            );
        }
    }
    fs::write(&path, &orig).unwrap();
    assert!(open_all(&f.out, &f.key).is_ok());
}
