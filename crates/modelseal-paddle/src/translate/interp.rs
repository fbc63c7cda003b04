//! Interpolation (`nearest`/`bilinear`/`bicubic`/`linear`/`trilinear`, `_interp` and `_v2`) as
//! ONNX Resize, with Paddle's output-size priority and coordinate rules:
//! nearest: floor(ratio*dst) or, with align_corners, round-half-up; linear: align_corners,
//! align_mode 0 (half pixel, clamped) or align_mode 1 (ratio*dst).

use super::shape::shape_slice;
use super::{bad, unsupported, Ctx, IntArg};
use crate::error::Result;
use crate::graph::{a_float, a_int, a_str};
use crate::ir::Op;

pub(crate) fn emit(ctx: &mut Ctx, op: &Op) -> Result<bool> {
    let (method, v2) = match op.ty.as_str() {
        "nearest_interp" => ("nearest", false),
        "bilinear_interp" => ("bilinear", false),
        "nearest_interp_v2" => ("nearest", true),
        "bilinear_interp_v2" => ("bilinear", true),
        "bicubic_interp_v2" | "bicubic_interp" => ("bicubic", op.ty.ends_with("v2")),
        "linear_interp_v2" | "linear_interp" => ("linear", op.ty.ends_with("v2")),
        "trilinear_interp_v2" | "trilinear_interp" => ("trilinear", op.ty.ends_with("v2")),
        _ => return Ok(false),
    };
    let x = op.input("X").ok_or_else(|| bad(op, "no X"))?.to_string();
    let o = op
        .output("Out")
        .ok_or_else(|| bad(op, "no Out"))?
        .to_string();
    if matches!(
        op.str("data_layout"),
        Some("NHWC") | Some("NDHWC") | Some("NWC")
    ) {
        return Err(unsupported(format!("{}(data_format=NHWC)", op.ty)));
    }
    let shape = ctx
        .shape(&x)
        .ok_or_else(|| bad(op, "input rank not declared"))?;
    let r = shape.len();
    if r < 3 {
        return Err(bad(op, format!("rank {r} input")));
    }
    let ns = r - 2;
    // Registry defaults (attributes absent in old programs): align_corners true, align_mode 1.
    let align_corners = op.bool("align_corners").unwrap_or(true);
    let align_mode = op.i64("align_mode").unwrap_or(1);

    // Output size: SizeTensor list > OutSize > scale (tensor, then attribute) > out_d/h/w.
    let size_list = op.ins("SizeTensor").to_vec();
    let mut sizes: Option<IntArg> = None;
    if !size_list.is_empty() {
        sizes = ctx.int_arg(op, "", "", "SizeTensor")?;
    } else if let Some(t) = op.input("OutSize") {
        sizes = ctx.int_arg(op, "", "OutSize", "")?;
        let _ = t;
    }
    let mut scales: Vec<f64> = Vec::new();
    if sizes.is_none() {
        if let Some(t) = op.input("Scale") {
            match ctx.const_of(t) {
                Some(c) => scales = c.floats(),
                None => return Err(unsupported(format!("{}(scale as a runtime tensor)", op.ty))),
            }
        } else if let Some(s) = op.floats("scale") {
            scales = s;
        }
        scales.retain(|_| true);
        if scales.len() == 1 {
            scales = vec![scales[0]; ns];
        }
        if !(scales.len() == ns && scales.iter().all(|&s| s > 0.0)) {
            scales.clear();
            let names: &[&str] = match ns {
                1 => &["out_w"],
                2 => &["out_h", "out_w"],
                _ => &["out_d", "out_h", "out_w"],
            };
            let v: Vec<i64> = names.iter().map(|n| op.i64(n).unwrap_or(-1)).collect();
            if v.iter().any(|&d| d <= 0) {
                return Err(bad(
                    op,
                    "no output size: no SizeTensor, OutSize, scale or out_h/out_w",
                ));
            }
            sizes = Some(IntArg::Static(v));
        }
    }

    let (mode, coord, nearest) = match method {
        "nearest" if align_corners => ("nearest", "align_corners", "round_prefer_ceil"),
        "nearest" => ("nearest", "asymmetric", "floor"),
        "bicubic" if align_corners => ("cubic", "align_corners", ""),
        "bicubic" => ("cubic", "half_pixel", ""),
        _ if align_corners => ("linear", "align_corners", ""),
        _ if align_mode == 0 => ("linear", "pytorch_half_pixel", ""),
        _ => ("linear", "asymmetric", ""),
    };
    let mut attrs = vec![
        a_str("mode", mode),
        a_str("coordinate_transformation_mode", coord),
    ];
    if !nearest.is_empty() {
        attrs.push(a_str("nearest_mode", nearest));
    }
    if mode == "cubic" {
        attrs.push(a_float("cubic_coeff_a", -0.75));
        attrs.push(a_int("exclude_outside", 0));
    }

    // A scale of Paddle's v2 operators is also its sampling ratio (1/scale): pass scales to ONNX
    // so it derives both the size (floor(in*scale)) and the coordinates from them. Everything
    // else goes through sizes (ratio in/out), as does align_corners (ratio (in-1)/(out-1)).
    if !scales.is_empty() && v2 && !align_corners {
        let mut s = vec![1.0f32, 1.0];
        s.extend(scales.iter().map(|&v| v as f32));
        let sc = ctx.g.f32s(&s, &[s.len() as i64]);
        ctx.g.add("Resize", &[&x, "", &sc], &[&o], attrs);
        return Ok(true);
    }
    let spatial = match sizes {
        Some(IntArg::Static(v)) => {
            if v.len() != ns {
                return Err(bad(
                    op,
                    format!("{} output sizes for {ns} spatial dims", v.len()),
                ));
            }
            SizeVal::Static(v)
        }
        Some(IntArg::Dynamic(v)) => SizeVal::Dynamic(v),
        None => {
            // scale given but sizes needed (v1 or align_corners): out = int(in * scale)
            let dims = &shape[2..];
            if dims.iter().any(|&d| d < 0) {
                let in_sz = shape_slice(ctx, &x, 2, i64::MAX);
                let f = ctx.g.op("Cast", &[&in_sz], vec![a_int("to", 1)]);
                let s: Vec<f32> = scales.iter().map(|&v| v as f32).collect();
                let sc = ctx.g.f32s(&s, &[s.len() as i64]);
                let m = ctx.g.op("Mul", &[&f, &sc], vec![]);
                SizeVal::Dynamic(ctx.g.op("Cast", &[&m], vec![a_int("to", 7)]))
            } else {
                SizeVal::Static(
                    dims.iter()
                        .zip(&scales)
                        .map(|(&d, &s)| (d as f32 * s as f32) as i64)
                        .collect(),
                )
            }
        }
    };
    let nc = shape_slice(ctx, &x, 0, 2);
    let sp = match spatial {
        SizeVal::Static(v) => ctx.g.i64s(&v),
        SizeVal::Dynamic(v) => v,
    };
    let sizes = ctx.g.op("Concat", &[&nc, &sp], vec![a_int("axis", 0)]);
    ctx.g.add("Resize", &[&x, "", "", &sizes], &[&o], attrs);
    Ok(true)
}

enum SizeVal {
    Static(Vec<i64>),
    Dynamic(String),
}
