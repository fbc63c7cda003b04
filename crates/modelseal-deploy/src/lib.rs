//! Deployment SDK for sealed models: open a sealed (or plain) model directory in memory only,
//! and run classification, detection or segmentation with PaddleX/PaddleClas/PaddleDetection/
//! PaddleSeg-compatible pre- and post-processing on ONNX Runtime or tract.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backend;
pub mod config;
pub mod error;
pub mod image;
pub mod postprocess;
pub mod predictor;
pub mod runner;
pub mod sealed;
pub mod source;
pub mod transforms;
pub mod vis;

pub use backend::{BackendKind, BackendOptions};
pub use config::{ModelConfig, Task};
pub use error::{Error, Result};
pub use postprocess::{ClassScore, DetBox, Prediction, SegMap};
pub use predictor::{PostProcessor, Predictor, RawOutput};
pub use sealed::SealedSource;
pub use source::{ModelSource, PlainSource};
