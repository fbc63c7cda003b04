//! ONNX Runtime backend through the `ort` crate, loading `libonnxruntime` at run time and
//! sessions from memory (feature `onnxruntime`). Finding the library starts no process and
//! changes no environment; it is available with or without the feature.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[cfg(feature = "onnxruntime")]
pub use session::*;

#[cfg(target_os = "windows")]
const LIB_NAMES: &[&str] = &["onnxruntime.dll"];
#[cfg(target_os = "macos")]
const LIB_NAMES: &[&str] = &["libonnxruntime.dylib"];
#[cfg(not(any(target_os = "windows", target_os = "macos")))]
const LIB_NAMES: &[&str] = &["libonnxruntime.so"];

/// The newest file in `dir` whose name starts with the ONNX Runtime library name
/// (`libonnxruntime.so`, `libonnxruntime.so.1.32.0`, ...).
fn lib_in(dir: &Path) -> Option<PathBuf> {
    let rd = std::fs::read_dir(dir).ok()?;
    let mut found: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .map(|n| LIB_NAMES.iter().any(|l| n.starts_with(l)))
                    .unwrap_or(false)
        })
        .collect();
    found.sort();
    found.pop()
}

/// The ONNX Runtime library of a Python `onnxruntime` package among `site_dirs` (site-packages
/// directories, e.g. as a Python interpreter lists them): `onnxruntime/capi/libonnxruntime*`.
pub fn library_in_site_dirs(site_dirs: &[PathBuf]) -> Option<PathBuf> {
    site_dirs
        .iter()
        .find_map(|d| lib_in(&d.join("onnxruntime").join("capi")))
}

static CHOSEN: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Uses `path` as the ONNX Runtime library. Call before the first ONNX Runtime session (the
/// binaries call it with what their own discovery found); later calls have no effect.
pub fn use_library(path: PathBuf) {
    if let Ok(mut c) = CHOSEN.lock() {
        *c = Some(path);
    }
}

/// The directories the dynamic loader searches, as far as they can be known without starting a
/// process: `LD_LIBRARY_PATH`, then the usual system directories.
fn loader_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("LD_LIBRARY_PATH")
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    for d in [
        "/usr/local/lib",
        "/usr/local/lib64",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
        "/lib/x86_64-linux-gnu",
        "/lib/aarch64-linux-gnu",
        "/lib64",
        "/lib",
    ] {
        dirs.push(PathBuf::from(d));
    }
    dirs
}

/// Finds the ONNX Runtime library, starting no process: the path given to [`use_library`], else
/// `ORT_DYLIB_PATH`, else next to the running executable (or in `../lib` from it), else in the
/// dynamic loader's search path. Binaries may add a last resort of their own (the modelseal
/// tools ask Python for an installed `onnxruntime` package) and pass it to [`use_library`].
pub fn find_library() -> Option<PathBuf> {
    if let Some(p) = CHOSEN.lock().ok().and_then(|c| c.clone()) {
        return p.is_file().then_some(p);
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        for d in [exe_dir.clone(), exe_dir.join("..").join("lib")] {
            if let Some(p) = lib_in(&d) {
                return Some(p);
            }
        }
    }
    loader_dirs().iter().find_map(|d| lib_in(d))
}

#[cfg(feature = "onnxruntime")]
mod session {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use ort::ep::{self, ExecutionProvider};
    use ort::session::builder::GraphOptimizationLevel;
    use ort::session::Session;
    use ort::value::{TensorElementType, ValueType};

    use super::find_library;
    use crate::backend::{Backend, BackendOptions, ElemType, InputInfo, Tensor, TensorData};
    use crate::error::{Error, Result};

    const NAME: &str = "onnxruntime";

    fn err(message: impl Into<String>) -> Error {
        Error::Backend {
            backend: NAME,
            message: message.into(),
        }
    }

    fn unavailable(message: impl Into<String>) -> Error {
        Error::BackendUnavailable {
            backend: NAME,
            message: message.into(),
        }
    }

    static ENV: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    static ENV_HANDLE: OnceLock<ort::environment::Environment> = OnceLock::new();

    fn environment() -> Result<&'static ort::environment::Environment> {
        let r = ENV.get_or_init(|| {
        let lib = find_library().ok_or_else(|| {
            "ONNX Runtime library not found: set ORT_DYLIB_PATH to libonnxruntime, or `pip install onnxruntime==1.32.0`".to_string()
        })?;
        // Telemetry off in the environment too; ONNX Runtime also reads ORT_DISABLE_TELEMETRY
        // from the process environment at start-up, which the binaries set (a library sets none).
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
            Ok(_) => ENV_HANDLE
                .get()
                .ok_or_else(|| unavailable("environment missing")),
            Err(e) => Err(unavailable(e.clone())),
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
        output_infos: Vec<InputInfo>,
    }

    fn value_info(name: &str, dtype: &ValueType) -> InputInfo {
        let (elem, shape) = match dtype {
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
            name: name.to_string(),
            elem,
            shape,
        }
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
                        return Err(unavailable(format!(
                        "TensorRT requested (use_trt), but the TensorRT execution provider is not available in {lib} (install onnxruntime-gpu and TensorRT)"
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
                    return Err(unavailable(format!(
                    "GPU requested (use_gpu), but the CUDA execution provider is not available in {lib} (install onnxruntime-gpu==1.32.0 and point ORT_DYLIB_PATH at its library)"
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
                .map_err(|e| Error::ModelLoad {
                    backend: NAME,
                    model: model.to_string(),
                    message: e.to_string(),
                })?;
            let inputs = session
                .inputs()
                .iter()
                .map(|o| value_info(o.name(), o.dtype()))
                .collect();
            let outputs = session
                .outputs()
                .iter()
                .map(|o| o.name().to_string())
                .collect();
            let output_infos = session
                .outputs()
                .iter()
                .map(|o| value_info(o.name(), o.dtype()))
                .collect();
            Ok(OrtBackend {
                session,
                inputs,
                outputs,
                output_infos,
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
        fn output_infos(&self) -> Vec<InputInfo> {
            self.output_infos.clone()
        }
        fn run(&mut self, inputs: &[(String, Tensor)]) -> Result<Vec<Tensor>> {
            let mut values: Vec<(String, ort::session::SessionInputValue<'_>)> =
                Vec::with_capacity(inputs.len());
            for (name, t) in inputs {
                let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
                // Borrowed views: no copy of the (possibly large) input tensors.
                let v: ort::session::SessionInputValue<'_> = match &t.data {
                    TensorData::F32(d) => {
                        ort::value::TensorRef::from_array_view((shape, d.as_slice()))
                            .map(Into::into)
                    }
                    TensorData::I32(d) => {
                        ort::value::TensorRef::from_array_view((shape, d.as_slice()))
                            .map(Into::into)
                    }
                    TensorData::I64(d) => {
                        ort::value::TensorRef::from_array_view((shape, d.as_slice()))
                            .map(Into::into)
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
}
