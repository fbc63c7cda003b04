//! Directory sealing end to end: round trips of every supported layout, and every way a sealed
//! directory can be damaged (bit flips anywhere, truncation at every chunk boundary, swapped,
//! foreign, removed and added members, wrong key), plus atomic, non-destructive output.

use modelseal::{
    seal_dir, Error, ErrorKind, Key, ModelDir, OpenOptions, OutputFormat, SealOptions, Storage,
};
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| ((i * 31 + seed as usize * 17) % 253) as u8)
        .collect()
}

fn make_dir(root: &Path, files: &[(&str, usize)]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, (name, len)) in files.iter().enumerate() {
        let p = root.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        let data = pattern(*len, i as u8);
        fs::write(&p, &data).unwrap();
        out.push((name.to_string(), data));
    }
    out
}

fn opts(chunk_log2: u8) -> SealOptions {
    SealOptions {
        format: OutputFormat::V2,
        chunk_log2,
        force: false,
    }
}

/// Opens `dir` under the open policy with an optional key (PaddleX v1 allowed).
fn open_dir(dir: &Path, key: Option<&Key>) -> modelseal::Result<ModelDir> {
    OpenOptions::new()
        .key(key.cloned())
        .allow_paddlex_v1(true)
        .open(dir)
}

fn seal(
    key: &Key,
    src: &Path,
    dst: &Path,
    o: &SealOptions,
) -> modelseal::Result<Vec<modelseal::SealedMember>> {
    seal_dir(key, &open_dir(src, None)?, dst, o, &|_| {})
}

/// Opens and reads every member; the error if any step fails.
fn open_all(dir: &Path, key: &Key) -> modelseal::Result<Vec<(String, Vec<u8>)>> {
    let d = open_dir(dir, Some(key))?;
    d.names()
        .into_iter()
        .map(|n| d.read(&n).map(|b| (n, b.to_vec())))
        .collect()
}

struct Fixture {
    _tmp: TempDir,
    src: PathBuf,
    out: PathBuf,
    key: Key,
    files: Vec<(String, Vec<u8>)>,
}

fn fixture(files: &[(&str, usize)], chunk_log2: u8) -> Fixture {
    let tmp = TempDir::new().unwrap();
    let src = tmp.path().join("model");
    let out = tmp.path().join("sealed");
    let files = make_dir(&src, files);
    let key = Key::generate().unwrap();
    seal(&key, &src, &out, &opts(chunk_log2)).unwrap();
    Fixture {
        _tmp: tmp,
        src,
        out,
        key,
        files,
    }
}

#[test]
fn every_layout_round_trips() {
    let layouts: &[&[(&str, usize)]] = &[
        &[
            ("__model__", 5000),
            ("__params__", 70000),
            ("model.yml", 300),
            (".success", 0),
        ],
        &[
            ("model.pdmodel", 4000),
            ("model.pdiparams", 90000),
            ("model.pdiparams.info", 10),
            ("model.yml", 200),
            ("pipeline.yml", 50),
        ],
        &[
            ("inference.json", 3000),
            ("inference.pdiparams", 80000),
            ("inference.yml", 400),
        ],
        &[
            ("model.onnx", 200000),
            ("infer_cfg.yml", 500),
            ("labels/label_list.txt", 30),
        ],
    ];
    for files in layouts {
        let f = fixture(files, 16);
        let d = open_dir(&f.out, Some(&f.key)).unwrap();
        assert_eq!(d.storage(), Storage::SealedV2);
        assert!(d.seal_id().is_some());
        let mut want = f.files.clone();
        want.sort();
        assert_eq!(open_all(&f.out, &f.key).unwrap(), want);
        for (name, data) in &want {
            assert_eq!(d.size(name), Some(data.len() as u64));
        }
        // Plain directories open through the same API, without a key only.
        let plain = open_dir(&f.src, None).unwrap();
        assert_eq!(plain.storage(), Storage::Plain);
        assert_eq!(plain.seal_id(), None);
        let err = open_all(&f.src, &f.key).unwrap_err();
        assert!(matches!(err, Error::NotSealed { .. }), "{err}");
        // verify authenticates everything and agrees on digests.
        let report = modelseal::verify(&f.out, &OpenOptions::new().key(f.key.clone())).unwrap();
        assert_eq!(report.seal_id, d.seal_id());
        assert_eq!(report.members.len(), want.len());
        for ((name, outcome), (wname, wdata)) in report.members.iter().zip(&want) {
            let m = outcome.as_ref().unwrap();
            assert_eq!((name, m.size), (wname, wdata.len() as u64));
            assert_eq!(
                m.sha256,
                hex::encode(ring::digest::digest(&ring::digest::SHA256, wdata))
            );
        }
    }
}

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

