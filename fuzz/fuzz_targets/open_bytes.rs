//! Fuzzes opening arbitrary bytes as a sealed file (v2, PaddleX v1, FastDeploy base64) with a fixed key:
//! no panic, and nothing opens unless it was sealed under that key.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = modelseal::Key::from_bytes([7u8; 32]);
    let _ = modelseal::open_bytes(&key, data, "fuzz");
    let _ = modelseal::internal::OpenReader::new(&key, data, std::path::Path::new("fuzz")).map(|mut r| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut r, &mut sink);
    });
});
