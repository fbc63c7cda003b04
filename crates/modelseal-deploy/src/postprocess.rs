//! Post-processing: classification top-k, detection (NMS rows or raw PicoDet heads decoded and
//! NMS'd here), segmentation (label maps, logits, probabilities) mapped back to the original image.

use serde::Serialize;

use crate::backend::{Tensor, TensorData};
use crate::config::Nms;
use crate::image::resize_plane_nearest;
use crate::transforms::{Prepared, Step};

/// One classification result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScore {
    /// Class id.
    pub class_id: usize,
    /// Label (the id as text when the config has no labels).
    pub label: String,
    /// Score (probability).
    pub score: f32,
}

/// One detected object, in original-image pixels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetBox {
    /// Class id.
    pub class_id: usize,
    /// Label.
    pub label: String,
    /// Score.
    pub score: f32,
    /// `[x1, y1, x2, y2]`.
    pub bbox: [f32; 4],
}

/// A segmentation result at the original image size.
#[derive(Debug, Clone, PartialEq)]
pub struct SegMap {
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
    /// One label per pixel, row-major.
    pub labels: Vec<u8>,
}

/// A prediction for one image.
#[derive(Debug, Clone, PartialEq)]
pub enum Prediction {
    /// Top-k classes, best first.
    Classes(Vec<ClassScore>),
    /// Detected boxes.
    Boxes(Vec<DetBox>),
    /// Label map.
    Segmentation(SegMap),
}

pub(crate) fn label_of(labels: &[String], id: usize) -> String {
    labels.get(id).cloned().unwrap_or_else(|| id.to_string())
}

