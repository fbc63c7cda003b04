//! The raw view of `modelseal serve`: the model's own tensors described as the ONNX model
//! declares them and run on tract like on ONNX Runtime (the fetched `cls` model).

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use support::serve::{serve_command, Server};

/// A deterministic FP32 tensor of `shape` with values in [-1, 1], as a raw-view JSON input.
fn fp32_input(name: &str, shape: &[usize]) -> (Value, Vec<f32>) {
    let n: usize = shape.iter().product();
    let data: Vec<f32> = (0..n)
        .map(|i| ((i * 7919) % 2001) as f32 / 1000.0 - 1.0)
        .collect();
    (
        json!({"name": name, "datatype": "FP32", "shape": shape, "data": data}),
        data,
    )
}

/// The FP32 elements of an output in a JSON answer.
fn f32_data(v: &Value) -> Vec<f32> {
    v["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data in {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

/// The ONNX Runtime library: `ORT_DYLIB_PATH`, else that of the `onnxruntime` package of
/// `$PYTHON` (default `python3`).
fn ort_library() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
    let out = Command::new(python)
        .args([
            "-B",
            "-c",
            "import os, onnxruntime; print(os.path.dirname(onnxruntime.__file__))",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let capi = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("capi");
    let mut libs: Vec<PathBuf> = std::fs::read_dir(capi)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.so"))
        })
        .collect();
    libs.sort();
    libs.pop()
}

/// Starts a server on ONNX Runtime, or `None` (a failure under CI) when its library is not found.
fn start_onnxruntime(args: &[&str]) -> Option<Server> {
    let lib = ort_library();
    if !support::need(
        lib.is_some(),
        "the ONNX Runtime library (ORT_DYLIB_PATH, or pip install onnxruntime==1.32.0)",
    ) {
        return None;
    }
    let lib = lib.unwrap().display().to_string();
    let s = Server::launch(serve_command(
        "onnxruntime",
        args,
        &[("ORT_DYLIB_PATH", &lib)],
    ));
    Some(s.unwrap_or_else(|(code, log)| panic!("onnxruntime server: exit {code}: {log}")))
}

#[test]
fn the_raw_view_on_tract_describes_the_models_tensors_and_runs_them_like_onnxruntime() {
    let Some(m) = support::models() else { return };
    let model = format!("cls={}", m.join("cls").display());
    let s = Server::start(&["--model", &model], &[]).unwrap();
    let (st, md) = s.json("GET", "/v2/models/cls-raw", &Value::Null);
    assert_eq!(st, 200, "{md}");
    assert_eq!(md["platform"], "tract_onnx");
    // Names, data types and shapes as the ONNX model declares them (free dimensions -1).
    assert_eq!(
        md["inputs"],
        json!([{"name": "x", "datatype": "FP32", "shape": [-1, 3, -1, -1]}])
    );
    assert_eq!(
        md["outputs"],
        json!([{"name": "save_infer_model/scale_0.tmp_1", "datatype": "FP32", "shape": [-1, 2]}])
    );
    // The same tensors run: two inputs of the configured size, and another size.
    let mut answers = Vec::new();
    for shape in [[2, 3, 48, 192], [1, 3, 32, 100]] {
        let (input, _) = fp32_input("x", &shape);
        let (st, out) = s.json(
            "POST",
            "/v2/models/cls-raw/infer",
            &json!({"inputs": [input]}),
        );
        assert_eq!(st, 200, "{out}");
        let o = &out["outputs"][0];
        assert_eq!(o["name"], "save_infer_model/scale_0.tmp_1");
        assert_eq!(o["datatype"], "FP32");
        assert_eq!(o["shape"], json!([shape[0], 2]));
        answers.push(f32_data(o));
    }
    // Requests that do not fit the declared tensors are refused, naming the problem.
    let (input, _) = fp32_input("x", &[1, 4, 48, 192]);
    let (st, out) = s.json(
        "POST",
        "/v2/models/cls-raw/infer",
        &json!({"inputs": [input]}),
    );
    assert_eq!(st, 400, "{out}");
    assert!(
        out["error"].as_str().unwrap().contains("[-1, 3, -1, -1]"),
        "{out}"
    );
    assert_eq!(s.stop().0, 0);

    // ONNX Runtime describes the same tensors and computes the same outputs.
    let Some(ort) = start_onnxruntime(&["--model", &model]) else {
        return;
    };
    let (st, ort_md) = ort.json("GET", "/v2/models/cls-raw", &Value::Null);
    assert_eq!(st, 200);
    assert_eq!(ort_md["platform"], "onnxruntime_onnx");
    assert_eq!(ort_md["inputs"], md["inputs"]);
    assert_eq!(ort_md["outputs"], md["outputs"]);
    for (shape, tract_out) in [[2, 3, 48, 192], [1, 3, 32, 100]].iter().zip(&answers) {
        let (input, _) = fp32_input("x", shape);
        let (st, out) = ort.json(
            "POST",
            "/v2/models/cls-raw/infer",
            &json!({"inputs": [input]}),
        );
        assert_eq!(st, 200, "{out}");
        let o = f32_data(&out["outputs"][0]);
        assert_eq!(o.len(), tract_out.len());
        for (a, b) in o.iter().zip(tract_out) {
            assert!(
                (a - b).abs() <= 1e-5,
                "onnxruntime {o:?} vs tract {tract_out:?}"
            );
        }
    }
    assert_eq!(ort.stop().0, 0);
}
