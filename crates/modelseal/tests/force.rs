//! Replacing an existing output (`force`): only an empty directory or an earlier sealing is ever
//! replaced. An earlier sealing is recognised by evidence, not by a magic prefix: a v2 sealing
//! whose manifest and member headers parse and agree, or a PaddleX v1 output whose encrypted
//! files carry full v1 headers under one key and whose other files are copies of the members
//! being sealed. Anything else is left alone, byte for byte.

mod support;

use modelseal::{seal_dir, ErrorKind, Key, OpenOptions, OutputFormat, SealOptions, Storage};
use std::fs;
use std::path::{Path, PathBuf};
use support::{leftovers, plain_model, write_files, Plain};

/// Every file under `root` with its bytes, sorted by relative path.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

const PADDLE: &[(&str, &[u8])] = &[
    ("__model__", b"a paddle program"),
    ("__params__", b"some weights"),
    ("model.yml", b"Model: X"),
    (".success", b""),
    ("label_list.txt", b"cat\ndog\n"),
];

fn seal(s: &Plain, dst: &Path, format: OutputFormat, force: bool) -> modelseal::Result<()> {
    let opts = SealOptions {
        format,
        force,
        ..SealOptions::default()
    };
    support::seal(&s.key, &s.src, dst, &opts).map(|_| ())
}

/// `dst` is refused with `force`, as a usage error naming it, and left exactly as it was.
fn refused(s: &Plain, dst: &Path, why: &str) {
    let before = snapshot(dst);
    for format in [OutputFormat::V2, OutputFormat::PaddleV1] {
        let err = seal(s, dst, format, true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage, "{why}: {err}");
        assert!(
            err.to_string().contains(&*dst.to_string_lossy()),
            "{why}: names the directory: {err}"
        );
        assert!(
            err.to_string().contains("not an earlier sealing"),
            "{why}: {err}"
        );
        assert_eq!(snapshot(dst), before, "{why}: the directory was changed");
    }
    let left = leftovers(s.tmp.path());
    assert!(left.is_empty(), "{why}: {left:?}");
}

/// `dst` is replaced with `force` and then holds a sealing of the source that opens.
fn replaced(s: &Plain, dst: &Path, why: &str) {
    seal(s, dst, OutputFormat::V2, true).unwrap_or_else(|e| panic!("{why}: {e}"));
    let d = OpenOptions::new().key(s.key.clone()).open(dst).unwrap();
    assert_eq!(d.storage(), Storage::SealedV2, "{why}");
    assert_eq!(d.names().len(), PADDLE.len(), "{why}");
}

#[test]
fn a_decoy_beside_the_users_files_is_never_replaced() {
    let s = plain_model(PADDLE);
    let dst = s.tmp.path().join("mine");
    // Six bytes of "PADDLE" in a file named like an encrypted model, beside the user's work.
    write_files(
        &dst,
        &[
            ("__model__.encrypted", b"PADDLE and then anything"),
            ("thesis.tex", b"years of work"),
            ("data/results.csv", b"1,2,3\n"),
        ],
    );
    refused(&s, &dst, "decoy beside user files");
    // The decoy alone: no full v1 header.
    let alone = s.tmp.path().join("alone");
    write_files(&alone, &[("__model__.encrypted", b"PADDLE1")]);
    refused(&s, &alone, "decoy alone");
    // A full-length decoy whose key check field is not hexadecimal.
    let fake = [b"PADDLE1".as_slice(), &[b'z'; 64], &[0u8; 200]].concat();
    let nonhex = s.tmp.path().join("nonhex");
    write_files(&nonhex, &[("__model__.encrypted", &fake)]);
    refused(&s, &nonhex, "non-hex key check");
}

#[test]
fn a_real_v1_file_does_not_make_the_users_other_files_replaceable() {
    let s = plain_model(PADDLE);
    let earlier = s.tmp.path().join("earlier");
    seal(&s, &earlier, OutputFormat::PaddleV1, false).unwrap();
    // A genuine v1 model file, copied next to files that are not copies of the source's.
    let dst = s.tmp.path().join("mixed");
    fs::create_dir(&dst).unwrap();
    fs::copy(
        earlier.join("__model__.encrypted"),
        dst.join("__model__.encrypted"),
    )
    .unwrap();
    write_files(&dst, &[("notes.md", b"my notes")]);
    refused(&s, &dst, "real v1 model beside a foreign file");
    // A file of the source's name whose bytes differ from it.
    fs::remove_file(dst.join("notes.md")).unwrap();
    write_files(&dst, &[("label_list.txt", b"edited by hand\n")]);
    refused(&s, &dst, "a plain file that is not a copy");
    // A plain model file (a v1 sealing encrypts it).
    fs::remove_file(dst.join("label_list.txt")).unwrap();
    write_files(&dst, &[("__params__", b"unrelated")]);
    refused(&s, &dst, "a plain params file that differs");
    // Encrypted members under two different keys are not one sealing.
    fs::remove_file(dst.join("__params__")).unwrap();
    let other = Key::generate().unwrap();
    let sealed = modelseal::internal::seal_v1(&other, b"Model: X").unwrap();
    write_files(&dst, &[("model.yml.encrypted", &sealed)]);
    refused(&s, &dst, "two keys");
    // No encrypted model file.
    fs::remove_file(dst.join("__model__.encrypted")).unwrap();
    refused(&s, &dst, "no model");
    // A truncated v1 model file.
    fs::remove_file(dst.join("model.yml.encrypted")).unwrap();
    let model = fs::read(earlier.join("__model__.encrypted")).unwrap();
    write_files(&dst, &[("__model__.encrypted", &model[..140])]);
    refused(&s, &dst, "truncated v1 file");
}

