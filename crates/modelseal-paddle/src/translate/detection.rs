//! Detection operators lowered into the ONNX graph with Paddle's exact arithmetic: yolo_box
//! (decoding, iou-aware confidence, zeroing below conf_thresh, clipping to img-1), prior_box
//! (constants computed here when the sizes are static) and box_coder (decode/encode center size).

use super::{bad, unsupported, Ctx};
use crate::error::Result;
use crate::graph::{a_int, a_ints};
use crate::ir::Op;

pub(crate) fn emit(ctx: &mut Ctx, op: &Op) -> Result<bool> {
    match op.ty.as_str() {
        "yolo_box" => yolo_box(ctx, op)?,
        "prior_box" => prior_box(ctx, op)?,
        "box_coder" => box_coder(ctx, op)?,
        _ => return Ok(false),
    }
    Ok(true)
}

fn input(op: &Op, slot: &str) -> Result<String> {
    op.input(slot)
        .map(str::to_string)
        .ok_or_else(|| bad(op, format!("no input {slot}")))
}

fn output(op: &Op, slot: &str) -> Result<String> {
    op.output(slot)
        .map(str::to_string)
        .ok_or_else(|| bad(op, format!("no output {slot}")))
}

/// `x[:, :, k]` of a [N, A, K, HW] tensor as [N, A, HW].
fn channel(ctx: &mut Ctx, x: &str, k: i64) -> String {
    let idx = ctx.g.i64_scalar(k);
    ctx.g.op("Gather", &[x, &idx], vec![a_int("axis", 2)])
}

