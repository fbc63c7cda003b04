//! Protobuf messages and the tonic service of the Open Inference Protocol (package `inference`),
//! generated from `proto/open_inference_grpc.proto` by `tests/codegen.rs` and committed.

#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub)]
pub mod inference;
