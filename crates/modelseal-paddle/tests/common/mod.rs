//! Shared test helpers: `.npy` files, the reference cases under `tests/data`, both backends
//! (ONNX Runtime loaded at run time, tract), and tolerant comparisons.
#![allow(dead_code)]

pub mod backends;
pub mod check;
pub mod npy;

use std::path::{Path, PathBuf};

use modelseal_paddle::{import, ImportOptions, Imported, Tensor, TensorData};
use serde_json::Value;

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
}

/// Where scripts/reference/fetch_paddle_models.sh put the real models:
/// `MODELSEAL_PADDLE_MODELS`, else `<repo>/.models/paddle`.
pub fn models_dir() -> PathBuf {
    std::env::var_os("MODELSEAL_PADDLE_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.models/paddle"))
}

pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// One reference case directory.
pub struct Case {
    pub dir: PathBuf,
    pub name: String,
    pub meta: Value,
}

impl Case {
    pub fn formats(&self) -> Vec<String> {
        self.meta["formats"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn kind(&self) -> &str {
        self.meta["kind"].as_str().unwrap_or("raw")
    }

    /// The fetched real model this case runs (`None` for committed programs).
    pub fn fetched(&self) -> Option<PathBuf> {
        self.meta["fetched"].as_str().map(|f| models_dir().join(f))
    }

    pub fn program(&self, fmt: &str) -> Vec<u8> {
        if let Some(dir) = self.fetched() {
            return std::fs::read(dir.join("inference.pdmodel")).unwrap();
        }
        let ext = if fmt == "pir" { "json" } else { "pdmodel" };
        std::fs::read(self.dir.join(format!("{fmt}.{ext}"))).unwrap()
    }

    /// The parameters file of a format (`params.pdiparams` when both formats share one).
    pub fn params(&self, fmt: &str) -> Vec<u8> {
        if let Some(dir) = self.fetched() {
            return std::fs::read(dir.join("inference.pdiparams")).unwrap();
        }
        let own = self.dir.join(format!("{fmt}.pdiparams"));
        let path = if own.exists() {
            own
        } else {
            self.dir.join("params.pdiparams")
        };
        std::fs::read(path).unwrap()
    }

    pub fn import(&self, fmt: &str) -> Result<Imported, modelseal_paddle::Error> {
        import(
            &self.program(fmt),
            &self.params(fmt),
            &ImportOptions::default(),
        )
    }

    /// The inputs, by feed name.
    pub fn inputs(&self) -> Vec<(String, Tensor)> {
        self.meta["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let t = npy::read(&self.dir.join(format!("in_{i}.npy")));
                (m["name"].as_str().unwrap().to_string(), t)
            })
            .collect()
    }

    /// Paddle's outputs for a format, with their names.
    pub fn expected(&self, fmt: &str) -> Vec<(String, Tensor)> {
        self.meta["outputs"][fmt]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let t = npy::read(&self.dir.join(format!("{fmt}_out_{i}.npy")));
                (m["name"].as_str().unwrap().to_string(), t)
            })
            .collect()
    }
}

/// Every case of a suite (`ops`, `models`, `det`), sorted by name.
pub fn cases(suite: &str) -> Vec<Case> {
    let dir = data_dir().join(suite);
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return out;
    };
    for e in rd.flatten() {
        let meta_path = e.path().join("case.json");
        if let Ok(text) = std::fs::read_to_string(&meta_path) {
            out.push(Case {
                name: e.file_name().to_string_lossy().into_owned(),
                dir: e.path(),
                meta: serde_json::from_str(&text).unwrap(),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Agreement of one output.
#[derive(Default, Clone, Copy, Debug)]
pub struct Diff {
    pub max_abs: f64,
    pub max_rel: f64,
    pub bad: usize,
    pub n: usize,
}

pub fn as_f64(t: &Tensor) -> Vec<f64> {
    match &t.data {
        TensorData::F32(v) => v.iter().map(|&x| x as f64).collect(),
        TensorData::I32(v) => v.iter().map(|&x| x as f64).collect(),
        TensorData::I64(v) => v.iter().map(|&x| x as f64).collect(),
    }
}

/// Elementwise comparison: |got - want| <= atol + rtol * |want|; NaNs must agree.
pub fn compare(got: &Tensor, want: &Tensor, rtol: f64, atol: f64) -> Result<Diff, String> {
    if got.shape != want.shape {
        return Err(format!("shape {:?}, Paddle {:?}", got.shape, want.shape));
    }
    let exact = !matches!(want.data, TensorData::F32(_));
    let (g, w) = (as_f64(got), as_f64(want));
    let mut d = Diff {
        n: w.len(),
        ..Default::default()
    };
    for (a, b) in g.iter().zip(&w) {
        if a.is_nan() || b.is_nan() {
            if a.is_nan() != b.is_nan() {
                d.bad += 1;
            }
            continue;
        }
        if a.is_infinite() || b.is_infinite() {
            if a != b {
                d.bad += 1;
            }
            continue;
        }
        let e = (a - b).abs();
        d.max_abs = d.max_abs.max(e);
        // Relative error reported where it means something (|Paddle| >= 1e-3).
        if b.abs() >= 1e-3 {
            d.max_rel = d.max_rel.max(e / b.abs());
        }
        let ok = if exact {
            e == 0.0
        } else {
            e <= atol + rtol * b.abs()
        };
        if !ok {
            d.bad += 1;
        }
    }
    Ok(d)
}

/// Row-wise argmax of a 2-D tensor.
pub fn argmax_rows(t: &Tensor) -> Vec<usize> {
    let v = as_f64(t);
    let cols = *t.shape.last().unwrap_or(&1);
    v.chunks(cols.max(1))
        .map(|r| {
            r.iter()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |acc, (i, &x)| if x > acc.1 { (i, x) } else { acc },
                )
                .0
        })
        .collect()
}