/// Softmax over a row unless it already is a probability distribution.
pub fn probabilities(row: &[f32]) -> Vec<f32> {
    let sum: f32 = row.iter().sum();
    let in_range = row.iter().all(|v| (0.0..=1.0).contains(v));
    if in_range && (sum - 1.0).abs() < 1e-3 {
        return row.to_vec();
    }
    let m = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = row.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

/// Top-k of one row of class scores (stable: ties keep the lower id first).
pub fn topk(row: &[f32], k: usize, labels: &[String]) -> Vec<ClassScore> {
    let p = probabilities(row);
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
    idx.into_iter()
        .take(k.max(1))
        .map(|i| ClassScore {
            class_id: i,
            label: label_of(labels, i),
            score: p[i],
        })
        .collect()
}

/// Rows `[class, score, x1, y1, x2, y2]` from an in-graph NMS (PaddleDetection/PaddleX exports).
pub fn nms_rows(rows: &[f32], count: Option<usize>, labels: &[String]) -> Vec<DetBox> {
    let n = count.unwrap_or(rows.len() / 6).min(rows.len() / 6);
    rows.chunks_exact(6)
        .take(n)
        .filter(|r| r[0] >= 0.0 && r[1] > 0.0)
        .map(|r| {
            let id = r[0].round() as usize;
            DetBox {
                class_id: id,
                label: label_of(labels, id),
                score: r[1],
                bbox: [r[2], r[3], r[4], r[5]],
            }
        })
        .collect()
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let area = |x: &[f32; 4]| (x[2] - x[0]).max(0.0) * (x[3] - x[1]).max(0.0);
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    inter / (area(a) + area(b) - inter + 1e-5)
}

/// Hard NMS as in PaddleDetection's PicoDet post-process: the `candidate_size` best, greedy,
/// suppress IoU > `thr`, keep at most `top_k`. Input `(box, score)`, output best first.
pub fn hard_nms(
    mut cands: Vec<([f32; 4], f32)>,
    thr: f32,
    top_k: usize,
    candidate_size: usize,
) -> Vec<([f32; 4], f32)> {
    // Ascending by score with a stable sort, then take the last `candidate_size` (numpy argsort).
    cands.sort_by(|a, b| a.1.total_cmp(&b.1));
    let start = cands.len().saturating_sub(candidate_size);
    let mut idx: Vec<usize> = (start..cands.len()).collect();
    let mut picked = Vec::new();
    while let Some(&cur) = idx.last() {
        picked.push(cands[cur]);
        if (top_k > 0 && picked.len() == top_k) || idx.len() == 1 {
            break;
        }
        idx.pop();
        let cb = cands[cur].0;
        idx.retain(|&i| iou(&cands[i].0, &cb) <= thr);
    }
    picked
}

/// Decodes raw PicoDet heads (scores `[1, K, C]` per stride, DFL distributions `[1, K, 4*(R+1)]`)
/// for one image and runs per-class hard NMS; boxes are clipped to the network input and scaled
/// back to the original image.
pub fn picodet(
    scores: &[&Tensor],
    dists: &[&Tensor],
    strides: &[usize],
    nms: &Nms,
    prep: &Prepared,
    labels: &[String],
) -> Result<Vec<DetBox>, String> {
    let (in_h, in_w) = (prep.height as f32, prep.width as f32);
    let mut all: Vec<([f32; 4], Vec<f32>)> = Vec::new();
    let mut num_classes = 0;
    for ((s, d), &stride) in scores.iter().zip(dists).zip(strides) {
        let (TensorData::F32(sv), TensorData::F32(dv)) = (&s.data, &d.data) else {
            return Err("PicoDet heads must be float32".into());
        };
        if s.shape.len() != 3
            || d.shape.len() != 3
            || s.shape[1] != d.shape[1]
            || d.shape[2] % 4 != 0
        {
            return Err(format!(
                "unexpected PicoDet head shapes {:?} and {:?}",
                s.shape, d.shape
            ));
        }
        let k = s.shape[1];
        let c = s.shape[2];
        num_classes = c;
        let bins = d.shape[2] / 4;
        let fm_w = (in_w / stride as f32).ceil() as usize;
        let fm_h = (in_h / stride as f32).ceil() as usize;
        if fm_w * fm_h != k {
            return Err(format!(
                "PicoDet level with stride {stride} has {k} cells, but a {}x{} input gives {}",
                prep.width,
                prep.height,
                fm_w * fm_h
            ));
        }
        // Top nms_top_k cells by their best class score (descending, stable like numpy's
        // argsort reversed is not: ties are rare in float scores).
        let best: Vec<f32> = (0..k)
            .map(|i| {
                sv[i * c..(i + 1) * c]
                    .iter()
                    .cloned()
                    .fold(f32::MIN, f32::max)
            })
            .collect();
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| best[b].total_cmp(&best[a]));
        order.truncate(nms.nms_top_k);
        for i in order {
            // A cell whose best score is under the threshold never survives the per-class
            // filter below: skip decoding it (same result, far less work).
            if best[i] <= nms.score_threshold {
                continue;
            }
            let cx = ((i % fm_w) as f32 + 0.5) * stride as f32;
            let cy = ((i / fm_w) as f32 + 0.5) * stride as f32;
            let mut dist = [0f32; 4];
            for (side, dd) in dist.iter_mut().enumerate() {
                let row = &dv[(i * 4 + side) * bins..(i * 4 + side + 1) * bins];
                let m = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                let e: Vec<f64> = row.iter().map(|v| ((v - m) as f64).exp()).collect();
                let sum: f64 = e.iter().sum();
                let exp: f64 = e.iter().enumerate().map(|(j, v)| j as f64 * v / sum).sum();
                *dd = (exp * stride as f64) as f32;
            }
            let b = [cx - dist[0], cy - dist[1], cx + dist[2], cy + dist[3]];
            all.push((b, sv[i * c..(i + 1) * c].to_vec()));
        }
    }
    let (sy, sx) = prep.scale;
    let mut out = Vec::new();
    for cls in 0..num_classes {
        let cands: Vec<([f32; 4], f32)> = all
            .iter()
            .filter(|(_, s)| s[cls] > nms.score_threshold)
            .map(|(b, s)| (*b, s[cls]))
            .collect();
        if cands.is_empty() {
            continue;
        }
        for (b, score) in hard_nms(cands, nms.nms_threshold, nms.keep_top_k, 200) {
            let x1 = b[0].clamp(0.0, in_w) / sx;
            let y1 = b[1].clamp(0.0, in_h) / sy;
            let x2 = b[2].clamp(0.0, in_w) / sx;
            let y2 = b[3].clamp(0.0, in_h) / sy;
            out.push(DetBox {
                class_id: cls,
                label: label_of(labels, cls),
                score,
                bbox: [x1, y1, x2, y2],
            });
        }
    }
    Ok(out)
}

