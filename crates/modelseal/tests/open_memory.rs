//! A sealed directory held in memory (`OpenOptions::open_memory`) opens with the same checks as
//! one on disk: wrong key, missing, added, flipped and truncated members, no manifest.

mod support;

use modelseal::{Error, Key, ModelDir, OpenOptions};
use support::{fixture, read_files};

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
    let files = read_files(&f.out);
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
    let mut short = read_files(&f.out);
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
