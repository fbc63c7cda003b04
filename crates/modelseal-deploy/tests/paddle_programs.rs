//! Paddle programs opened by the SDK from a model directory (legacy `model.pdmodel` and PIR
//! `inference.json`, each with its parameters and a suite config): the Predictor's raw view gives
//! Paddle Inference's outputs (the committed references of modelseal-paddle, NMS finished in
//! Rust after the graph), and the full pipeline reads the NMS rows and counts of either format's
//! fetch names.

mod common;

#[path = "../../modelseal-paddle/tests/common/npy.rs"]
mod npy;

use std::path::{Path, PathBuf};

use common::{models_and_ort, opts};
use modelseal_deploy::backend::{BackendKind, Tensor, TensorData};
use modelseal_deploy::image::{Mat, Pixels};
use modelseal_deploy::{ModelSource, Prediction, Predictor};

fn case_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../modelseal-paddle/tests/data")
        .join(case)
}

const DET_CFG: &str = "mode: paddle\narch: YOLO\nPreprocess:\n- type: Resize\n  target_size: [64, 64]\n  keep_ratio: false\n  interp: 1\n- type: NormalizeImage\n  is_scale: true\n  mean: [0.485, 0.456, 0.406]\n  std: [0.229, 0.224, 0.225]\n- type: Permute\nlabel_list: [a, b, c, d]\n";

const SEG_CFG: &str =
    "Deploy:\n  transforms:\n  - type: Resize\n    target_size: [96, 64]\n  - type: Normalize\n";

/// A model directory for `case` in format `fmt` with `config` under `config_name`.
fn model_dir(tmp: &Path, case: &str, fmt: &str, config_name: &str, config: &str) -> PathBuf {
    let src = case_dir(case);
    let dir = tmp.join(format!("{}-{fmt}", case.replace('/', "-")));
    std::fs::create_dir_all(&dir).unwrap();
    let (from, to) = if fmt == "pir" {
        ("pir.json", "inference.json")
    } else {
        ("legacy.pdmodel", "inference.pdmodel")
    };
    std::fs::copy(src.join(from), dir.join(to)).unwrap();
    let params = ["params.pdiparams".to_string(), format!("{fmt}.pdiparams")]
        .into_iter()
        .map(|p| src.join(p))
        .find(|p| p.is_file())
        .unwrap();
    std::fs::copy(params, dir.join("inference.pdiparams")).unwrap();
    std::fs::write(dir.join(config_name), config).unwrap();
    dir
}

fn inputs(case: &str) -> Vec<(String, Tensor)> {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case_dir(case).join("case.json")).unwrap())
            .unwrap();
    meta["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, inp)| {
            let t = npy::read(&case_dir(case).join(format!("in_{i}.npy")));
            (inp["name"].as_str().unwrap().to_string(), Tensor::from(t))
        })
        .collect()
}

fn expected(case: &str, fmt: &str, n: usize) -> Vec<Tensor> {
    (0..n)
        .map(|i| {
            Tensor::from(npy::read(
                &case_dir(case).join(format!("{fmt}_out_{i}.npy")),
            ))
        })
        .collect()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    let (x, y) = (a.to_f32(), b.to_f32());
    assert_eq!(x.len(), y.len());
    x.iter()
        .zip(&y)
        .map(|(p, q)| (*p as f64 - *q as f64).abs())
        .fold(0.0, f64::max)
}

fn open(dir: &Path, backend: BackendKind) -> Predictor {
    let src = ModelSource::open(dir, &modelseal::OpenOptions::new()).unwrap();
    Predictor::open(&src, &opts(backend)).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

#[test]
fn detection_programs_give_paddles_rows_and_counts() {
    if models_and_ort().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for case in [
        "det/ppyoloe",
        "det/yolov3",
        "det/picodet",
        "det/yolov3_matrix_nms",
    ] {
        for fmt in ["legacy", "pir"] {
            let dir = model_dir(tmp.path(), case, fmt, "infer_cfg.yml", DET_CFG);
            for backend in [BackendKind::OnnxRuntime, BackendKind::Tract] {
                let mut p = open(&dir, backend);
                let names: Vec<String> = p.model_outputs().iter().map(|o| o.name.clone()).collect();
                let out = p.run_tensors(&inputs(case)).unwrap();
                let want = expected(case, fmt, out.len());
                assert_eq!(out.len(), 2, "{case} {fmt}: outputs {names:?}");
                for (i, (g, w)) in out.iter().zip(&want).enumerate() {
                    assert_eq!(g.shape, w.shape, "{case} {fmt} {backend:?} output {i}");
                    assert_eq!(g.is_int(), w.is_int(), "{case} {fmt} output {i} type");
                    let d = max_abs_diff(g, w);
                    assert!(d < 1e-3, "{case} {fmt} {backend:?} output {i}: |diff| {d}");
                }
                eprintln!(
                    "{case} {fmt} {backend:?}: {} rows as Paddle",
                    out[0].shape[0]
                );
            }
        }
    }
}

#[test]
fn the_pipeline_reads_rows_and_counts_of_both_formats() {
    if models_and_ort().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // A seeded noise picture: the randomly initialised detector finds boxes in it.
    let (w, h) = (80usize, 72usize);
    let mut state = 12345u32;
    let px: Vec<u8> = (0..w * h * 3)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (state >> 16) as u8
        })
        .collect();
    let img = Mat {
        width: w,
        height: h,
        pixels: Pixels::U8(px),
    };
    let mut counts = Vec::new();
    for fmt in ["legacy", "pir"] {
        let dir = model_dir(tmp.path(), "det/ppyoloe", fmt, "infer_cfg.yml", DET_CFG);
        let mut p = open(&dir, BackendKind::OnnxRuntime);
        let prepared = p.preprocess(&img).unwrap();
        let raw = p.run_raw(&prepared).unwrap();
        let count = match &raw[1].data {
            TensorData::I32(v) => v[0] as usize,
            other => panic!("{fmt}: count output {other:?}"),
        };
        let Prediction::Boxes(boxes) = p.predict(&img).unwrap() else {
            panic!("{fmt}: not boxes")
        };
        assert!(count > 0, "{fmt}: no rows to check");
        assert_eq!(boxes.len(), count, "{fmt}: every NMS row becomes a box");
        counts.push(count);
    }
    assert_eq!(counts[0], counts[1], "legacy and PIR agree");
}

#[test]
fn segmentation_programs_give_paddles_label_maps() {
    if models_and_ort().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for fmt in ["legacy", "pir"] {
        let dir = model_dir(tmp.path(), "models/ppliteseg", fmt, "deploy.yaml", SEG_CFG);
        for backend in [BackendKind::OnnxRuntime, BackendKind::Tract] {
            let mut p = open(&dir, backend);
            let out = p.run_tensors(&inputs("models/ppliteseg")).unwrap();
            let want = expected("models/ppliteseg", fmt, 1);
            assert_eq!(out[0].shape, want[0].shape);
            let (g, w) = (out[0].to_f32(), want[0].to_f32());
            let same = g.iter().zip(&w).filter(|(a, b)| a == b).count();
            assert!(
                same as f64 >= 0.999 * g.len() as f64,
                "{fmt} {backend:?}: {same}/{} labels agree",
                g.len()
            );
        }
    }
}
