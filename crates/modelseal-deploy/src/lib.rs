//! Deployment SDK for sealed models: open a sealed (or plain) model directory in memory only,
//! and run classification, detection or segmentation with PaddleX/PaddleClas/PaddleDetection/
//! PaddleSeg-compatible pre- and post-processing on ONNX Runtime or tract.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod backend;
pub mod config;
pub mod error;
pub mod image;
pub mod json;
pub mod model;
pub mod postprocess;
pub mod predictor;
pub mod runner;
pub mod source;
pub mod transforms;
pub mod vis;

pub use backend::{BackendKind, BackendOptions};
pub use config::{ModelConfig, Task};
pub use error::{Error, ErrorKind, Result};
pub use model::ModelFiles;
pub use postprocess::{ClassScore, DetBox, Prediction, SegMap};
pub use predictor::{PostProcessor, Predictor, RawOutput};
pub use source::ModelSource;
