//! Resize on seeded random images and sizes (1 to 300 pixels a side, every method, both the
//! `dsize` and the `fx/fy` forms) against OpenCV itself, run by `scripts/reference/resize_cases.py`:
//! `u8` results must be identical.

use std::path::Path;
use std::process::Command;

use modelseal_deploy::image::{resize, Interp, Mat, Pixels};

const CASES: usize = 300;

/// Writes the cases with Python + OpenCV; `false` (printed) when they are not installed outside CI.
fn make_cases(dir: &Path, seed: u64) -> bool {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/reference/resize_cases.py");
    let out = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
        .arg(&script)
        .arg(dir)
        .arg(seed.to_string())
        .arg(CASES.to_string())
        .output();
    match out {
        Ok(o) if o.status.success() => true,
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            assert!(
                std::env::var_os("CI").is_none(),
                "resize_cases.py failed under CI: {why}"
            );
            eprintln!("SKIP: python3 with OpenCV not available ({why})");
            false
        }
    }
}

#[test]
fn random_resizes_are_identical_to_opencv() {
    let tmp = tempfile::tempdir().unwrap();
    if !make_cases(tmp.path(), 20261127) {
        return;
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("cases.json")).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), CASES);
    let mut differ = Vec::new();
    for c in cases {
        let g = |k: &str| c[k].as_u64().unwrap() as usize;
        let (i, sw, sh, dw, dh) = (g("i"), g("sw"), g("sh"), g("dw"), g("dh"));
        let interp = match c["interp"].as_str().unwrap() {
            "NEAREST" => Interp::Nearest,
            "LINEAR" => Interp::Linear,
            "CUBIC" => Interp::Cubic,
            "AREA" => Interp::Area,
            "LANCZOS4" => Interp::Lanczos4,
            other => panic!("method {other}"),
        };
        let fxy = c["fxy"]
            .as_array()
            .map(|a| (a[0].as_f64().unwrap(), a[1].as_f64().unwrap()));
        let read = |n: String| std::fs::read(tmp.path().join(n)).unwrap();
        let src = Mat::from_u8(sw, sh, read(format!("in{i}.bin")));
        let want = read(format!("out{i}.bin"));
        let Pixels::U8(got) = resize(&src, dw, dh, fxy, interp).unwrap().pixels else {
            panic!("u8 in, u8 out")
        };
        if got != want {
            let n = got.iter().zip(&want).filter(|(a, b)| a != b).count();
            differ.push(format!(
                "case {i}: {interp:?} {sw}x{sh} -> {dw}x{dh} fxy {fxy:?}: {n} values differ"
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
