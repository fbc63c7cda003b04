//! The tail: operators whose exact semantics ONNX cannot express (multiclass_nms3, matrix_nms)
//! are cut from the graph; the ONNX model outputs their inputs and [`Tail::run`] finishes the
//! program in Rust with the operators' own attributes, returning the program's fetches.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::ir::Op;
use crate::tensor::{Tensor, TensorData};
use crate::types::TensorInfo;

/// Operator types the importer cuts into the tail.
pub(crate) const TAIL_OPS: &[&str] = &["multiclass_nms3", "multiclass_nms2", "matrix_nms"];

#[derive(Clone, Debug)]
struct Nms {
    score_threshold: f32,
    nms_top_k: i64,
    keep_top_k: i64,
    nms_threshold: f32,
    normalized: bool,
    nms_eta: f32,
    background_label: i64,
}

#[derive(Clone, Debug)]
struct Matrix {
    score_threshold: f32,
    post_threshold: f32,
    nms_top_k: i64,
    keep_top_k: i64,
    normalized: bool,
    use_gaussian: bool,
    gaussian_sigma: f32,
    background_label: i64,
}

#[derive(Clone, Debug)]
enum Kind {
    Multiclass(Nms),
    Matrix(Matrix),
}

#[derive(Clone, Debug)]
struct TailOp {
    kind: Kind,
    bboxes: String,
    scores: String,
    /// Out, Index, count outputs (value names; empty when not used).
    outs: [String; 3],
}

/// Operators finished in Rust after the ONNX graph.
#[derive(Clone, Debug)]
pub struct Tail {
    ops: Vec<TailOp>,
    /// The ONNX outputs the tail reads, and the program value each one carries.
    inputs: Vec<TensorInfo>,
    values: Vec<String>,
    fetches: Vec<String>,
}

impl Tail {
    pub(crate) fn new(
        ops: &[&Op],
        inputs: Vec<TensorInfo>,
        values: Vec<String>,
        fetches: Vec<String>,
    ) -> Result<Self> {
        let mut out = Vec::new();
        for op in ops {
            let f = |n: &str, d: f64| op.f64(n).unwrap_or(d) as f32;
            let i = |n: &str, d: i64| op.i64(n).unwrap_or(d);
            let b = |n: &str, d: bool| op.bool(n).unwrap_or(d);
            if !op.ins("RoisNum").is_empty() {
                return Err(Error::Unsupported {
                    ops: vec![format!("{}(RoisNum input)", op.ty)],
                });
            }
            let kind = match op.ty.as_str() {
                "multiclass_nms3" | "multiclass_nms2" => Kind::Multiclass(Nms {
                    score_threshold: f("score_threshold", 0.0),
                    nms_top_k: i("nms_top_k", -1),
                    keep_top_k: i("keep_top_k", -1),
                    nms_threshold: f("nms_threshold", 0.3),
                    normalized: b("normalized", true),
                    nms_eta: f("nms_eta", 1.0),
                    background_label: i("background_label", 0),
                }),
                "matrix_nms" => Kind::Matrix(Matrix {
                    score_threshold: f("score_threshold", 0.0),
                    post_threshold: f("post_threshold", 0.0),
                    nms_top_k: i("nms_top_k", -1),
                    keep_top_k: i("keep_top_k", -1),
                    normalized: b("normalized", true),
                    use_gaussian: b("use_gaussian", false),
                    gaussian_sigma: f("gaussian_sigma", 2.0),
                    background_label: i("background_label", 0),
                }),
                t => {
                    return Err(Error::Unsupported {
                        ops: vec![t.to_string()],
                    })
                }
            };
            let slot = |s: &str| op.input(s).map(str::to_string).unwrap_or_default();
            let o = |s: &str| op.output(s).map(str::to_string).unwrap_or_default();
            let count = if op.ty == "matrix_nms" {
                o("RoisNum")
            } else {
                o("NmsRoisNum")
            };
            out.push(TailOp {
                kind,
                bboxes: slot("BBoxes"),
                scores: slot("Scores"),
                outs: [o("Out"), o("Index"), count],
            });
        }
        Ok(Tail {
            ops: out,
            inputs,
            values,
            fetches,
        })
    }

    /// The ONNX model's outputs this tail consumes, in the order the model produces them; pass
    /// them to [`Tail::run`] by these names.
    pub fn inputs(&self) -> &[TensorInfo] {
        &self.inputs
    }

