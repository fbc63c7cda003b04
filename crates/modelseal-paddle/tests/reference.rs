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
fn models_agree_with_paddle() {
    run("models");
}