#[test]
fn v2_lookalikes_are_never_replaced() {
    let s = plain_model(PADDLE);
    let earlier = s.tmp.path().join("earlier");
    seal(&s, &earlier, OutputFormat::V2, false).unwrap();
    // The magic alone.
    let magic = s.tmp.path().join("magic");
    write_files(
        &magic,
        &[
            ("modelseal.manifest", b"MDLSEAL\x02 and nothing else"),
            ("model.onnx.sealed", b"MDLSEAL\x02"),
        ],
    );
    refused(&s, &magic, "v2 magic only");
    // A real sealing plus a file of the user's.
    let plus = s.tmp.path().join("plus");
    fs::create_dir(&plus).unwrap();
    for e in fs::read_dir(&earlier).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), plus.join(e.file_name())).unwrap();
    }
    write_files(&plus, &[("notes.txt", b"mine")]);
    refused(&s, &plus, "sealing plus a foreign file");
    // A sealed member renamed: its header names another member.
    fs::remove_file(plus.join("notes.txt")).unwrap();
    fs::rename(
        plus.join("model.yml.sealed"),
        plus.join("thesis.tex.sealed"),
    )
    .unwrap();
    refused(&s, &plus, "renamed member");
    // A member of another sealing (another sealing id).
    fs::rename(
        plus.join("thesis.tex.sealed"),
        plus.join("model.yml.sealed"),
    )
    .unwrap();
    let other = s.tmp.path().join("other");
    seal(&s, &other, OutputFormat::V2, false).unwrap();
    fs::copy(
        other.join("__params__.sealed"),
        plus.join("__params__.sealed"),
    )
    .unwrap();
    refused(&s, &plus, "member of another sealing");
    // A member file cut short.
    fs::copy(
        earlier.join("__params__.sealed"),
        plus.join("__params__.sealed"),
    )
    .unwrap();
    let bytes = fs::read(plus.join("__model__.sealed")).unwrap();
    fs::write(plus.join("__model__.sealed"), &bytes[..bytes.len() - 1]).unwrap();
    refused(&s, &plus, "truncated member");
    // Restored, it is an earlier sealing again.
    fs::write(plus.join("__model__.sealed"), &bytes).unwrap();
    replaced(&s, &plus, "restored sealing");
}

#[test]
fn real_earlier_sealings_are_replaced_with_force_only() {
    let s = plain_model(PADDLE);
    for format in [OutputFormat::V2, OutputFormat::PaddleV1] {
        let dst = s.tmp.path().join(format!("{format:?}"));
        seal(&s, &dst, format, false).unwrap();
        let err = seal(&s, &dst, OutputFormat::V2, false).unwrap_err();
        assert!(
            matches!(err, modelseal::Error::OutputExists { .. }),
            "{format:?}: {err}"
        );
        replaced(&s, &dst, &format!("{format:?} sealing"));
        // Replaced again, now in the other format.
        seal(&s, &dst, OutputFormat::PaddleV1, true).unwrap();
        replaced(&s, &dst, &format!("{format:?} replaced twice"));
    }
    // An early PaddleX output that left model.yml plain is a sealing too: a copy of the source's.
    let early = s.tmp.path().join("early");
    seal(&s, &early, OutputFormat::PaddleV1, false).unwrap();
    fs::remove_file(early.join("model.yml.encrypted")).unwrap();
    fs::copy(s.src.join("model.yml"), early.join("model.yml")).unwrap();
    replaced(
        &s,
        &early,
        "v1 with a plain model.yml copied from the source",
    );
}

#[test]
fn rekeying_replaces_an_earlier_v1_output_whose_copies_match_the_sealed_members() {
    let s = plain_model(PADDLE);
    let v2 = s.tmp.path().join("v2");
    seal(&s, &v2, OutputFormat::V2, false).unwrap();
    let out = s.tmp.path().join("out");
    seal(&s, &out, OutputFormat::PaddleV1, false).unwrap();
    // The source is sealed: its label list is compared after decryption in memory.
    let src = OpenOptions::new().key(s.key.clone()).open(&v2).unwrap();
    let opts = SealOptions {
        format: OutputFormat::PaddleV1,
        force: true,
        ..SealOptions::default()
    };
    seal_dir(&s.key, &src, &out, &opts, &|_| {}).unwrap();
    assert_eq!(fs::read(out.join("label_list.txt")).unwrap(), b"cat\ndog\n");
    // A label list edited by hand in the output is not a copy: the output is left alone.
    fs::write(out.join("label_list.txt"), b"cat\nbird\n").unwrap();
    let err = seal_dir(&s.key, &src, &out, &opts, &|_| {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    assert_eq!(
        fs::read(out.join("label_list.txt")).unwrap(),
        b"cat\nbird\n"
    );
}
