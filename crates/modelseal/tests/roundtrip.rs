//! Property tests: sealing then opening returns the input, for sizes around chunk boundaries and many chunks,
//! through every opening path (bytes, file, stream); any single-byte change is refused.

use modelseal::internal::{self as v2, SealParams};
use modelseal::Key;
use modelseal::Kind;
use proptest::prelude::*;
use std::io::Read;
use std::path::Path;

fn params(chunk_log2: u8) -> SealParams {
    SealParams {
        kind: Kind::Member,
        name: "m.onnx".into(),
        seal_id: [1; 16],
        chunk_log2,
    }
}

fn sizes() -> impl Strategy<Value = (u8, usize)> {
    (12u8..=14).prop_flat_map(|log2| {
        let c = 1usize << log2;
        (
            Just(log2),
            prop_oneof![
                Just(0),
                Just(1),
                Just(c - 1),
                Just(c),
                Just(c + 1),
                Just(3 * c),
                0..8 * c + 7
            ],
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn seal_open_round_trip((log2, len) in sizes(), seed in any::<u8>()) {
        let key = Key::generate().unwrap();
        let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(seed | 1)).collect();
        let sealed = v2::seal_image(&key, &params(log2), &data).unwrap();
        let (h, plain) = v2::open_image(&key, &sealed, Path::new("x")).unwrap();
        prop_assert_eq!(h.plaintext_len as usize, len);
        prop_assert_eq!(&*plain, &data[..]);
        let mut streamed = Vec::new();
        v2::OpenReader::new(&key, &sealed[..], Path::new("x")).unwrap().read_to_end(&mut streamed).unwrap();
        prop_assert_eq!(&streamed, &data);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, &sealed).unwrap();
        prop_assert_eq!(&*v2::open_path(&key, &p).unwrap().1, &data[..]);
    }

    #[test]
    fn any_changed_byte_is_refused((log2, len) in sizes(), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let key = Key::generate().unwrap();
        let data = vec![7u8; len];
        let mut sealed = v2::seal_image(&key, &params(log2), &data).unwrap();
        let i = pos.index(sealed.len());
        sealed[i] ^= 1 << bit;
        prop_assert!(v2::open_image(&key, &sealed, Path::new("x")).is_err());
    }
}

#[test]
fn two_sealings_of_the_same_data_share_no_nonce_material() {
    let key = Key::generate().unwrap();
    let a = v2::seal_image(&key, &params(12), &[0u8; 5000]).unwrap();
    let b = v2::seal_image(&key, &params(12), &[0u8; 5000]).unwrap();
    let (ha, hb) = (v2::parse_header(&a).unwrap(), v2::parse_header(&b).unwrap());
    assert_ne!(ha.salt, hb.salt);
    assert_ne!(
        a[ha.len()..],
        b[hb.len()..],
        "same plaintext must not give the same ciphertext"
    );
}
