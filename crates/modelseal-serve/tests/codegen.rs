//! The gRPC code in src/pb/inference.rs is generated from proto/open_inference_grpc.proto with
//! protox (a Rust protobuf compiler, no protoc) and tonic-prost-build, and committed. This test
//! regenerates it and fails when the committed file differs; `MODELSEAL_REGENERATE=1` rewrites it.

use std::path::Path;

#[test]
fn committed_grpc_code_matches_the_proto() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let proto = root.join("proto/open_inference_grpc.proto");
    let fds = protox::compile([&proto], [root.join("proto")]).expect("the proto compiles");
    let out = tempfile::tempdir().unwrap();
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .build_transport(false)
        .bytes(".inference")
        .out_dir(out.path())
        .compile_fds(fds)
        .expect("code generation");
    let generated = std::fs::read_to_string(out.path().join("inference.rs")).unwrap();
    let header =
        "// Generated from proto/open_inference_grpc.proto by tests/codegen.rs; do not edit.\n";
    let generated = format!("{header}{generated}");
    let committed_path = root.join("src/pb/inference.rs");
    if std::env::var_os("MODELSEAL_REGENERATE").is_some() {
        std::fs::write(&committed_path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == generated,
        "src/pb/inference.rs is not what proto/open_inference_grpc.proto generates; run \
         MODELSEAL_REGENERATE=1 cargo test -p modelseal-serve --test codegen and commit the result"
    );
}
