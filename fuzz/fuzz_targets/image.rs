//! Fuzzes image decoding (JPEG, PNG, BMP, WebP, TIFF, with EXIF orientation) under small limits:
//! an error or an image within the limits, never a panic or an allocation past them.
#![no_main]
use libfuzzer_sys::fuzz_target;
use modelseal_deploy::image::{decode_with_limits, DecodeLimits};

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits {
        max_pixels: 1 << 20,
        max_alloc: 64 << 20,
    };
    if let Ok(m) = decode_with_limits(data, "fuzz", &limits) {
        assert!((m.width as u64) * (m.height as u64) <= limits.max_pixels);
    }
});
