//! Regenerates the committed Rust code for Paddle's `framework.proto` and ONNX's `onnx.proto3`
//! (`src/proto/*.rs`) with prost-build and the pure-Rust protobuf compiler protox; no protoc.
//!
//! Run: `cargo run -p modelseal-paddle --example gen_proto` (writes into `src/proto/`), or with a
//! directory argument to write there instead. The test `tests/proto_codegen.rs` regenerates into
//! a temporary directory and fails when the committed files differ.

use std::path::{Path, PathBuf};

/// The schema files and the generated file each one becomes, relative to the crate.
pub const SCHEMAS: &[(&str, &str, &str)] = &[
    // (proto file, prost's output file name, committed file name)
    ("framework.proto", "paddle.framework.proto.rs", "paddle.rs"),
    ("onnx.proto3", "onnx.rs", "onnx.rs"),
];

/// Generates every schema's Rust code into `out` under its committed file name.
pub fn generate(crate_dir: &Path, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = crate_dir.join("proto");
    let scratch = tempfile::tempdir()?;
    for (proto, generated, committed) in SCHEMAS {
        let fds = protox::compile([proto_dir.join(proto)], [&proto_dir])?;
        prost_build::Config::new()
            .out_dir(scratch.path())
            .disable_comments(["."])
            .format(true)
            .compile_fds(fds)?;
        let code = std::fs::read_to_string(scratch.path().join(generated))?;
        let header = format!(
            "// Generated from proto/{proto} by examples/gen_proto.rs (prost-build + protox). Do not edit.\n\n"
        );
        std::fs::write(out.join(committed), header + &code)?;
    }
    Ok(())
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir.join("src").join("proto"));
    std::fs::create_dir_all(&out)?;
    generate(&crate_dir, &out)?;
    println!("wrote {}", out.display());
    Ok(())
}
