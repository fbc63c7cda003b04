//! Single sealed files and byte strings: sealing, opening from disk or memory, and decrypting to
//! a new private file, in both formats, never overwriting anything.

mod support;

use modelseal::{Error, ErrorKind, Key, OutputFormat};
use std::fs;
use support::pattern;
use tempfile::TempDir;

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
