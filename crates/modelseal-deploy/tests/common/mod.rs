//! Shared helpers of the integration tests: where the fetched models, images and goldens are,
//! and the skip-or-fail rule (skip locally with a message when absent; fail under CI).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use modelseal_deploy::backend::{onnxruntime, BackendKind};
use modelseal_deploy::{BackendOptions, Predictor};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// The fetched models directory, or `None` (with a printed reason) when absent outside CI.
pub fn models() -> Option<PathBuf> {
    let dir = std::env::var_os("MODELSEAL_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".models"));
    if dir.join("cls").join("model.onnx").is_file() && dir.join("images").is_dir() {
        return Some(dir);
    }
    if in_ci() {
        panic!(
            "models missing at {} under CI: run scripts/fetch_models.sh first",
            dir.display()
        );
    }
    eprintln!(
        "SKIP: real models not found at {} (run scripts/fetch_models.sh)",
        dir.display()
    );
    None
}

/// Whether ONNX Runtime's library is found: the SDK's own search, else an `onnxruntime` Python
/// package (asked of `$PYTHON` or `python3`, as the modelseal tools do), handed to the SDK.
pub fn ort_found() -> bool {
    if onnxruntime::find_library().is_some() {
        return true;
    }
    let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
    let Ok(out) = std::process::Command::new(python)
        .args([
            "-B",
            "-c",
            "import site,sys\nfor p in site.getsitepackages()+sys.path: print(p)",
        ])
        .output()
    else {
        return false;
    };
    let dirs: Vec<PathBuf> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .collect();
    match onnxruntime::library_in_site_dirs(&dirs) {
        Some(p) => {
            onnxruntime::use_library(p);
            true
        }
        None => false,
    }
}

/// Models plus a loadable ONNX Runtime, or `None` (printed) outside CI.
pub fn models_and_ort() -> Option<PathBuf> {
    let m = models()?;
    if ort_found() {
        return Some(m);
    }
    if in_ci() {
        panic!("ONNX Runtime not found under CI: pip install -r scripts/ci/requirements-test.txt or set ORT_DYLIB_PATH");
    }
    eprintln!("SKIP: ONNX Runtime library not found (pip install onnxruntime==1.32.0 or set ORT_DYLIB_PATH)");
    None
}

pub fn golden(name: &str) -> serde_json::Value {
    let p = repo_root()
        .join("tests")
        .join("goldens")
        .join(format!("{name}.json"));
    let text =
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("golden {}: {e}", p.display()));
    serde_json::from_str::<serde_json::Value>(&text).expect("golden JSON")["data"].clone()
}

pub fn opts(kind: BackendKind) -> BackendOptions {
    BackendOptions {
        kind,
        threads: Some(1),
        ir_optim: true,
        ..Default::default()
    }
}

pub fn open_plain(dir: &Path, kind: BackendKind) -> Predictor {
    let src = modelseal_deploy::ModelSource::open(dir, &modelseal::OpenOptions::new())
        .expect("open plain dir");
    Predictor::open(&src, &opts(kind)).unwrap_or_else(|e| panic!("open {}: {e}", dir.display()))
}

/// The sample positions of the golden script: `(k * 7919 + 13) % n`.
pub fn sample<T: Copy>(flat: &[T], k: usize) -> T {
    flat[(k * 7919 + 13) % flat.len()]
}

pub fn samples_f64(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("samples array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn is_png(name: &str) -> bool {
    name.ends_with(".png")
}