/// Flips a bit of the last byte of a sealed file: the last chunk's tag, so that decrypting the
/// payload would fail with `ChunkCorrupted`.
fn damage_payload(path: &Path) {
    let mut bytes = fs::read(path).unwrap();
    *bytes.last_mut().unwrap() ^= 0x80;
    fs::write(path, bytes).unwrap();
}

#[test]
fn a_member_copied_over_the_manifest_is_refused_before_decryption() {
    let f = fixture(&[("model.onnx", 1000), ("inference.yml", 10)], 12);
    let manifest = f.out.join("modelseal.manifest");
    fs::copy(f.out.join("model.onnx.sealed"), &manifest).unwrap();
    // Its payload is damaged too: had it been decrypted, the error would be ChunkCorrupted.
    damage_payload(&manifest);
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
        damage_payload(&manifest);
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

#[test]
fn stream_and_read_agree() {
    let f = fixture(&[("model.onnx", 300_001)], 14);
    let d = open_dir(&f.out, Some(&f.key)).unwrap();
    let whole = d.read("model.onnx").unwrap();
    let (size, mut r) = d.stream("model.onnx").unwrap();
    let mut streamed = Vec::new();
    std::io::Read::read_to_end(&mut r, &mut streamed).unwrap();
    assert_eq!(size, 300_001);
    assert_eq!(&*whole, &streamed[..]);
    assert_eq!(streamed, f.files[0].1);
}

#[test]
fn paddlex_v1_directory_round_trips_and_rekeys_to_v2() {
    let tmp = TempDir::new().unwrap();
    let src = tmp.path().join("m");
    let files = make_dir(
        &src,
        &[
            ("__model__", 3000),
            ("__params__", 50000),
            ("model.yml", 100),
            (".success", 0),
        ],
    );
    let key = Key::generate().unwrap();
    let v1dir = tmp.path().join("v1");
    let o = SealOptions {
        format: OutputFormat::PaddleV1,
        ..opts(16)
    };
    let written = seal(&key, &src, &v1dir, &o).unwrap();
    let mut names: Vec<String> = fs::read_dir(&v1dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".success",
            "__model__.encrypted",
            "__params__.encrypted",
            "model.yml.encrypted"
        ]
    );
    assert_eq!(written.iter().filter(|m| m.encrypted).count(), 3);
    assert_eq!(fs::read(v1dir.join(".success")).unwrap(), b"");
    for f in ["__model__.encrypted", "model.yml.encrypted"] {
        assert!(fs::read(v1dir.join(f)).unwrap().starts_with(b"PADDLE1"));
    }
    let d = open_dir(&v1dir, Some(&key)).unwrap();
    assert_eq!(d.storage(), Storage::PaddleV1);
    let mut want = files.clone();
    want.sort();
    assert_eq!(open_all(&v1dir, &key).unwrap(), want);
    assert!(matches!(
        open_dir(&v1dir, None).err().unwrap(),
        Error::KeyRequired { .. }
    ));
    let wrong = Key::generate().unwrap();
    assert!(matches!(
        open_all(&v1dir, &wrong).unwrap_err(),
        Error::WrongKey { .. }
    ));

    // Re-key (and migrate) v1 -> v2 under a new key, in memory.
    let new_key = Key::generate().unwrap();
    let v2dir = tmp.path().join("v2");
    seal_dir(&new_key, &d, &v2dir, &opts(16), &|_| {}).unwrap();
    assert_eq!(
        open_dir(&v2dir, Some(&new_key)).unwrap().storage(),
        Storage::SealedV2
    );
    assert_eq!(open_all(&v2dir, &new_key).unwrap(), want);
    assert!(matches!(
        open_all(&v2dir, &key).unwrap_err(),
        Error::WrongKey { .. }
    ));
    // And v2 -> v2 under yet another key, streamed.
    let third = Key::generate().unwrap();
    let v2b = tmp.path().join("v2b");
    seal_dir(
        &third,
        &open_dir(&v2dir, Some(&new_key)).unwrap(),
        &v2b,
        &opts(12),
        &|_| {},
    )
    .unwrap();
    assert_eq!(open_all(&v2b, &third).unwrap(), want);
}

