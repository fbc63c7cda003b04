//! Imports a reference case in one format, runs it on a backend, compares with Paddle.

use modelseal_paddle::Tensor;

use super::{argmax_rows, compare, Case};

/// Which backend to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Ort,
    Tract,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Ort => "onnxruntime",
            Backend::Tract => "tract",
        }
    }
}

/// One comparison line of the report.
pub struct Outcome {
    pub max_abs: f64,
    pub max_rel: f64,
    pub note: String,
}

/// Runs `case` in `fmt` on `backend` and compares every output with Paddle's.
pub fn check(case: &Case, fmt: &str, backend: Backend) -> Result<Outcome, String> {
    let imported = case.import(fmt).map_err(|e| format!("import: {e}"))?;
    let expected = case.expected(fmt);
    let names: Vec<&str> = imported.outputs.iter().map(|o| o.name.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    if names != want {
        return Err(format!("output names {names:?}, Paddle Inference {want:?}"));
    }
    let feeds: Vec<&str> = imported.inputs.iter().map(|i| i.name.as_str()).collect();
    let inputs = case.inputs();
    let given: Vec<&str> = inputs.iter().map(|(n, _)| n.as_str()).collect();
    if feeds != given {
        return Err(format!("input names {feeds:?}, Paddle Inference {given:?}"));
    }
    let onnx_outputs: Vec<String> = match &imported.tail {
        Some(t) => t.inputs().iter().map(|i| i.name.clone()).collect(),
        None => names.iter().map(|s| s.to_string()).collect(),
    };
    let raw = match backend {
        Backend::Ort => super::backends::run_ort(&imported.onnx, &inputs, &onnx_outputs)?,
        Backend::Tract => super::backends::run_tract(&imported.onnx, &inputs)?,
    };
    let got: Vec<Tensor> = match &imported.tail {
        Some(t) => {
            let named: Vec<(String, Tensor)> = onnx_outputs.into_iter().zip(raw).collect();
            t.run(&named).map_err(|e| format!("tail: {e}"))?
        }
        None => raw,
    };
    let tol = case.meta["tol"].as_f64().unwrap_or(1e-4);
    let mut out = Outcome {
        max_abs: 0.0,
        max_rel: 0.0,
        note: String::new(),
    };
    for ((name, want), got) in expected.iter().zip(&got) {
        if case.kind() == "seg" && !matches!(want.data, modelseal_paddle::TensorData::F32(_)) {
            // Label maps: at least 99.9% of the pixels identical.
            if got.shape != want.shape {
                return Err(format!(
                    "{name}: shape {:?}, Paddle {:?}",
                    got.shape, want.shape
                ));
            }
            let (g, w) = (super::as_f64(got), super::as_f64(want));
            let same = g.iter().zip(&w).filter(|(a, b)| a == b).count();
            let frac = same as f64 / w.len().max(1) as f64;
            if frac < 0.999 {
                return Err(format!("{name}: {:.4}% of pixels agree", frac * 100.0));
            }
            out.note = format!("label map {:.3}% identical", frac * 100.0);
            continue;
        }
        if case.kind() == "det" && want.shape.len() == 2 && want.shape[1] == 6 {
            // Detections [K, 6] (label, score, x1, y1, x2, y2): the same count, and each of
            // Paddle's rows matched by one of ours with the same label, IoU >= 0.99 and a score
            // within 1e-3.
            let (k, iou_min, score_max) =
                match_detections(got, want).map_err(|e| format!("{name}: {e}"))?;
            out.note = format!(
                "{k} detections matched (min IoU {iou_min:.6}, max score diff {score_max:.2e})"
            );
            continue;
        }
        let d = compare(got, want, tol, tol).map_err(|e| format!("{name}: {e}"))?;
        out.max_abs = out.max_abs.max(d.max_abs);
        out.max_rel = out.max_rel.max(d.max_rel);
        if d.bad > 0 {
            return Err(format!(
                "{name}: {} of {} elements differ (max abs {:.3e}, max rel {:.3e})",
                d.bad, d.n, d.max_abs, d.max_rel
            ));
        }
        if case.kind() == "top1" {
            let (a, b) = (argmax_rows(got), argmax_rows(want));
            if a != b {
                return Err(format!("{name}: top-1 {a:?}, Paddle {b:?}"));
            }
            out.note = format!("top-1 {a:?} identical");
        }
    }
    Ok(out)
}

/// Known disagreements: (case, backend, reason). They are still run, listed in the report, and
/// must still fail (a fixed one fails the test until it is removed from here).
pub const KNOWN: &[(&str, &str, &str)] = &[(
    "ops/rnn_simple_relu",
    "tract",
    "tract's ONNX RNN ignores the `activations` attribute (always tanh): Paddle's RNN_RELU runs wrong there",
)];

/// Checks a whole suite on every format and backend, prints a table, and returns failures.
pub fn check_suite(suite: &str, backends: &[Backend]) -> (usize, Vec<String>) {
    let cases = super::cases(suite);
    assert!(
        !cases.is_empty(),
        "no reference cases under tests/data/{suite}"
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in &cases {
        for fmt in case.formats() {
            for &b in backends {
                checked += 1;
                let path = format!("{suite}/{}", case.name);
                let known = KNOWN
                    .iter()
                    .find(|(c, be, _)| *c == path && *be == b.name());
                if let Some((_, _, why)) = known {
                    match check(case, &fmt, b) {
                        Ok(_) => failures.push(format!(
                            "{path} {fmt} {}: listed as known to fail ({why}) but passes",
                            b.name()
                        )),
                        Err(e) => println!("KNOWN {path:<39} {fmt:<6} {:<11} {why}: {e}", b.name()),
                    }
                    continue;
                }
                match check(case, &fmt, b) {
                    Ok(o) => println!(
                        "ok   {suite}/{:<32} {fmt:<6} {:<11} max_abs {:.2e} max_rel {:.2e} {}",
                        case.name,
                        b.name(),
                        o.max_abs,
                        o.max_rel,
                        o.note
                    ),
                    Err(e) => {
                        println!(
                            "FAIL {suite}/{:<32} {fmt:<6} {:<11} {e}",
                            case.name,
                            b.name()
                        );
                        failures.push(format!("{suite}/{} {fmt} {}: {e}", case.name, b.name()));
                    }
                }
            }
        }
    }
    (checked, failures)
}

fn iou(a: &[f64], b: &[f64]) -> f64 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let area = |r: &[f64]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union <= 0.0 {
        // Degenerate boxes: equal coordinates count as a perfect match.
        return if a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4) {
            1.0
        } else {
            0.0
        };
    }
    inter / union
}