    /// Computes the program's fetch outputs (in fetch order) from the ONNX model's outputs.
    pub fn run(&self, inputs: &[(String, Tensor)]) -> Result<Vec<Tensor>> {
        let mut values: HashMap<&str, Tensor> = HashMap::new();
        for (name, t) in inputs {
            let i = self
                .inputs
                .iter()
                .position(|x| &x.name == name)
                .ok_or_else(|| Error::Tail(format!("unexpected input {name}")))?;
            values.insert(self.values[i].as_str(), t.clone());
        }
        if let Some(m) = self
            .inputs
            .iter()
            .find(|i| !inputs.iter().any(|(n, _)| *n == i.name))
        {
            return Err(Error::Tail(format!("missing input {}", m.name)));
        }
        for op in &self.ops {
            let bboxes = values
                .get(op.bboxes.as_str())
                .ok_or_else(|| Error::Tail(format!("missing input {}", op.bboxes)))?;
            let scores = values
                .get(op.scores.as_str())
                .ok_or_else(|| Error::Tail(format!("missing input {}", op.scores)))?;
            let (b, s) = (f32s(bboxes, &op.bboxes)?, f32s(scores, &op.scores)?);
            let (n, m, c) = check_shapes(&bboxes.shape, &scores.shape)?;
            let mut rows: Vec<f32> = Vec::new();
            let mut index: Vec<i32> = Vec::new();
            let mut counts: Vec<i32> = Vec::new();
            for img in 0..n {
                let bb = &b[img * m * 4..(img + 1) * m * 4];
                let sc = &s[img * c * m..(img + 1) * c * m];
                let dets = match &op.kind {
                    Kind::Multiclass(p) => multiclass(p, bb, sc, m, c),
                    Kind::Matrix(p) => matrix(p, bb, sc, m, c),
                };
                counts.push(dets.len() as i32);
                for (label, score, idx) in dets {
                    rows.push(label as f32);
                    rows.push(score);
                    rows.extend_from_slice(&bb[idx * 4..idx * 4 + 4]);
                    index.push((img * m + idx) as i32);
                }
            }
            let k = index.len();
            let [out, idx, cnt] = &op.outs;
            if !out.is_empty() {
                values.insert(out, Tensor::f32(vec![k, 6], rows));
            }
            if !idx.is_empty() {
                values.insert(idx, Tensor::i32(vec![k, 1], index));
            }
            if !cnt.is_empty() {
                values.insert(cnt, Tensor::i32(vec![n], counts));
            }
        }
        self.fetches
            .iter()
            .map(|f| {
                values
                    .get(f.as_str())
                    .cloned()
                    .ok_or_else(|| Error::Tail(format!("missing value {f}")))
            })
            .collect()
    }
}

fn f32s<'t>(t: &'t Tensor, name: &str) -> Result<&'t [f32]> {
    let numel = t.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    match &t.data {
        TensorData::F32(v) if Some(v.len()) == numel => Ok(v),
        TensorData::F32(_) => Err(Error::Tail(format!(
            "{name}: shape {:?} and data length differ",
            t.shape
        ))),
        _ => Err(Error::Tail(format!("{name}: expected f32"))),
    }
}

/// BBoxes [N, M, 4], Scores [N, C, M] -> (N, M, C).
fn check_shapes(b: &[usize], s: &[usize]) -> Result<(usize, usize, usize)> {
    match (b, s) {
        ([n, m, 4], [n2, c, m2]) if n == n2 && m == m2 => Ok((*n, *m, *c)),
        _ => Err(Error::Tail(format!(
            "expected BBoxes [N, M, 4] and Scores [N, C, M], got {b:?} and {s:?}"
        ))),
    }
}

fn area(b: &[f32], normalized: bool) -> f32 {
    if b[2] < b[0] || b[3] < b[1] {
        return 0.0;
    }
    let (w, h) = (b[2] - b[0], b[3] - b[1]);
    if normalized {
        w * h
    } else {
        (w + 1.0) * (h + 1.0)
    }
}

/// Paddle's JaccardOverlap: +1 pixel convention when not normalized.
fn iou(a: &[f32], b: &[f32], normalized: bool) -> f32 {
    if b[0] > a[2] || b[2] < a[0] || b[1] > a[3] || b[3] < a[1] {
        return 0.0;
    }
    let norm = if normalized { 0.0 } else { 1.0 };
    let iw = a[2].min(b[2]) - a[0].max(b[0]) + norm;
    let ih = a[3].min(b[3]) - a[1].max(b[1]) + norm;
    let inter = iw * ih;
    inter / (area(a, normalized) + area(b, normalized) - inter)
}

