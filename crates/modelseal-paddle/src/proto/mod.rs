//! Protobuf messages generated from the committed schemas (`proto/`) by `examples/gen_proto.rs`.
#![allow(missing_docs, clippy::all, clippy::pedantic)]

/// Paddle's `framework.proto` (package `paddle.framework.proto`).
pub mod paddle {
    include!("paddle.rs");
}

/// ONNX's `onnx.proto3` (package `onnx`).
pub mod onnx {
    include!("onnx.rs");
}