fn leftovers(parent: &Path) -> Vec<String> {
    fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("modelseal-tmp") || n.contains("modelseal-old"))
        .collect()
}

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
    let params = v1.join("__params__.encrypted");
    let mut bytes = fs::read(&params).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    fs::write(&params, bytes).unwrap();
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

#[test]
fn single_files_seal_open_and_decrypt_without_overwriting() {
    let tmp = TempDir::new().unwrap();
    let key = Key::generate().unwrap();
    let input = tmp.path().join("model.onnx");
    let data = pattern(70000, 3);
    fs::write(&input, &data).unwrap();
    for format in [OutputFormat::V2, OutputFormat::PaddleV1] {
        let sealed = tmp.path().join(format!("{format:?}.sealed"));
        modelseal::seal_file(&key, &input, &sealed, format, 12).unwrap();
        assert_eq!(&*modelseal::open_file(&key, &sealed).unwrap(), &data[..]);
        assert_eq!(
            &*modelseal::open_bytes(&key, &fs::read(&sealed).unwrap(), "x").unwrap(),
            &data[..]
        );
        let err = modelseal::seal_file(&key, &input, &sealed, format, 12).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        let plain = tmp.path().join(format!("{format:?}.plain"));
        modelseal::decrypt_file(&key, &sealed, &plain).unwrap();
        assert_eq!(fs::read(&plain).unwrap(), data);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&plain).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let err = modelseal::decrypt_file(&key, &sealed, &plain).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
        assert_eq!(fs::read(&plain).unwrap(), data);
        let err =
            modelseal::decrypt_file(&Key::generate().unwrap(), &sealed, &tmp.path().join("nope"))
                .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WrongKey);
        assert!(!tmp.path().join("nope").exists());
    }
    let err = modelseal::seal_file(&key, &input, &input, OutputFormat::V2, 12).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert_eq!(fs::read(&input).unwrap(), data);
    let err = modelseal::open_file(&key, &input).unwrap_err();
    assert!(matches!(err, Error::NotSealed { .. }));
}

#[test]
fn inspect_reads_headers_without_a_key() {
    let f = fixture(&[("model.onnx", 5000), ("inference.yml", 10)], 12);
    let entries = modelseal::inspect(&f.out).unwrap();
    assert_eq!(entries.len(), 3);
    let m = entries
        .iter()
        .find(|e| e.file == "model.onnx.sealed")
        .unwrap();
    let h = m.header.as_ref().unwrap();
    assert_eq!(
        (h.name.as_str(), h.plaintext_len, h.chunk_count()),
        ("model.onnx", 5000, 2)
    );
    assert!(m.problem.is_none());
    let plain = modelseal::inspect(&f.src).unwrap();
    assert!(plain.iter().all(|e| e.storage == Storage::Plain));
}

/// A model over 4 GiB, sealed and opened with bounded memory (sparse input, streamed both ways).
/// Run by hand: `cargo test --release -p modelseal --test dir -- --ignored over_4_gib`.
#[test]
#[ignore]
fn over_4_gib_model_seals_and_verifies() {
    let tmp = TempDir::new().unwrap();
    let src = tmp.path().join("big");
    fs::create_dir(&src).unwrap();
    let f = fs::File::create(src.join("model.onnx")).unwrap();
    let len = (4u64 << 30) + 12345;
    f.set_len(len).unwrap(); // sparse: reads as zeros
    drop(f);
    let key = Key::generate().unwrap();
    let out = tmp.path().join("sealed");
    seal(&key, &src, &out, &opts(20)).unwrap();
    let sealed_len = fs::metadata(out.join("model.onnx.sealed")).unwrap().len();
    assert_eq!(sealed_len, len + 134 + 10 + 16 * len.div_ceil(1 << 20));
    let report = modelseal::verify(&out, &OpenOptions::new().key(key.clone())).unwrap();
    let m = report.members[0].1.as_ref().unwrap();
    assert_eq!(m.size, len);
    let opened = open_dir(&out, Some(&key)).unwrap();
    let (size, mut r) = opened.stream("model.onnx").unwrap();
    assert_eq!(size, len);
    let mut buf = vec![0u8; 1 << 20];
    let (mut total, mut nonzero) = (0u64, false);
    loop {
        let n = std::io::Read::read(&mut r, &mut buf).unwrap();
        if n == 0 {
            break;
        }
        nonzero |= buf[..n].iter().any(|&b| b != 0);
        total += n as u64;
    }
    assert_eq!(total, len);
    assert!(!nonzero);
}

