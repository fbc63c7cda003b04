//! `modelseal serve`: an Open Inference Protocol (KServe v2) server for sealed models, over REST
//! (JSON and binary tensors) and gRPC, with dynamic batching, a bounded queue, Prometheus metrics
//! and graceful shutdown. Each model `NAME` is served as `NAME` (whole pipeline) and `NAME-raw`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod args;
pub mod batch;
pub mod error;
pub mod grpc;
mod harden;
pub mod metrics;
pub mod model;
pub mod open;
pub mod pb;
pub mod protocol;
pub mod rest;
pub mod server;
pub mod tensor;

pub use args::ServeArgs;
pub use error::{ApiError, ServeError, ServeErrorKind};
pub use open::open_model;
pub use server::run;
