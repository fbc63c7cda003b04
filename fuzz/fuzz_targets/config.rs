//! Fuzzes config parsing (every suite's YAML: PaddleX model.yml, PaddleClas/PaddleX 3 inference.yml,
//! PaddleDetection infer_cfg.yml, PaddleSeg deploy.yaml): an error or a config, never a panic,
//! and no unbounded work (alias expansion and size are bounded).
#![no_main]
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 4] = ["model.yml", "inference.yml", "infer_cfg.yml", "deploy.yaml"];

fuzz_target!(|data: &[u8]| {
    if let Some((&first, rest)) = data.split_first() {
        let name = NAMES[first as usize % NAMES.len()];
        let _ = modelseal_deploy::config::parse(name, rest);
    }
});