fn load(dir: &Path) -> Vec<(String, Vec<u8>)> {
    modelseal::internal::list_files(dir, false)
        .unwrap()
        .into_iter()
        .map(|f| (f.name, fs::read(&f.path).unwrap()))
        .collect()
}

fn from_memory(files: Vec<(String, Vec<u8>)>, key: &Key) -> modelseal::Result<ModelDir> {
    OpenOptions::new().key(key.clone()).open_memory(files)
}

#[test]
fn a_sealed_directory_opens_from_memory_with_the_same_checks() {
    let f = fixture(
        &[
            ("model.onnx", 9000),
            ("inference.yml", 40),
            ("sub/labels.txt", 3),
        ],
        12,
    );
    let files = load(&f.out);
    let d = from_memory(files.clone(), &f.key).unwrap();
    let mut want = f.files.clone();
    want.sort();
    let got: Vec<(String, Vec<u8>)> = d
        .names()
        .into_iter()
        .map(|n| {
            let b = d.read(&n).unwrap().to_vec();
            (n, b)
        })
        .collect();
    assert_eq!(got, want);
    let (size, mut r) = d.stream("model.onnx").unwrap();
    let mut streamed = Vec::new();
    std::io::Read::read_to_end(&mut r, &mut streamed).unwrap();
    assert_eq!((size, &streamed), (9000, &want[1].1));

    let err = from_memory(files.clone(), &Key::generate().unwrap())
        .err()
        .unwrap();
    assert!(matches!(err, Error::WrongKey { .. }), "{err}");
    let fewer: Vec<_> = files
        .iter()
        .filter(|(n, _)| n != "inference.yml.sealed")
        .cloned()
        .collect();
    assert!(matches!(
        from_memory(fewer, &f.key).err().unwrap(),
        Error::MemberMissing { .. }
    ));
    let mut more = files.clone();
    more.push(("extra.sealed".into(), vec![1, 2, 3]));
    assert!(matches!(
        from_memory(more, &f.key).err().unwrap(),
        Error::MemberAdded { .. }
    ));
    let mut flipped = files.clone();
    let i = flipped
        .iter()
        .position(|(n, _)| n == "model.onnx.sealed")
        .unwrap();
    let last = flipped[i].1.len() - 1;
    flipped[i].1[last] ^= 1;
    let d = from_memory(flipped, &f.key).unwrap();
    assert!(matches!(
        d.read("model.onnx").unwrap_err(),
        Error::ChunkCorrupted { chunk: 2, .. }
    ));
    let mut short = load(&f.out);
    let i = short
        .iter()
        .position(|(n, _)| n == "model.onnx.sealed")
        .unwrap();
    let n = short[i].1.len();
    short[i].1.truncate(n - 100);
    let err = from_memory(short, &f.key).err().unwrap();
    assert!(
        matches!(err, Error::Truncated { .. }),
        "truncation is refused at open: {err}"
    );
    let no_manifest: Vec<_> = files
        .into_iter()
        .filter(|(n, _)| n != "modelseal.manifest")
        .collect();
    assert!(matches!(
        from_memory(no_manifest, &f.key).err().unwrap(),
        Error::Manifest { .. }
    ));
}

#[test]
fn byte_slices_seal_and_open_in_memory() {
    let key = Key::generate().unwrap();
    let sealed =
        modelseal::seal_bytes(&key, "weights.bin", b"some weights", OutputFormat::V2).unwrap();
    assert_eq!(
        &*modelseal::open_bytes(&key, &sealed, "weights").unwrap(),
        b"some weights"
    );
    let err = modelseal::open_bytes(&Key::generate().unwrap(), &sealed, "weights").unwrap_err();
    assert!(
        matches!(err, Error::WrongKey { .. }) && err.to_string().contains("weights"),
        "{err}"
    );
}