/// Whether `score` is kept against `threshold`: strictly above it, and never NaN. A NaN score
/// (from a broken model or hostile weights) is never a detection, whatever the threshold (a
/// NaN threshold keeps nothing); it is decided here, before any sorting, so that NaN never
/// reaches an ordering.
fn kept(score: f32, threshold: f32) -> bool {
    !score.is_nan() && score > threshold
}

/// Descending order of two scores that are not NaN, as Paddle's `>` orders them: a total order
/// (`total_cmp`, no panics, no inconsistent comparisons) in which -0.0 and 0.0 are equal, so
/// that the stable sort keeps their input order as Paddle's does.
fn descending(a: f32, b: f32) -> std::cmp::Ordering {
    // Adding 0.0 turns -0.0 into 0.0 and leaves every other value as it is.
    (b + 0.0).total_cmp(&(a + 0.0))
}

/// Indices with score > threshold (never NaN), stably sorted by score descending, at most `top_k`.
fn sorted_above(scores: &[f32], threshold: f32, top_k: i64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..scores.len())
        .filter(|&i| kept(scores[i], threshold))
        .collect();
    v.sort_by(|&a, &b| descending(scores[a], scores[b]));
    if top_k > -1 && (top_k as usize) < v.len() {
        v.truncate(top_k as usize);
    }
    v
}

/// multiclass_nms3 for one image: (label, score, box index), grouped by label ascending, score
/// descending within a label.
fn multiclass(
    p: &Nms,
    boxes: &[f32],
    scores: &[f32],
    m: usize,
    c: usize,
) -> Vec<(usize, f32, usize)> {
    let mut per_class: Vec<(usize, Vec<usize>)> = Vec::new();
    for class in 0..c {
        if class as i64 == p.background_label {
            continue;
        }
        let sc = &scores[class * m..(class + 1) * m];
        let mut kept: Vec<usize> = Vec::new();
        let mut threshold = p.nms_threshold;
        for idx in sorted_above(sc, p.score_threshold, p.nms_top_k) {
            let b = &boxes[idx * 4..idx * 4 + 4];
            let keep = kept
                .iter()
                .all(|&k| iou(b, &boxes[k * 4..k * 4 + 4], p.normalized) <= threshold);
            if keep {
                kept.push(idx);
                if p.nms_eta < 1.0 && threshold > 0.5 {
                    threshold *= p.nms_eta;
                }
            }
        }
        per_class.push((class, kept));
    }
    let total: usize = per_class.iter().map(|(_, k)| k.len()).sum();
    if p.keep_top_k > -1 && total > p.keep_top_k as usize {
        let mut all: Vec<(f32, usize, usize)> = per_class
            .iter()
            .flat_map(|(class, kept)| {
                kept.iter()
                    .map(move |&i| (scores[class * m + i], *class, i))
            })
            .collect();
        // Only kept (non-NaN) scores are here.
        all.sort_by(|a, b| descending(a.0, b.0));
        all.truncate(p.keep_top_k as usize);
        for (_, kept) in per_class.iter_mut() {
            kept.clear();
        }
        for (_, class, i) in all {
            if let Some((_, kept)) = per_class.iter_mut().find(|(c2, _)| *c2 == class) {
                kept.push(i);
            }
        }
    }
    per_class
        .into_iter()
        .flat_map(|(class, kept)| kept.into_iter().map(move |i| (class, i)))
        .map(|(class, i)| (class, scores[class * m + i], i))
        .collect()
}

