//! Fuzzes the manifest parser and its path validation: no panic, and every accepted member name is a
//! safe relative path whose file is the name plus ".sealed".
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((_, members)) = modelseal::internal::parse_manifest(data) {
        for m in members {
            assert!(!m.name.starts_with('/') && !m.name.split('/').any(|c| c == ".." || c.is_empty()));
            assert_eq!(m.file, format!("{}.sealed", m.name));
        }
    }
});
