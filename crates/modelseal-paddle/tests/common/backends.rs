//! Running an imported model on ONNX Runtime (library loaded at run time) and on tract.

use std::path::PathBuf;
use std::sync::OnceLock;

use modelseal_paddle::{Tensor, TensorData};

/// The ONNX Runtime library: `ORT_DYLIB_PATH`, else the `onnxruntime` package of `python3`.
pub fn ort_library() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let out = std::process::Command::new("python3")
        .args([
            "-B",
            "-c",
            "import site,sys\nfor p in site.getsitepackages()+sys.path: print(p)",
        ])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines().filter(|l| !l.is_empty()).find_map(|l| {
        let capi = PathBuf::from(l).join("onnxruntime").join("capi");
        let mut v: Vec<PathBuf> = std::fs::read_dir(&capi)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libonnxruntime.so"))
            })
            .collect();
        v.sort();
        v.pop()
    })
}

static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// The ONNX Runtime environment, or why there is none. Under `CI=true` a missing library is a
/// failure of the caller, never a silent skip.
pub fn ort_env() -> Result<&'static ort::environment::Environment, String> {
    ENV.get_or_init(|| {
        let lib = ort_library().ok_or("ONNX Runtime library not found (set ORT_DYLIB_PATH)")?;
        std::env::set_var("ORT_DISABLE_TELEMETRY", "1");
        ort::init_from(&lib)
            .map_err(|e| format!("cannot load {}: {e}", lib.display()))?
            .with_name("modelseal-paddle-tests")
            .with_telemetry(false)
            .build()
            .map_err(|e| format!("cannot start ONNX Runtime: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Whether ONNX Runtime tests run; panics under CI when the library is missing.
pub fn ort_available() -> bool {
    match ort_env() {
        Ok(_) => true,
        Err(e) if super::in_ci() => panic!("CI=true but ONNX Runtime is unavailable: {e}"),
        Err(e) => {
            eprintln!("skipping ONNX Runtime checks: {e}");
            false
        }
    }
}

pub fn run_ort(
    onnx: &[u8],
    inputs: &[(String, Tensor)],
    outputs: &[String],
) -> Result<Vec<Tensor>, String> {
    let env = ort_env()?;
    let mut session = ort::session::Session::builder(env)
        .map_err(|e| e.to_string())?
        .with_intra_threads(1)
        .map_err(|e| e.to_string())?
        .commit_from_memory(onnx)
        .map_err(|e| format!("ONNX Runtime cannot load the model: {e}"))?;
    let mut values: Vec<(String, ort::session::SessionInputValue<'_>)> = Vec::new();
    for (name, t) in inputs {
        let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
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
        .map_err(|e| format!("input {name}: {e}"))?;
        values.push((name.clone(), v));
    }
    let outs = session
        .run(values)
        .map_err(|e| format!("ONNX Runtime run: {e}"))?;
    let mut result = Vec::new();
    for name in outputs {
        let v = outs
            .get(name.as_str())
            .ok_or_else(|| format!("output {name} missing"))?;
        let shape = |s: &ort::value::Shape| s.iter().map(|&x| x as usize).collect::<Vec<_>>();
        let t = if let Ok((s, d)) = v.try_extract_tensor::<f32>() {
            Tensor::f32(shape(s), d.to_vec())
        } else if let Ok((s, d)) = v.try_extract_tensor::<i64>() {
            Tensor::i64(shape(s), d.to_vec())
        } else if let Ok((s, d)) = v.try_extract_tensor::<i32>() {
            Tensor::i32(shape(s), d.to_vec())
        } else if let Ok((s, d)) = v.try_extract_tensor::<bool>() {
            Tensor::i64(shape(s), d.iter().map(|&b| b as i64).collect())
        } else {
            return Err(format!("output {name}: unsupported element type"));
        };
        result.push(t);
    }
    Ok(result)
}

pub fn run_tract(model_bytes: &[u8], inputs: &[(String, Tensor)]) -> Result<Vec<Tensor>, String> {
    use tract_onnx::prelude::*;
    let mut model = tract_onnx::onnx()
        .with_ignore_output_shapes(true)
        .with_ignore_value_info(true)
        .model_for_read(&mut std::io::Cursor::new(model_bytes))
        .map_err(|e| format!("tract cannot load the model: {e:#}"))?;
    let mut values = TVec::new();
    for (i, (name, t)) in inputs.iter().enumerate() {
        let tensor = match &t.data {
            TensorData::F32(d) => tract_onnx::prelude::Tensor::from_shape(&t.shape, d),
            TensorData::I32(d) => tract_onnx::prelude::Tensor::from_shape(&t.shape, d),
            TensorData::I64(d) => tract_onnx::prelude::Tensor::from_shape(&t.shape, d),
        }
        .map_err(|e| format!("input {name}: {e}"))?;
        model = model
            .with_input_fact(
                i,
                InferenceFact::dt_shape(tensor.datum_type(), t.shape.clone()),
            )
            .map_err(|e| format!("input {name}: {e:#}"))?;
        values.push(tensor.into_tvalue());
    }
    let plan = model
        .into_optimized()
        .and_then(|m| m.into_runnable())
        .map_err(|e| format!("tract cannot plan the model: {e:#}"))?;
    let outs = plan.run(values).map_err(|e| format!("tract run: {e:#}"))?;
    outs.iter()
        .map(|o| {
            let shape = o.shape().to_vec();
            let vals = |t: &tract_onnx::prelude::Tensor| -> Result<TensorData, String> {
                Ok(match t.datum_type() {
                    DatumType::F32 => TensorData::F32(
                        t.to_plain_array_view::<f32>()
                            .map_err(|e| e.to_string())?
                            .iter()
                            .copied()
                            .collect(),
                    ),
                    DatumType::I64 => TensorData::I64(
                        t.to_plain_array_view::<i64>()
                            .map_err(|e| e.to_string())?
                            .iter()
                            .copied()
                            .collect(),
                    ),
                    DatumType::I32 => TensorData::I32(
                        t.to_plain_array_view::<i32>()
                            .map_err(|e| e.to_string())?
                            .iter()
                            .copied()
                            .collect(),
                    ),
                    DatumType::Bool => TensorData::I64(
                        t.to_plain_array_view::<bool>()
                            .map_err(|e| e.to_string())?
                            .iter()
                            .map(|&b| b as i64)
                            .collect(),
                    ),
                    dt => {
                        let c = t.cast_to::<f32>().map_err(|e| format!("{dt:?}: {e}"))?;
                        TensorData::F32(
                            c.to_plain_array_view::<f32>()
                                .map_err(|e| e.to_string())?
                                .iter()
                                .copied()
                                .collect(),
                        )
                    }
                })
            };
            Ok(modelseal_paddle::Tensor {
                shape,
                data: vals(o)?,
            })
        })
        .collect()
}