fn yolo_box(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let x = input(op, "X")?;
    let img = input(op, "ImgSize")?;
    let (boxes_out, scores_out) = (output(op, "Boxes")?, output(op, "Scores")?);
    let anchors = op.ints("anchors").ok_or_else(|| bad(op, "no anchors"))?;
    if anchors.len() % 2 != 0 || anchors.is_empty() {
        return Err(bad(op, format!("anchors {anchors:?}")));
    }
    let a = (anchors.len() / 2) as i64;
    let classes = op.i64("class_num").unwrap_or(1);
    let conf_thresh = op.f64("conf_thresh").unwrap_or(0.01) as f32;
    let down = op.i64("downsample_ratio").unwrap_or(32) as f32;
    let clip = op.bool("clip_bbox").unwrap_or(true);
    let sxy = op.f64("scale_x_y").unwrap_or(1.0) as f32;
    let iou_aware = op.bool("iou_aware").unwrap_or(false);
    let iou_f = op.f64("iou_aware_factor").unwrap_or(0.5) as f32;
    if matches!(op.str("data_format"), Some("NHWC")) {
        return Err(unsupported("yolo_box(data_format=NHWC)"));
    }
    let f32s = |ctx: &mut Ctx, v: f32| ctx.g.f32s(&[v], &[]);

    // Grid sizes (float scalars) from the input's runtime shape.
    let shape = ctx.g.op("Shape", &[&x], vec![]);
    let dim = |ctx: &mut Ctx, i: i64| -> String {
        let s = ctx.g.i64s(&[i]);
        let e = ctx.g.i64s(&[i + 1]);
        ctx.g.op("Slice", &[&shape, &s, &e], vec![])
    };
    let h_i = dim(ctx, 2);
    let w_i = dim(ctx, 3);
    let hw_i = ctx.g.op("Mul", &[&h_i, &w_i], vec![]);
    let to_f = |ctx: &mut Ctx, v: &str| ctx.g.op("Cast", &[v], vec![a_int("to", 1)]);
    let h_f = to_f(ctx, &h_i);
    let w_f = to_f(ctx, &w_i);

    // Split off the IoU channels, then [N, A, 5 + C, H*W].
    let (body, iou) = if iou_aware {
        let z = ctx.g.i64s(&[0]);
        let an = ctx.g.i64s(&[a]);
        let big = ctx.g.i64s(&[i64::MAX]);
        let one = ctx.g.i64s(&[1]);
        let iou = ctx.g.op("Slice", &[&x, &z, &an, &one], vec![]);
        let body = ctx.g.op("Slice", &[&x, &an, &big, &one], vec![]);
        (body, Some(iou))
    } else {
        (x.clone(), None)
    };
    let s = ctx.g.i64s(&[0, a, 5 + classes, -1]);
    let p = ctx.g.op("Reshape", &[&body, &s], vec![]);

    // Cell coordinates: k in [0, H*W): col = k mod W, row = k div W (as floats [H*W]).
    let zero = ctx.g.i64_scalar(0);
    let one = ctx.g.i64_scalar(1);
    let sc = ctx.g.i64s(&[]);
    let hw0 = ctx.g.op("Reshape", &[&hw_i, &sc], vec![]);
    let k = ctx.g.op("Range", &[&zero, &hw0, &one], vec![]);
    let col = ctx.g.op("Mod", &[&k, &w_i], vec![a_int("fmod", 0)]);
    let row = ctx.g.op("Div", &[&k, &w_i], vec![]);
    let col = to_f(ctx, &col);
    let row = to_f(ctx, &row);

    // Image sizes [N, 1, 1] as float.
    let imgf = to_f(ctx, &img);
    let i0 = ctx.g.i64_scalar(0);
    let i1 = ctx.g.i64_scalar(1);
    let nshape = ctx.g.i64s(&[-1, 1, 1]);
    let img_h = ctx.g.op("Gather", &[&imgf, &i0], vec![a_int("axis", 1)]);
    let img_h = ctx.g.op("Reshape", &[&img_h, &nshape], vec![]);
    let img_w = ctx.g.op("Gather", &[&imgf, &i1], vec![a_int("axis", 1)]);
    let img_w = ctx.g.op("Reshape", &[&img_w, &nshape], vec![]);

    let sig = |ctx: &mut Ctx, v: &str| ctx.g.op("Sigmoid", &[v], vec![]);
    let bias = f32s(ctx, -0.5 * (sxy - 1.0));
    let scale = f32s(ctx, sxy);
    // cx = (col + sigmoid(tx) * scale + bias) * img_w / W
    let center = |ctx: &mut Ctx, t: i64, grid: &str, img: &str, size: &str| -> String {
        let tv = channel(ctx, &p, t);
        let s = sig(ctx, &tv);
        let s = ctx.g.op("Mul", &[&s, &scale], vec![]);
        let c = ctx.g.op("Add", &[grid, &s], vec![]);
        let c = ctx.g.op("Add", &[&c, &bias], vec![]);
        let c = ctx.g.op("Mul", &[&c, img], vec![]);
        ctx.g.op("Div", &[&c, size], vec![])
    };
    let cx = center(ctx, 0, &col, &img_w, &w_f);
    let cy = center(ctx, 1, &row, &img_h, &h_f);
    // w = exp(tw) * anchor_w * img_w / (downsample * W)
    let aw: Vec<f32> = anchors.iter().step_by(2).map(|&v| v as f32).collect();
    let ah: Vec<f32> = anchors
        .iter()
        .skip(1)
        .step_by(2)
        .map(|&v| v as f32)
        .collect();
    let down_c = f32s(ctx, down);
    let size = |ctx: &mut Ctx, t: i64, anchor: &[f32], img: &str, grid: &str| -> String {
        let tv = channel(ctx, &p, t);
        let e = ctx.g.op("Exp", &[&tv], vec![]);
        let an = ctx.g.f32s(anchor, &[1, a, 1]);
        let v = ctx.g.op("Mul", &[&e, &an], vec![]);
        let v = ctx.g.op("Mul", &[&v, img], vec![]);
        let input_size = ctx.g.op("Mul", &[&down_c, grid], vec![]);
        ctx.g.op("Div", &[&v, &input_size], vec![])
    };
    let bw = size(ctx, 2, &aw, &img_w, &w_f);
    let bh = size(ctx, 3, &ah, &img_h, &h_f);

    // Confidence, optionally IoU-aware: conf^(1-f) * iou^f.
    let obj = channel(ctx, &p, 4);
    let mut conf = sig(ctx, &obj);
    if let Some(iou) = iou {
        let s = ctx.g.i64s(&[0, a, -1]);
        let iou = ctx.g.op("Reshape", &[&iou, &s], vec![]);
        let iou = sig(ctx, &iou);
        let e1 = f32s(ctx, 1.0 - iou_f);
        let e2 = f32s(ctx, iou_f);
        let c1 = ctx.g.op("Pow", &[&conf, &e1], vec![]);
        let c2 = ctx.g.op("Pow", &[&iou, &e2], vec![]);
        conf = ctx.g.op("Mul", &[&c1, &c2], vec![]);
    }
    let th = f32s(ctx, conf_thresh);
    let below = ctx.g.op("Less", &[&conf, &th], vec![]);
    let keep = ctx.g.op("Not", &[&below], vec![]);
    let keep = ctx.g.op("Cast", &[&keep], vec![a_int("to", 1)]);

    let half = f32s(ctx, 2.0);
    let hw2 = ctx.g.op("Div", &[&bw, &half], vec![]);
    let hh2 = ctx.g.op("Div", &[&bh, &half], vec![]);
    let mut x1 = ctx.g.op("Sub", &[&cx, &hw2], vec![]);
    let mut y1 = ctx.g.op("Sub", &[&cy, &hh2], vec![]);
    let mut x2 = ctx.g.op("Add", &[&cx, &hw2], vec![]);
    let mut y2 = ctx.g.op("Add", &[&cy, &hh2], vec![]);
    if clip {
        let z = f32s(ctx, 0.0);
        let onef = f32s(ctx, 1.0);
        x1 = ctx.g.op("Max", &[&x1, &z], vec![]);
        y1 = ctx.g.op("Max", &[&y1, &z], vec![]);
        let wm1 = ctx.g.op("Sub", &[&img_w, &onef], vec![]);
        let hm1 = ctx.g.op("Sub", &[&img_h, &onef], vec![]);
        x2 = ctx.g.op("Min", &[&x2, &wm1], vec![]);
        y2 = ctx.g.op("Min", &[&y2, &hm1], vec![]);
    }
    // [N, A, HW, 4] -> [N, A*HW, 4], zero where conf < conf_thresh.
    let last = ctx.g.i64s(&[-1]);
    let parts: Vec<String> = [x1, y1, x2, y2]
        .iter()
        .map(|v| {
            let m = ctx.g.op("Mul", &[v, &keep], vec![]);
            ctx.g.op("Unsqueeze", &[&m, &last], vec![])
        })
        .collect();
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    let b = ctx.g.op("Concat", &refs, vec![a_int("axis", -1)]);
    let bs = ctx.g.i64s(&[0, -1, 4]);
    ctx.g.add("Reshape", &[&b, &bs], &[&boxes_out], vec![]);

    // Scores: conf * sigmoid(class logits), [N, A, C, HW] -> [N, A*HW, C].
    let st = ctx.g.i64s(&[5]);
    let en = ctx.g.i64s(&[5 + classes]);
    let ax = ctx.g.i64s(&[2]);
    let cls = ctx.g.op("Slice", &[&p, &st, &en, &ax], vec![]);
    let cls = sig(ctx, &cls);
    let c = ctx.g.op("Mul", &[&conf, &keep], vec![]);
    let two = ctx.g.i64s(&[2]);
    let c = ctx.g.op("Unsqueeze", &[&c, &two], vec![]);
    let s = ctx.g.op("Mul", &[&c, &cls], vec![]);
    let s = ctx
        .g
        .op("Transpose", &[&s], vec![a_ints("perm", &[0, 1, 3, 2])]);
    let ss = ctx.g.i64s(&[0, -1, classes]);
    ctx.g.add("Reshape", &[&s, &ss], &[&scores_out], vec![]);
    Ok(())
}

