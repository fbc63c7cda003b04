//! Random and mutated inputs through the parsers and the importer (the fuzz targets' bodies,
//! run as property tests so CI exercises them without cargo-fuzz): no panic, no runaway memory.

mod common;

use modelseal_paddle::params::read_tensors;
use modelseal_paddle::{import, ImportOptions};
use proptest::prelude::*;

fn files(name: &str, fmt: &str) -> (Vec<u8>, Vec<u8>) {
    let dir = common::data_dir().join("ops").join(name);
    let ext = if fmt == "pir" { "json" } else { "pdmodel" };
    (
        std::fs::read(dir.join(format!("{fmt}.{ext}"))).unwrap(),
        std::fs::read(dir.join(format!("{fmt}.pdiparams")))
            .or_else(|_| std::fs::read(dir.join("params.pdiparams")))
            .unwrap(),
    )
}

/// Flips, overwrites or deletes bytes at the given positions.
fn mutate(mut v: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(pos, kind, byte) in edits {
        if v.is_empty() {
            break;
        }
        let p = pos % v.len();
        match kind % 4 {
            0 => v[p] ^= byte | 1,
            1 => v[p] = byte,
            2 => {
                v.remove(p);
            }
            _ => v.insert(p, byte),
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = modelseal_paddle::detect(&data);
        let _ = import(&data, &data, &ImportOptions::default());
        if let Ok(t) = read_tensors(&data) {
            prop_assert!(t.iter().map(|t| t.data.len()).sum::<usize>() <= data.len());
        }
    }

    #[test]
    fn mutated_legacy_programs_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)) {
        let (prog, params) = files("conv_basic", "legacy");
        let _ = import(&mutate(prog.clone(), &edits), &params, &ImportOptions::default());
        let _ = import(&prog, &mutate(params, &edits), &ImportOptions::default());
    }

    #[test]
    fn mutated_pir_programs_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)) {
        let (prog, params) = files("conv_basic", "pir");
        let _ = import(&mutate(prog, &edits), &params, &ImportOptions::default());
    }

    #[test]
    fn mutated_params_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)) {
        let (_, params) = files("batch_norm", "legacy");
        let m = mutate(params, &edits);
        if let Ok(t) = read_tensors(&m) {
            prop_assert!(t.iter().map(|t| t.data.len()).sum::<usize>() <= m.len());
        }
    }
}

/// Inputs that once crashed a fuzz target (tests/data/fuzz): each must now be an error.
#[test]
fn former_fuzz_crashes_are_errors() {
    let dir = common::data_dir().join("fuzz");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let bytes = std::fs::read(e.path()).unwrap();
        let r = import(&bytes, &[], &ImportOptions::default());
        assert!(r.is_err(), "{} was accepted", e.path().display());
        n += 1;
    }
    assert!(n > 0);
}
