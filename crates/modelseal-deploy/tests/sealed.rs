//! Sealed (v2 and PaddleX v1) and plain copies of the real models give identical results, and a
//! wrong key or a tampered member is a clear error before any inference.

mod common;

use common::*;
use modelseal::{Key, OpenOptions, OutputFormat, SealOptions};
use modelseal_deploy::backend::BackendKind;
use modelseal_deploy::image::read_image;
use modelseal_deploy::Predictor;

fn seal(src: &std::path::Path, dst: &std::path::Path, key: &Key, format: OutputFormat) {
    let dir = OpenOptions::new().open(src).expect("open plain model dir");
    let opts = SealOptions {
        format,
        ..Default::default()
    };
    modelseal::seal_dir(key, &dir, dst, &opts, &|_| {}).expect("seal");
}

#[test]
fn sealed_and_plain_give_identical_predictions() {
    let Some(models) = models_and_ort() else {
        return;
    };
    let key = Key::generate().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for (model, image) in [
        ("cls", "chelsea.png"),
        ("layout", "page.png"),
        ("det_db", "page.png"),
    ] {
        let img = read_image(&models.join("images").join(image)).unwrap();
        let mut plain = open_plain(&models.join(model), BackendKind::OnnxRuntime);
        let want = plain.predict(&img).unwrap();
        for (fmt, tag) in [(OutputFormat::V2, "v2"), (OutputFormat::PaddleV1, "v1")] {
            let dst = tmp.path().join(format!("{model}-{tag}"));
            seal(&models.join(model), &dst, &key, fmt);
            // Nothing in the sealed directory is readable as the plain model.
            assert!(
                !dst.join("model.onnx").exists(),
                "{model} {tag}: plaintext model in the sealed dir"
            );
            let policy = OpenOptions::new()
                .key(key.clone())
                .allow_paddlex_v1(fmt == OutputFormat::PaddleV1);
            let src = modelseal_deploy::ModelSource::open(&dst, &policy).unwrap();
            assert!(src.is_sealed());
            let mut sealed = Predictor::open(&src, &opts(BackendKind::OnnxRuntime)).unwrap();
            assert!(sealed.is_sealed());
            assert_eq!(
                sealed.predict(&img).unwrap(),
                want,
                "{model} {tag}: sealed result differs"
            );
        }
    }
}

#[test]
fn wrong_key_and_missing_key_are_clear_errors() {
    let Some(models) = models() else { return };
    let key = Key::generate().unwrap();
    let other = Key::generate().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("cls");
    seal(&models.join("cls"), &dst, &key, OutputFormat::V2);
    let e = match modelseal_deploy::ModelSource::open(
        &dst,
        &modelseal::OpenOptions::new().key(other.clone()),
    ) {
        Ok(src) => Predictor::open(&src, &opts(BackendKind::Auto))
            .err()
            .expect("wrong key must fail"),
        Err(e) => e,
    };
    let chain = error_chain(&e);
    assert!(chain.to_lowercase().contains("key"), "{chain}");
    assert!(has_kind(&e, modelseal::ErrorKind::WrongKey), "{chain}");
    let e = modelseal_deploy::ModelSource::open(&dst, &modelseal::OpenOptions::new())
        .err()
        .map(|e| error_chain(&e));
    if let Some(chain) = e {
        assert!(chain.to_lowercase().contains("key"), "{chain}");
    } else {
        panic!("opening a sealed directory without a key must fail");
    }
}

#[test]
fn tampered_member_is_reported_before_inference() {
    let Some(models) = models() else { return };
    let key = Key::generate().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("cls");
    seal(&models.join("cls"), &dst, &key, OutputFormat::V2);
    // Flip one byte in the largest sealed file (the model).
    let mut files: Vec<_> = std::fs::read_dir(&dst)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0));
    let big = files.last().unwrap().clone();
    let mut bytes = std::fs::read(&big).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&big, bytes).unwrap();
    let e = match modelseal_deploy::ModelSource::open(
        &dst,
        &modelseal::OpenOptions::new().key(key.clone()),
    ) {
        Ok(src) => Predictor::open(&src, &opts(BackendKind::Auto))
            .err()
            .expect("tampered model must fail"),
        Err(e) => e,
    };
    assert!(
        has_kind(&e, modelseal::ErrorKind::Integrity),
        "{}",
        error_chain(&e)
    );
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn has_kind(e: &(dyn std::error::Error + 'static), kind: modelseal::ErrorKind) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(m) = c.downcast_ref::<modelseal::Error>() {
            return m.kind() == kind;
        }
        cur = c.source();
    }
    false
}
