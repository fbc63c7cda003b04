//! Legacy ProgramDesc bytes through the whole importer (parse + translate), with the input also
//! split into program and parameters.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = modelseal_paddle::ImportOptions::default();
    let _ = modelseal_paddle::detect(data);
    let _ = modelseal_paddle::operator_types(data);
    let _ = modelseal_paddle::import(data, &[], &opts);
    if data.len() > 2 {
        let cut = (data[0] as usize * 256 + data[1] as usize) % data.len();
        let _ = modelseal_paddle::import(&data[2..cut.max(2)], &data[cut.max(2)..], &opts);
    }
});
