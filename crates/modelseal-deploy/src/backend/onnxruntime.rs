//! ONNX Runtime backend through the `ort` crate, loading `libonnxruntime` at run time
//! (`ORT_DYLIB_PATH`, else a pip-installed `onnxruntime`) and sessions from memory.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::ep::{self, ExecutionProvider};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::{TensorElementType, ValueType};

use super::{Backend, BackendOptions, ElemType, InputInfo, Tensor, TensorData};
use crate::error::{Error, Result};

const NAME: &str = "onnxruntime";

fn err(message: impl Into<String>) -> Error {
    Error::Backend {
        backend: NAME,
        message: message.into(),
    }
}

#[cfg(target_os = "windows")]
const LIB_NAMES: &[&str] = &["onnxruntime.dll"];
#[cfg(target_os = "macos")]
const LIB_NAMES: &[&str] = &["libonnxruntime.dylib"];
#[cfg(not(any(target_os = "windows", target_os = "macos")))]
const LIB_NAMES: &[&str] = &["libonnxruntime.so"];

fn lib_in_capi(dir: &Path) -> Option<PathBuf> {
    let capi = dir.join("onnxruntime").join("capi");
    let rd = std::fs::read_dir(&capi).ok()?;
    let mut found: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .map(|n| LIB_NAMES.iter().any(|l| n.starts_with(l)))
                .unwrap_or(false)
        })
        .collect();
    found.sort();
    found.pop()
}

/// Finds the ONNX Runtime shared library: `ORT_DYLIB_PATH`, then the `onnxruntime` package in
/// the site-packages of `python3` (asked without importing anything or writing bytecode).
pub fn find_library() -> Option<PathBuf> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
                let p = PathBuf::from(p);
                return p.is_file().then_some(p);
            }
            let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
            let out = std::process::Command::new(python)
                .args([
                    "-B",
                    "-c",
                    "import site,sys\nfor p in site.getsitepackages()+[site.getusersitepackages()]+sys.path: print(p)",
                ])
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .stderr(std::process::Stdio::null())
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            text.lines()
                .filter(|l| !l.is_empty())
                .find_map(|l| lib_in_capi(Path::new(l)))
        })
        .clone()
}

static ENV: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
static ENV_HANDLE: OnceLock<ort::environment::Environment> = OnceLock::new();

fn environment() -> Result<&'static ort::environment::Environment> {
    let r = ENV.get_or_init(|| {
        let lib = find_library().ok_or_else(|| {
            "ONNX Runtime library not found: set ORT_DYLIB_PATH to libonnxruntime, or `pip install onnxruntime==1.32.0`".to_string()
        })?;
        // The library writes a telemetry cache under ~/.cache unless this is set before it starts;
        // a deployment that promises to write nothing but its outputs turns it off. Setting it
        // here happens before any ONNX Runtime thread exists.
        std::env::set_var("ORT_DISABLE_TELEMETRY", "1");
        let builder = ort::init_from(&lib).map_err(|e| format!("cannot load {}: {e}", lib.display()))?;
        let env = builder
            .with_name("modelseal")
            .with_telemetry(false)
            .build()
            .map_err(|e| format!("cannot start ONNX Runtime from {}: {e}", lib.display()))?;
        let _ = ENV_HANDLE.set(env);
        Ok(lib)
    });
    match r {
        Ok(_) => ENV_HANDLE.get().ok_or_else(|| err("environment missing")),
        Err(e) => Err(err(e.clone())),
    }
}

/// The library path in use, once loaded.
pub fn library_path() -> Option<PathBuf> {
    ENV.get().and_then(|r| r.as_ref().ok().cloned())
}

/// A session built from model bytes.
pub struct OrtBackend {
    session: Session,
    inputs: Vec<InputInfo>,
    outputs: Vec<String>,
}

