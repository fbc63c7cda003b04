//! Fuzzes the v2 header parser: no panic, and a parsed header re-encodes to the bytes it came from.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = modelseal::internal::parse_header(data) {
        let enc = h.encode();
        assert_eq!(&data[..enc.len()], &enc[..]);
        let _ = h.sealed_len();
    }
});