/// Paddle's ExpandAspectRatios: 1 first, then each new ratio (and its inverse with flip).
fn expand_ratios(ars: &[f32], flip: bool) -> Vec<f32> {
    let mut out = vec![1.0f32];
    for &ar in ars {
        if out.iter().any(|&o| (ar - o).abs() < 1e-6) {
            continue;
        }
        out.push(ar);
        if flip {
            out.push(1.0 / ar);
        }
    }
    out
}

fn prior_box(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let feat = input(op, "Input")?;
    let image = input(op, "Image")?;
    let (boxes_out, vars_out) = (output(op, "Boxes")?, output(op, "Variances")?);
    let (fs, is) = match (ctx.static_shape(&feat), ctx.static_shape(&image)) {
        (Some(f), Some(i)) if f.len() == 4 && i.len() == 4 => (f, i),
        _ => return Err(unsupported("prior_box(dynamic feature or image size)")),
    };
    let floats = |n: &str| -> Vec<f32> {
        op.floats(n)
            .unwrap_or_default()
            .iter()
            .map(|&v| v as f32)
            .collect()
    };
    let min_sizes = floats("min_sizes");
    let max_sizes = floats("max_sizes");
    let ars = expand_ratios(&floats("aspect_ratios"), op.bool("flip").unwrap_or(true));
    let variances = {
        let v = floats("variances");
        if v.len() == 4 {
            v
        } else {
            vec![0.1, 0.1, 0.2, 0.2]
        }
    };
    if !max_sizes.is_empty() && max_sizes.len() != min_sizes.len() {
        return Err(bad(op, "max_sizes and min_sizes differ in length"));
    }
    let clip = op.bool("clip").unwrap_or(true);
    let order = op.bool("min_max_aspect_ratios_order").unwrap_or(false);
    let offset = op.f64("offset").unwrap_or(0.5) as f32;
    let per_cell = (ars.len() + 1) * min_sizes.len().max(1);
    super::const_numel(op, &[fs[2], fs[3], per_cell as i64, 4])?;
    if fs[2] == 0 || fs[3] == 0 {
        return Err(bad(op, "empty feature map"));
    }
    let (fh, fw) = (fs[2] as usize, fs[3] as usize);
    let (ih, iw) = (is[2] as f32, is[3] as f32);
    let (sw, sh) = (
        op.f64("step_w").unwrap_or(0.0) as f32,
        op.f64("step_h").unwrap_or(0.0) as f32,
    );
    let (step_w, step_h) = if sw == 0.0 || sh == 0.0 {
        (iw / fw as f32, ih / fh as f32)
    } else {
        (sw, sh)
    };
    let mut out: Vec<f32> = Vec::new();
    for h in 0..fh {
        for w in 0..fw {
            let cx = (w as f32 + offset) * step_w;
            let cy = (h as f32 + offset) * step_h;
            let mut push = |bw: f32, bh: f32| {
                out.extend_from_slice(&[
                    (cx - bw) / iw,
                    (cy - bh) / ih,
                    (cx + bw) / iw,
                    (cy + bh) / ih,
                ]);
            };
            for (s, &min) in min_sizes.iter().enumerate() {
                if order {
                    push(min / 2.0, min / 2.0);
                    if let Some(&max) = max_sizes.get(s) {
                        let v = (min * max).sqrt() / 2.0;
                        push(v, v);
                    }
                    for &ar in &ars {
                        if (ar - 1.0).abs() < 1e-6 {
                            continue;
                        }
                        push(min * ar.sqrt() / 2.0, min / ar.sqrt() / 2.0);
                    }
                } else {
                    for &ar in &ars {
                        push(min * ar.sqrt() / 2.0, min / ar.sqrt() / 2.0);
                    }
                    if let Some(&max) = max_sizes.get(s) {
                        let v = (min * max).sqrt() / 2.0;
                        push(v, v);
                    }
                }
            }
        }
    }
    if clip {
        for v in &mut out {
            *v = v.clamp(0.0, 1.0);
        }
    }
    let p = out.len() / 4 / (fh * fw).max(1);
    let dims = [fh as i64, fw as i64, p as i64, 4];
    let vars: Vec<f32> = (0..out.len() / 4)
        .flat_map(|_| variances.iter().copied())
        .collect();
    let b = ctx.g.f32s(&out, &dims);
    let v = ctx.g.f32s(&vars, &dims);
    ctx.alias(&b, &boxes_out);
    ctx.alias(&v, &vars_out);
    Ok(())
}