impl OrtBackend {
    /// Builds a session from `model_bytes` (copied by ONNX Runtime; the caller wipes its copy).
    pub fn load(model_bytes: &[u8], model: &str, opts: &BackendOptions) -> Result<Self> {
        let env = environment()?;
        let mut b = Session::builder(env).map_err(|e| err(format!("session builder: {e}")))?;
        if let Some(t) = opts.threads {
            b = b
                .with_intra_threads(t)
                .map_err(|e| err(format!("thread_num {t}: {e}")))?;
        }
        let level = if opts.ir_optim {
            GraphOptimizationLevel::All
        } else {
            GraphOptimizationLevel::Disable
        };
        b = b
            .with_optimization_level(level)
            .map_err(|e| err(format!("use_ir_optim: {e}")))?;
        if opts.use_trt || opts.use_gpu {
            let lib = library_path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let mut eps = Vec::new();
            if opts.use_trt {
                if !ep::TensorRT::is_available().unwrap_or(false) {
                    return Err(err(format!(
                        "--use_trt: the TensorRT execution provider is not available in {lib} (install onnxruntime-gpu and TensorRT)"
                    )));
                }
                eps.push(
                    ep::TensorRT::default()
                        .with_device_id(opts.gpu_id)
                        .build()
                        .error_on_failure(),
                );
            }
            if !ep::CUDA::is_available().unwrap_or(false) {
                return Err(err(format!(
                    "--use_gpu: the CUDA execution provider is not available in {lib} (install onnxruntime-gpu==1.32.0 and point ORT_DYLIB_PATH at its library)"
                )));
            }
            eps.push(
                ep::CUDA::default()
                    .with_device_id(opts.gpu_id)
                    .build()
                    .error_on_failure(),
            );
            b = b
                .with_execution_providers(eps)
                .map_err(|e| err(format!("GPU {}: {e}", opts.gpu_id)))?;
        }
        let session = b
            .commit_from_memory(model_bytes)
            .map_err(|e| Error::Model {
                model: model.to_string(),
                message: format!("ONNX Runtime cannot load it: {e}"),
            })?;
        let inputs = session
            .inputs()
            .iter()
            .map(|o| {
                let (elem, shape) = match o.dtype() {
                    ValueType::Tensor { ty, shape, .. } => (
                        match ty {
                            TensorElementType::Float32 => ElemType::F32,
                            TensorElementType::Int32 => ElemType::I32,
                            TensorElementType::Int64 => ElemType::I64,
                            _ => ElemType::Other,
                        },
                        shape.iter().copied().collect(),
                    ),
                    _ => (ElemType::Other, Vec::new()),
                };
                InputInfo {
                    name: o.name().to_string(),
                    elem,
                    shape,
                }
            })
            .collect();
        let outputs = session
            .outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        Ok(OrtBackend {
            session,
            inputs,
            outputs,
        })
    }
}

impl Backend for OrtBackend {
    fn name(&self) -> &'static str {
        NAME
    }
    fn inputs(&self) -> &[InputInfo] {
        &self.inputs
    }
    fn output_names(&self) -> &[String] {
        &self.outputs
    }
    fn run(&mut self, inputs: &[(String, Tensor)]) -> Result<Vec<Tensor>> {
        let mut values: Vec<(String, ort::session::SessionInputValue<'_>)> =
            Vec::with_capacity(inputs.len());
        for (name, t) in inputs {
            let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
            // Borrowed views: no copy of the (possibly large) input tensors.
            let v: ort::session::SessionInputValue<'_> = match &t.data {
                TensorData::F32(d) => {
                    ort::value::TensorRef::from_array_view((shape, d.as_slice())).map(Into::into)
                }
                TensorData::I32(d) => {
                    ort::value::TensorRef::from_array_view((shape, d.as_slice())).map(Into::into)
                }
                TensorData::I64(d) => {
                    ort::value::TensorRef::from_array_view((shape, d.as_slice())).map(Into::into)
                }
            }
            .map_err(|e| err(format!("input {name}: {e}")))?;
            values.push((name.clone(), v));
        }
        let outs = self
            .session
            .run(values)
            .map_err(|e| err(format!("inference failed: {e}")))?;
        let mut result = Vec::with_capacity(self.outputs.len());
        for name in &self.outputs {
            let v = outs
                .get(name.as_str())
                .ok_or_else(|| err(format!("output {name} missing")))?;
            let t = if let Ok((s, d)) = v.try_extract_tensor::<f32>() {
                Tensor {
                    shape: s.iter().map(|&x| x as usize).collect(),
                    data: TensorData::F32(d.to_vec()),
                }
            } else if let Ok((s, d)) = v.try_extract_tensor::<i64>() {
                Tensor {
                    shape: s.iter().map(|&x| x as usize).collect(),
                    data: TensorData::I64(d.to_vec()),
                }
            } else if let Ok((s, d)) = v.try_extract_tensor::<i32>() {
                Tensor {
                    shape: s.iter().map(|&x| x as usize).collect(),
                    data: TensorData::I32(d.to_vec()),
                }
            } else {
                return Err(err(format!(
                    "output {name} is not a float32/int32/int64 tensor"
                )));
            };
            result.push(t);
        }
        Ok(result)
    }
}
