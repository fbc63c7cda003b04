//! The committed generated protobuf code equals what the generator writes now.

#[path = "../examples/gen_proto.rs"]
mod gen_proto;

use std::path::Path;

#[test]
fn committed_proto_code_matches_the_generator() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    gen_proto::generate(crate_dir, dir.path()).unwrap();
    for (proto, _, committed) in gen_proto::SCHEMAS {
        let fresh = std::fs::read_to_string(dir.path().join(committed)).unwrap();
        let have = std::fs::read_to_string(crate_dir.join("src/proto").join(committed)).unwrap();
        assert!(
            fresh == have,
            "src/proto/{committed} is out of date with proto/{proto}: run `cargo run -p modelseal-paddle --example gen_proto`"
        );
    }
}