/// Matches detection rows; returns (count, smallest IoU, largest score difference).
fn match_detections(got: &Tensor, want: &Tensor) -> Result<(usize, f64, f64), String> {
    if got.shape != want.shape {
        return Err(format!("shape {:?}, Paddle {:?}", got.shape, want.shape));
    }
    let (g, w) = (super::as_f64(got), super::as_f64(want));
    let rows = |v: &[f64]| v.chunks(6).map(<[f64]>::to_vec).collect::<Vec<_>>();
    let (g, w) = (rows(&g), rows(&w));
    let mut used = vec![false; g.len()];
    let (mut iou_min, mut score_max) = (1.0f64, 0.0f64);
    for (i, r) in w.iter().enumerate() {
        let best = g
            .iter()
            .enumerate()
            .filter(|(j, c)| !used[*j] && c[0] == r[0] && (c[1] - r[1]).abs() <= 1e-3)
            .map(|(j, c)| (j, iou(&c[2..], &r[2..]), (c[1] - r[1]).abs()))
            .filter(|(_, o, _)| *o >= 0.99)
            .max_by(|a, b| a.1.partial_cmp(&b.1).unwrap());
        match best {
            Some((j, o, d)) => {
                used[j] = true;
                iou_min = iou_min.min(o);
                score_max = score_max.max(d);
            }
            None => return Err(format!("Paddle's detection #{i} {r:?} has no match")),
        }
    }
    Ok((w.len(), iou_min, score_max))
}