/// Turns a segmentation output for image `n` of the batch into a label map at the network
/// input size, then replays the geometric steps backwards to the original size.
pub fn segmentation(
    t: &Tensor,
    n: usize,
    threshold: f32,
    prep: &Prepared,
) -> Result<SegMap, String> {
    let s = &t.shape;
    // (h, w, labels) at the output resolution.
    let (h, w, labels): (usize, usize, Vec<u8>) = match (s.len(), t.is_int()) {
        (3, true) => {
            let (h, w) = (s[1], s[2]);
            let v = t.to_f32();
            (h, w, v[n * h * w..(n + 1) * h * w].iter().map(|&x| x.clamp(0.0, 255.0) as u8).collect())
        }
        (4, true) if s[1] == 1 || s[3] == 1 => {
            let (h, w) = if s[1] == 1 { (s[2], s[3]) } else { (s[1], s[2]) };
            let v = t.to_f32();
            (h, w, v[n * h * w..(n + 1) * h * w].iter().map(|&x| x.clamp(0.0, 255.0) as u8).collect())
        }
        (4, false) => {
            let (c, h, w) = (s[1], s[2], s[3]);
            let TensorData::F32(v) = &t.data else { unreachable!("float checked") };
            let base = n * c * h * w;
            let plane = h * w;
            if c == 1 {
                (h, w, v[base..base + plane].iter().map(|&p| u8::from(p > threshold)).collect())
            } else {
                let mut out = vec![0u8; plane];
                for (i, o) in out.iter_mut().enumerate() {
                    let mut best = v[base + i];
                    let mut bi = 0;
                    for k in 1..c {
                        let x = v[base + k * plane + i];
                        if x > best {
                            best = x;
                            bi = k;
                        }
                    }
                    *o = bi.min(255) as u8;
                }
                (h, w, out)
            }
        }
        _ => return Err(format!("segmentation output of shape {s:?} is not a label map [N,H,W], [N,1,H,W] or scores [N,C,H,W]")),
    };
    let (mut cw, mut ch, mut cur) = (w, h, labels);
    if (cw, ch) != (prep.width, prep.height) {
        cur = resize_plane_nearest(&cur, cw, ch, prep.width, prep.height);
        cw = prep.width;
        ch = prep.height;
    }
    for step in prep.steps.iter().rev() {
        match *step {
            Step::Pad { h, w } => {
                let mut out = Vec::with_capacity(w * h);
                for r in 0..h {
                    out.extend_from_slice(&cur[r * cw..r * cw + w]);
                }
                cur = out;
                cw = w;
                ch = h;
            }
            Step::Resize { h, w } => {
                cur = resize_plane_nearest(&cur, cw, ch, w, h);
                cw = w;
                ch = h;
            }
            Step::Crop { h, w } => {
                let (x0, y0) = ((w - cw) / 2, (h - ch) / 2);
                let mut out = vec![0u8; w * h];
                for r in 0..ch {
                    out[(y0 + r) * w + x0..(y0 + r) * w + x0 + cw]
                        .copy_from_slice(&cur[r * cw..(r + 1) * cw]);
                }
                cur = out;
                cw = w;
                ch = h;
            }
        }
    }
    Ok(SegMap {
        width: cw,
        height: ch,
        labels: cur,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topk_orders_and_labels() {
        let r = topk(&[0.1, 0.7, 0.2], 2, &["a".into(), "b".into()]);
        assert_eq!(r[0].class_id, 1);
        assert_eq!(r[0].label, "b");
        assert_eq!(r[1].class_id, 2);
        assert_eq!(r[1].label, "2");
    }

    #[test]
    fn logits_get_a_softmax() {
        let p = probabilities(&[0.0, 0.0]);
        assert_eq!(p, vec![0.5, 0.5]);
    }

    #[test]
    fn nms_suppresses_overlaps_and_keeps_disjoint() {
        let c = vec![
            ([0.0, 0.0, 10.0, 10.0], 0.9),
            ([1.0, 1.0, 10.0, 10.0], 0.8),
            ([20.0, 20.0, 30.0, 30.0], 0.7),
        ];
        let k = hard_nms(c, 0.5, 100, 200);
        assert_eq!(k.len(), 2);
        assert_eq!(k[0].1, 0.9);
        assert_eq!(k[1].1, 0.7);
    }

    #[test]
    fn nms_rows_skip_padding_and_respect_count() {
        let rows = [
            1.0, 0.9, 1.0, 2.0, 3.0, 4.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 1.0,
            1.0,
        ];
        let b = nms_rows(&rows, Some(2), &["x".into(), "y".into()]);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].label, "y");
        assert_eq!(b[0].bbox, [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn nearest_plane_resize_matches_opencv_indexing() {
        let src = [1u8, 2, 3, 4];
        assert_eq!(resize_plane_nearest(&src, 4, 1, 2, 1), vec![1, 3]);
        assert_eq!(
            resize_plane_nearest(&src, 4, 1, 8, 1),
            vec![1, 1, 2, 2, 3, 3, 4, 4]
        );
    }
    fn prep(h: usize, w: usize, steps: Vec<Step>, orig: (usize, usize)) -> Prepared {
        Prepared {
            chw: Vec::new(),
            height: h,
            width: w,
            orig,
            resized: (h, w),
            scale: (h as f32 / orig.0 as f32, w as f32 / orig.1 as f32),
            steps,
        }
    }

    #[test]
    fn logits_argmax_then_padding_and_resize_are_undone() {
        // 3 classes on a 4x4 network input; the real image area is the top-left 2x2 (class x + y),
        // the rest is padding (class 0).
        let (c, h, w) = (3, 4, 4);
        let mut v = vec![0f32; c * h * w];
        for y in 0..h {
            for x in 0..w {
                let cls = if x < 2 && y < 2 { x + y } else { 0 };
                v[cls * h * w + y * w + x] = 5.0;
            }
        }
        let t = Tensor::f32(vec![1, c, h, w], v);
        let p = prep(
            4,
            4,
            vec![Step::Resize { h: 1, w: 1 }, Step::Pad { h: 2, w: 2 }],
            (1, 1),
        );
        let s = segmentation(&t, 0, 0.5, &p).unwrap();
        // Padding cropped to 2x2, then nearest back to the 1x1 original: the top-left label.
        assert_eq!((s.width, s.height), (1, 1));
        assert_eq!(s.labels, vec![0]);
        let p = prep(4, 4, vec![Step::Pad { h: 2, w: 2 }], (2, 2));
        let s = segmentation(&t, 0, 0.5, &p).unwrap();
        assert_eq!(s.labels, vec![0, 1, 1, 2]);
    }

    #[test]
    fn probability_maps_are_thresholded_and_label_maps_pass_through() {
        let t = Tensor::f32(vec![1, 1, 2, 2], vec![0.1, 0.31, 0.9, 0.3]);
        let s = segmentation(&t, 0, 0.3, &prep(2, 2, vec![], (2, 2))).unwrap();
        assert_eq!(s.labels, vec![0, 1, 1, 0]);
        let t = Tensor {
            shape: vec![1, 2, 2],
            data: TensorData::I64(vec![3, 0, 1, 2]),
        };
        let s = segmentation(&t, 0, 0.5, &prep(2, 2, vec![], (2, 2))).unwrap();
        assert_eq!(s.labels, vec![3, 0, 1, 2]);
        let bad = Tensor::f32(vec![4], vec![0.0; 4]);
        assert!(segmentation(&bad, 0, 0.5, &prep(2, 2, vec![], (2, 2)))
            .unwrap_err()
            .contains("[4]"));
    }

    #[test]
    fn picodet_decodes_a_confident_cell() {
        // One level, stride 8, 16x16 input -> 2x2 cells; 2 classes; reg_max 7 (8 bins per side).
        let mut scores = vec![0f32; 4 * 2];
        scores[3 * 2 + 1] = 0.9; // cell (1,1), class 1
        let mut dist = vec![-10f32; 4 * 4 * 8];
        for side in 0..4 {
            dist[(3 * 4 + side) * 8 + 1] = 10.0; // distance 1 bin = 8 px each side
        }
        let s = Tensor::f32(vec![1, 4, 2], scores);
        let d = Tensor::f32(vec![1, 4, 32], dist);
        let nms = Nms {
            score_threshold: 0.5,
            nms_threshold: 0.5,
            nms_top_k: 1000,
            keep_top_k: 100,
        };
        let p = Prepared {
            chw: Vec::new(),
            height: 16,
            width: 16,
            orig: (32, 32),
            resized: (16, 16),
            scale: (0.5, 0.5),
            steps: vec![],
        };
        let b = picodet(&[&s], &[&d], &[8], &nms, &p, &["a".into(), "b".into()]).unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].label, "b");
        // centre (12, 12) +- 8 px, clipped to 16, divided by the 0.5 scale.
        for (got, want) in b[0].bbox.iter().zip([8.0, 8.0, 32.0, 32.0]) {
            assert!((got - want).abs() < 0.01, "{:?}", b[0].bbox);
        }
        let e = picodet(&[&s], &[&d], &[16], &nms, &p, &[]).unwrap_err();
        assert!(e.contains("stride 16"), "{e}");
    }
}
