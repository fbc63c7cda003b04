//! Paddle's combined parameters stream: the reader must never panic or allocate beyond what the
//! input could hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tensors) = modelseal_paddle::params::read_tensors(data) {
        let total: usize = tensors.iter().map(|t| t.data.len()).sum();
        assert!(total <= data.len());
    }
});