/// matrix_nms for one image: decayed scores, sorted by score descending over all classes.
fn matrix(
    p: &Matrix,
    boxes: &[f32],
    scores: &[f32],
    m: usize,
    c: usize,
) -> Vec<(usize, f32, usize)> {
    let mut all: Vec<(usize, f32, usize)> = Vec::new();
    for class in 0..c {
        if class as i64 == p.background_label {
            continue;
        }
        let sc = &scores[class * m..(class + 1) * m];
        let perm = sorted_above(sc, p.score_threshold, p.nms_top_k);
        if perm.is_empty() {
            continue;
        }
        let n = perm.len();
        let bx = |i: usize| &boxes[perm[i] * 4..perm[i] * 4 + 4];
        // Each box's largest IoU with a higher-scored one. Pairwise IoUs are recomputed below
        // instead of stored: O(n) memory whatever the number of candidates.
        let max_iou: Vec<f32> = (0..n)
            .map(|i| (0..i).fold(0f32, |mx, j| mx.max(iou(bx(i), bx(j), p.normalized))))
            .collect();
        if kept(sc[perm[0]], p.post_threshold) {
            all.push((class, sc[perm[0]], perm[0]));
        }
        for i in 1..n {
            let mut min_decay = 1f32;
            for (j, &mx) in max_iou.iter().enumerate().take(i) {
                let v = iou(bx(i), bx(j), p.normalized);
                let decay = if p.use_gaussian {
                    ((mx * mx - v * v) * p.gaussian_sigma).exp()
                } else {
                    (1.0 - v) / (1.0 - mx)
                };
                min_decay = min_decay.min(decay);
            }
            // A decayed score that is NaN (it cannot be from a kept score and a finite decay,
            // but boxes may hold anything) is never kept.
            let ds = min_decay * sc[perm[i]];
            if kept(ds, p.post_threshold) {
                all.push((class, ds, perm[i]));
            }
        }
    }
    all.sort_by(|a, b| descending(a.1, b.1));
    if p.keep_top_k > -1 && all.len() > p.keep_top_k as usize {
        all.truncate(p.keep_top_k as usize);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAN: f32 = f32::NAN;

    fn nms(score_threshold: f32, keep_top_k: i64) -> Nms {
        Nms {
            score_threshold,
            nms_top_k: -1,
            keep_top_k,
            nms_threshold: 0.5,
            normalized: true,
            nms_eta: 1.0,
            background_label: -1,
        }
    }

    fn matrix_params(score_threshold: f32, post_threshold: f32) -> Matrix {
        Matrix {
            score_threshold,
            post_threshold,
            nms_top_k: -1,
            keep_top_k: -1,
            normalized: true,
            use_gaussian: false,
            gaussian_sigma: 2.0,
            background_label: -1,
        }
    }

    /// Four boxes far apart (no overlap), normalized coordinates.
    const BOXES: [f32; 16] = [
        0.0, 0.0, 0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5, 0.6, 0.6, 0.7, 0.7,
    ];

    #[test]
    fn nan_scores_are_never_kept_whatever_the_threshold() {
        let scores = [0.3, NAN, 0.9, -NAN];
        for threshold in [0.0, -1.0, f32::NEG_INFINITY] {
            assert_eq!(sorted_above(&scores, threshold, -1), [2, 0], "{threshold}");
        }
        assert!(sorted_above(&scores, NAN, -1).is_empty());
        assert!(sorted_above(&[NAN; 4], f32::NEG_INFINITY, -1).is_empty());
        // Through both operators, with a keep_top_k sort as well.
        for keep in [-1, 1] {
            let dets = multiclass(&nms(f32::NEG_INFINITY, keep), &BOXES, &scores, 4, 1);
            assert!(dets.iter().all(|d| !d.1.is_nan()), "{dets:?}");
            let want: &[(usize, f32, usize)] = if keep == 1 {
                &[(0, 0.9, 2)]
            } else {
                &[(0, 0.9, 2), (0, 0.3, 0)]
            };
            assert_eq!(dets, want);
        }
        let dets = matrix(
            &matrix_params(f32::NEG_INFINITY, f32::NEG_INFINITY),
            &BOXES,
            &scores,
            4,
            1,
        );
        assert_eq!(dets, [(0, 0.9, 2), (0, 0.3, 0)]);
        // NaN boxes do not make a NaN detection either.
        let mut boxes = BOXES;
        boxes[0] = NAN;
        let dets = matrix(
            &matrix_params(0.0, 0.0),
            &boxes,
            &[0.9, 0.8, 0.7, 0.6],
            4,
            1,
        );
        assert!(dets.iter().all(|d| !d.1.is_nan()), "{dets:?}");
        assert_eq!(dets.len(), 4);
    }

    #[test]
    fn ties_keep_their_order_and_negative_zero_ties_with_zero() {
        // Stable, descending; -0.0 and 0.0 are equal, as with Paddle's `>`.
        let scores = [0.5, -0.0, 0.7, 0.0, 0.5];
        assert_eq!(sorted_above(&scores, -1.0, -1), [2, 0, 4, 1, 3]);
        assert_eq!(sorted_above(&scores, -1.0, 2), [2, 0]);
        let infinite = [f32::INFINITY, 1.0, f32::NEG_INFINITY];
        assert_eq!(sorted_above(&infinite, f32::NEG_INFINITY, -1), [0, 1]);
    }
}
