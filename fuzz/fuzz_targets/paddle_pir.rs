//! PIR JSON programs through the whole importer; non-JSON input is wrapped so the fuzzer
//! spends its time inside the JSON structure.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = modelseal_paddle::ImportOptions::default();
    let _ = modelseal_paddle::import(data, &[], &opts);
    if let Ok(text) = std::str::from_utf8(data) {
        let wrapped = format!(
            "{{\"base_code\":{{\"magic\":\"pir\",\"trainable\":false,\"version\":4}},\"program\":{{\"regions\":[{{\"#\":\"region_0\",\"blocks\":[{{\"#\":\"block_0\",\"args\":[],\"ops\":[{text}]}}]}}]}}}}"
        );
        let _ = modelseal_paddle::import(wrapped.as_bytes(), &[], &opts);
    }
});