fn box_coder(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let prior = input(op, "PriorBox")?;
    let target = input(op, "TargetBox")?;
    let out = output(op, "OutputBox")?;
    let code = op
        .str("code_type")
        .unwrap_or("encode_center_size")
        .to_string();
    let norm = op.bool("box_normalized").unwrap_or(true);
    let axis = op.i64("axis").unwrap_or(0);
    let plus = if norm { 0.0 } else { 1.0 };
    let f = |ctx: &mut Ctx, v: f32| ctx.g.f32s(&[v], &[]);
    let col = |ctx: &mut Ctx, x: &str, k: i64| -> String {
        let i = ctx.g.i64_scalar(k);
        ctx.g.op("Gather", &[x, &i], vec![a_int("axis", -1)])
    };
    // Prior widths/heights/centers, [M].
    let p0 = col(ctx, &prior, 0);
    let p1 = col(ctx, &prior, 1);
    let p2 = col(ctx, &prior, 2);
    let p3 = col(ctx, &prior, 3);
    let one = f(ctx, plus);
    let pw = ctx.g.op("Sub", &[&p2, &p0], vec![]);
    let pw = ctx.g.op("Add", &[&pw, &one], vec![]);
    let ph = ctx.g.op("Sub", &[&p3, &p1], vec![]);
    let ph = ctx.g.op("Add", &[&ph, &one], vec![]);
    let two = f(ctx, 2.0);
    let pcx = ctx.g.op("Div", &[&pw, &two], vec![]);
    let pcx = ctx.g.op("Add", &[&p0, &pcx], vec![]);
    let pcy = ctx.g.op("Div", &[&ph, &two], vec![]);
    let pcy = ctx.g.op("Add", &[&p1, &pcy], vec![]);
    // Variances: a tensor per prior, the attribute, or ones.
    let var: Vec<String> = match op.input("PriorBoxVar") {
        Some(v) => (0..4).map(|k| col(ctx, v, k)).collect(),
        None => {
            let attr = op.floats("variance").unwrap_or_default();
            (0..4)
                .map(|k| f(ctx, attr.get(k).copied().unwrap_or(1.0) as f32))
                .collect()
        }
    };
    match code.as_str() {
        "decode_center_size" => {
            // TargetBox [N, M, 4]: prior j per column (axis 0) or prior i per row (axis 1).
            let align = |ctx: &mut Ctx, v: &str| -> String {
                let ax = ctx.g.i64s(&[if axis == 0 { 0 } else { 1 }]);
                ctx.g.op("Unsqueeze", &[v, &ax], vec![])
            };
            let [pw, ph, pcx, pcy] = [&pw, &ph, &pcx, &pcy].map(|v| align(ctx, v));
            let var: Vec<String> = if op.input("PriorBoxVar").is_some() {
                var.iter().map(|v| align(ctx, v)).collect()
            } else {
                var
            };
            let t: Vec<String> = (0..4).map(|k| col(ctx, &target, k)).collect();
            let cx = ctx.g.op("Mul", &[&var[0], &t[0]], vec![]);
            let cx = ctx.g.op("Mul", &[&cx, &pw], vec![]);
            let cx = ctx.g.op("Add", &[&cx, &pcx], vec![]);
            let cy = ctx.g.op("Mul", &[&var[1], &t[1]], vec![]);
            let cy = ctx.g.op("Mul", &[&cy, &ph], vec![]);
            let cy = ctx.g.op("Add", &[&cy, &pcy], vec![]);
            let w = ctx.g.op("Mul", &[&var[2], &t[2]], vec![]);
            let w = ctx.g.op("Exp", &[&w], vec![]);
            let w = ctx.g.op("Mul", &[&w, &pw], vec![]);
            let h = ctx.g.op("Mul", &[&var[3], &t[3]], vec![]);
            let h = ctx.g.op("Exp", &[&h], vec![]);
            let h = ctx.g.op("Mul", &[&h, &ph], vec![]);
            let w2 = ctx.g.op("Div", &[&w, &two], vec![]);
            let h2 = ctx.g.op("Div", &[&h, &two], vec![]);
            let x1 = ctx.g.op("Sub", &[&cx, &w2], vec![]);
            let y1 = ctx.g.op("Sub", &[&cy, &h2], vec![]);
            let x2 = ctx.g.op("Add", &[&cx, &w2], vec![]);
            let x2 = ctx.g.op("Sub", &[&x2, &one], vec![]);
            let y2 = ctx.g.op("Add", &[&cy, &h2], vec![]);
            let y2 = ctx.g.op("Sub", &[&y2, &one], vec![]);
            stack_last(ctx, &[x1, y1, x2, y2], &out);
        }
        "encode_center_size" => {
            // TargetBox [N, 4] against every prior [M, 4] -> [N, M, 4].
            if ctx.rank(&target) != Some(2) {
                return Err(unsupported("box_coder(encode with a 3-D TargetBox)"));
            }
            let t: Vec<String> = (0..4).map(|k| col(ctx, &target, k)).collect();
            let one_ax = ctx.g.i64s(&[1]);
            let tcx = ctx.g.op("Add", &[&t[2], &t[0]], vec![]);
            let tcx = ctx.g.op("Div", &[&tcx, &two], vec![]);
            let tcy = ctx.g.op("Add", &[&t[3], &t[1]], vec![]);
            let tcy = ctx.g.op("Div", &[&tcy, &two], vec![]);
            let tw = ctx.g.op("Sub", &[&t[2], &t[0]], vec![]);
            let tw = ctx.g.op("Add", &[&tw, &one], vec![]);
            let th = ctx.g.op("Sub", &[&t[3], &t[1]], vec![]);
            let th = ctx.g.op("Add", &[&th, &one], vec![]);
            let [tcx, tcy, tw, th] =
                [&tcx, &tcy, &tw, &th].map(|v| ctx.g.op("Unsqueeze", &[v, &one_ax], vec![]));
            let ox = ctx.g.op("Sub", &[&tcx, &pcx], vec![]);
            let ox = ctx.g.op("Div", &[&ox, &pw], vec![]);
            let oy = ctx.g.op("Sub", &[&tcy, &pcy], vec![]);
            let oy = ctx.g.op("Div", &[&oy, &ph], vec![]);
            let ow = ctx.g.op("Div", &[&tw, &pw], vec![]);
            let ow = ctx.g.op("Abs", &[&ow], vec![]);
            let ow = ctx.g.op("Log", &[&ow], vec![]);
            let oh = ctx.g.op("Div", &[&th, &ph], vec![]);
            let oh = ctx.g.op("Abs", &[&oh], vec![]);
            let oh = ctx.g.op("Log", &[&oh], vec![]);
            let parts: Vec<String> = [ox, oy, ow, oh]
                .iter()
                .zip(&var)
                .map(|(v, d)| ctx.g.op("Div", &[v, d], vec![]))
                .collect();
            stack_last(ctx, &parts, &out);
        }
        c => return Err(unsupported(format!("box_coder(code_type={c})"))),
    }
    Ok(())
}

/// Stacks same-shaped values along a new last axis into `out`.
fn stack_last(ctx: &mut Ctx, parts: &[String], out: &str) {
    let last = ctx.g.i64s(&[-1]);
    let u: Vec<String> = parts
        .iter()
        .map(|p| ctx.g.op("Unsqueeze", &[p, &last], vec![]))
        .collect();
    let refs: Vec<&str> = u.iter().map(String::as_str).collect();
    ctx.g.add("Concat", &refs, &[out], vec![a_int("axis", -1)]);
}
