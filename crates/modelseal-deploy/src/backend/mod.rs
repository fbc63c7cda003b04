//! Inference backends behind one trait, both loading the model from memory:
//! ONNX Runtime (dynamically loaded, fast) and tract (pure Rust fallback).

use crate::error::{Error, Result};

pub mod onnxruntime;
#[cfg(feature = "tract")]
pub mod tract;

/// Element data of a tensor.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    /// `float32`.
    F32(Vec<f32>),
    /// `int32`.
    I32(Vec<i32>),
    /// `int64`.
    I64(Vec<i64>),
}

/// A dense tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Shape.
    pub shape: Vec<usize>,
    /// Data, row-major.
    pub data: TensorData,
}

impl Tensor {
    /// A `float32` tensor.
    pub fn f32(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        Tensor {
            shape,
            data: TensorData::F32(data),
        }
    }
    /// Values as `f32` (integers converted).
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.data {
            TensorData::F32(v) => v.clone(),
            TensorData::I32(v) => v.iter().map(|&x| x as f32).collect(),
            TensorData::I64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }
    /// Whether the elements are integers.
    pub fn is_int(&self) -> bool {
        !matches!(self.data, TensorData::F32(_))
    }
}

/// Element type of a model input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElemType {
    /// `float32`.
    F32,
    /// `int32`.
    I32,
    /// `int64`.
    I64,
    /// Anything else (not fed by this SDK).
    Other,
}

/// A model input (or output) as declared by the model.
#[derive(Debug, Clone, PartialEq)]
pub struct InputInfo {
    /// Name.
    pub name: String,
    /// Element type.
    pub elem: ElemType,
    /// Declared shape; `-1` for a dynamic dimension.
    pub shape: Vec<i64>,
}

/// Which backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendKind {
    /// ONNX Runtime when its library is found, else tract.
    #[default]
    Auto,
    /// ONNX Runtime (dynamically loaded).
    OnnxRuntime,
    /// tract (pure Rust).
    Tract,
}

impl std::str::FromStr for BackendKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(BackendKind::Auto),
            "onnxruntime" | "ort" => Ok(BackendKind::OnnxRuntime),
            "tract" => Ok(BackendKind::Tract),
            o => Err(format!(
                "unknown backend {o:?}; accepted: auto, onnxruntime, tract"
            )),
        }
    }
}

/// Options of a backend session.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BackendOptions {
    /// Backend choice.
    pub kind: BackendKind,
    /// Intra-op threads (`None`: the backend's default).
    pub threads: Option<usize>,
    /// Run on the GPU (CUDA execution provider).
    pub use_gpu: bool,
    /// Use TensorRT (implies the GPU).
    pub use_trt: bool,
    /// GPU device id.
    pub gpu_id: i32,
    /// Graph optimisation (`--use_ir_optim`); on by default in the CLI.
    pub ir_optim: bool,
}

/// A loaded model ready to run.
pub trait Backend: Send {
    /// `onnxruntime` or `tract`.
    fn name(&self) -> &'static str;
    /// The model's inputs.
    fn inputs(&self) -> &[InputInfo];
    /// The model's output names, in order.
    fn output_names(&self) -> &[String];
    /// The model's outputs as declared by the model, in order (element type and shape as far as
    /// the backend knows them; by default unknown: [`ElemType::Other`] and an empty shape).
    fn output_infos(&self) -> Vec<InputInfo> {
        self.output_names()
            .iter()
            .map(|n| InputInfo {
                name: n.clone(),
                elem: ElemType::Other,
                shape: Vec::new(),
            })
            .collect()
    }
    /// Runs the model; inputs are given by name, outputs come back in model order.
    fn run(&mut self, inputs: &[(String, Tensor)]) -> Result<Vec<Tensor>>;
}

/// Builds a backend from model bytes held in memory. `model` names the member for errors.
pub fn load(model_bytes: &[u8], model: &str, opts: &BackendOptions) -> Result<Box<dyn Backend>> {
    match opts.kind {
        BackendKind::OnnxRuntime => load_ort(model_bytes, model, opts),
        BackendKind::Tract => load_tract(model_bytes, model, opts),
        BackendKind::Auto => {
            if cfg!(feature = "onnxruntime") && onnxruntime::find_library().is_some() {
                load_ort(model_bytes, model, opts)
            } else {
                load_tract(model_bytes, model, opts)
            }
        }
    }
}

#[cfg(feature = "onnxruntime")]
fn load_ort(model_bytes: &[u8], model: &str, opts: &BackendOptions) -> Result<Box<dyn Backend>> {
    Ok(Box::new(onnxruntime::OrtBackend::load(
        model_bytes,
        model,
        opts,
    )?))
}

#[cfg(not(feature = "onnxruntime"))]
fn load_ort(_: &[u8], _: &str, _: &BackendOptions) -> Result<Box<dyn Backend>> {
    Err(Error::BackendUnavailable {
        backend: "onnxruntime",
        message: "this build has no ONNX Runtime backend (feature `onnxruntime` is off)".into(),
    })
}

#[cfg(feature = "tract")]
fn load_tract(model_bytes: &[u8], model: &str, opts: &BackendOptions) -> Result<Box<dyn Backend>> {
    if opts.use_gpu || opts.use_trt {
        return Err(Error::BackendUnavailable {
            backend: "tract",
            message: "tract runs on the CPU only; GPU inference (use_gpu/use_trt) needs the onnxruntime backend with onnxruntime-gpu".into(),
        });
    }
    Ok(Box::new(tract::TractBackend::load(
        model_bytes,
        model,
        opts,
    )?))
}

#[cfg(not(feature = "tract"))]
fn load_tract(_: &[u8], _: &str, _: &BackendOptions) -> Result<Box<dyn Backend>> {
    Err(Error::BackendUnavailable {
        backend: "tract",
        message: "this build has no tract backend (feature `tract` is off); use the onnxruntime backend (set ORT_DYLIB_PATH if its library is not found)".into(),
    })
}
