//! Two-input elementwise operators with Paddle's legacy `axis` broadcasting, comparisons and
//! logic, `where`, `scale`, `clip`, `pow` and the N-ary `sum`.

use super::{bad, unsupported, Ctx};
use crate::error::Result;
use crate::graph::a_int;
use crate::ir::Op;
use crate::types::DType;

/// Aligns the lower-rank operand to the other one at `axis` (legacy rule): shape
/// `[1]*axis + Y.shape + [1]*(rank(X) - axis - rank(Y))`, written as trailing unsqueezes so
/// dynamic dims survive; leading ones come from ONNX broadcasting.
fn align(ctx: &mut Ctx, op: &Op, x: &str, y: &str) -> Result<(String, String)> {
    let axis = op.i64("axis").unwrap_or(-1);
    if axis == -1 {
        return Ok((x.to_string(), y.to_string()));
    }
    let (rx, ry) = match (ctx.rank(x), ctx.rank(y)) {
        (Some(a), Some(b)) => (a, b),
        _ => return Err(bad(op, "axis broadcasting needs declared ranks")),
    };
    if rx == ry {
        return Ok((x.to_string(), y.to_string()));
    }
    let (big, small, swap) = if rx > ry {
        (rx, ry, false)
    } else {
        (ry, rx, true)
    };
    let axis = if axis < 0 { axis + big as i64 } else { axis };
    if axis < 0 || axis as usize + small > big {
        return Err(bad(
            op,
            format!("axis {axis} does not fit ranks {rx} and {ry}"),
        ));
    }
    let trailing = big - axis as usize - small;
    let operand = if swap { x } else { y };
    let aligned = if trailing == 0 {
        operand.to_string()
    } else {
        let axes: Vec<i64> = (0..trailing).map(|i| (small + i) as i64).collect();
        let a = ctx.g.i64s(&axes);
        ctx.g.op("Unsqueeze", &[operand, &a], vec![])
    };
    Ok(if swap {
        (aligned, y.to_string())
    } else {
        (x.to_string(), aligned)
    })
}

fn xy_out(op: &Op) -> Result<(String, String, String)> {
    let x = op.input("X").ok_or_else(|| bad(op, "no input X"))?;
    let y = op.input("Y").ok_or_else(|| bad(op, "no input Y"))?;
    let o = op.output("Out").ok_or_else(|| bad(op, "no output Out"))?;
    Ok((x.to_string(), y.to_string(), o.to_string()))
}

pub(crate) fn emit(ctx: &mut Ctx, op: &Op) -> Result<bool> {
    let arith = match op.ty.as_str() {
        "elementwise_add" => "Add",
        "elementwise_sub" => "Sub",
        "elementwise_mul" => "Mul",
        "elementwise_div" => "Div",
        "elementwise_max" => "Max",
        "elementwise_min" => "Min",
        "elementwise_pow" => "Pow",
        "equal" => "Equal",
        "greater_than" => "Greater",
        "greater_equal" => "GreaterOrEqual",
        "less_than" => "Less",
        "less_equal" => "LessOrEqual",
        _ => "",
    };
    if !arith.is_empty() {
        let (x, y, o) = xy_out(op)?;
        let (x, y) = align(ctx, op, &x, &y)?;
        let (x, y) = same_type(ctx, &x, &y);
        ctx.g.add(arith, &[&x, &y], &[&o], vec![]);
        return Ok(true);
    }
    match op.ty.as_str() {
        "not_equal" => {
            let (x, y, o) = xy_out(op)?;
            let (x, y) = align(ctx, op, &x, &y)?;
            let (x, y) = same_type(ctx, &x, &y);
            let e = ctx.g.op("Equal", &[&x, &y], vec![]);
            ctx.g.add("Not", &[&e], &[&o], vec![]);
        }
        "logical_and" | "logical_or" | "logical_xor" => {
            let (x, y, o) = xy_out(op)?;
            let (x, y) = align(ctx, op, &x, &y)?;
            let x = ctx.cast(&x, DType::Bool);
            let y = ctx.cast(&y, DType::Bool);
            let f = match op.ty.as_str() {
                "logical_and" => "And",
                "logical_or" => "Or",
                _ => "Xor",
            };
            ctx.g.add(f, &[&x, &y], &[&o], vec![]);
        }
        "elementwise_floordiv" => {
            let (x, y, o) = xy_out(op)?;
            let (x, y) = align(ctx, op, &x, &y)?;
            if ctx.dtype_or_f32(&x).is_float() {
                let d = ctx.g.op("Div", &[&x, &y], vec![]);
                ctx.g.add("Floor", &[&d], &[&o], vec![]);
            } else {
                // floor(x / y) for integers: (x - mod(x, y)) / y with the divisor-signed mod.
                let r = ctx.g.op("Mod", &[&x, &y], vec![a_int("fmod", 0)]);
                let s = ctx.g.op("Sub", &[&x, &r], vec![]);
                ctx.g.add("Div", &[&s, &y], &[&o], vec![]);
            }
        }
        "elementwise_mod" => {
            let (x, y, o) = xy_out(op)?;
            let (x, y) = align(ctx, op, &x, &y)?;
            if ctx.dtype_or_f32(&x).is_float() {
                // fmod, then shifted by y where the signs of the remainder and y differ.
                let r = ctx.g.op("Mod", &[&x, &y], vec![a_int("fmod", 1)]);
                let t = ctx.dtype_or_f32(&x);
                let zero = ctx.g.scalar(t, 0.0);
                let rz = ctx.g.op("Equal", &[&r, &zero], vec![]);
                let nz = ctx.g.op("Not", &[&rz], vec![]);
                let rn = ctx.g.op("Less", &[&r, &zero], vec![]);
                let yn = ctx.g.op("Less", &[&y, &zero], vec![]);
                let diff = ctx.g.op("Xor", &[&rn, &yn], vec![]);
                let fix = ctx.g.op("And", &[&nz, &diff], vec![]);
                let ry = ctx.g.op("Add", &[&r, &y], vec![]);
                ctx.g.add("Where", &[&fix, &ry, &r], &[&o], vec![]);
            } else {
                ctx.g.add("Mod", &[&x, &y], &[&o], vec![a_int("fmod", 0)]);
            }
        }
        "where" => {
            let c = op
                .input("Condition")
                .ok_or_else(|| bad(op, "no Condition"))?
                .to_string();
            let (x, y, o) = xy_out(op)?;
            let c = ctx.cast(&c, DType::Bool);
            ctx.g.add("Where", &[&c, &x, &y], &[&o], vec![]);
        }
        "scale" => {
            let x = op
                .input("X")
                .ok_or_else(|| bad(op, "no input X"))?
                .to_string();
            let o = op
                .output("Out")
                .ok_or_else(|| bad(op, "no output Out"))?
                .to_string();
            let t = ctx.dtype_or_f32(&x);
            let bias = op.f64("bias").unwrap_or(0.0);
            let after = op.bool("bias_after_scale").unwrap_or(true);
            let scale = match op.input("ScaleTensor") {
                Some(s) => match ctx.const_of(s) {
                    Some(c) if c.len() == 1 => Scale::Const(c.floats()[0]),
                    _ => Scale::Tensor(ctx.cast(s, t)),
                },
                None => Scale::Const(op.f64("scale").unwrap_or(1.0)),
            };
            if !t.is_float() {
                let integral =
                    bias.fract() == 0.0 && matches!(scale, Scale::Const(s) if s.fract() == 0.0);
                if !integral {
                    return Err(unsupported("scale(fractional factor on an integer tensor)"));
                }
            }
            let mut v = x.clone();
            if !after && bias != 0.0 {
                let b = ctx.g.scalar(t, bias);
                v = ctx.g.op("Add", &[&v, &b], vec![]);
            }
            match scale {
                Scale::Const(1.0) => {}
                Scale::Const(s) => {
                    let s = ctx.g.scalar(t, s);
                    v = ctx.g.op("Mul", &[&v, &s], vec![]);
                }
                Scale::Tensor(s) => v = ctx.g.op("Mul", &[&v, &s], vec![]),
            }
            if after && bias != 0.0 {
                let b = ctx.g.scalar(t, bias);
                v = ctx.g.op("Add", &[&v, &b], vec![]);
            }
            ctx.alias(&v, &o);
        }
        "clip" => {
            let x = op
                .input("X")
                .ok_or_else(|| bad(op, "no input X"))?
                .to_string();
            let o = op
                .output("Out")
                .ok_or_else(|| bad(op, "no output Out"))?
                .to_string();
            let t = ctx.dtype_or_f32(&x);
            let bound = |ctx: &mut Ctx, slot: &str, attr: &str| -> Result<Option<String>> {
                if let Some(s) = op.input(slot) {
                    return Ok(Some(match ctx.const_of(s) {
                        Some(c) if c.len() == 1 => ctx.g.scalar(t, c.floats()[0]),
                        _ => {
                            let c = ctx.cast(s, t);
                            let shape = ctx.g.i64s(&[]);
                            ctx.g.op("Reshape", &[&c, &shape], vec![])
                        }
                    }));
                }
                Ok(op.f64(attr).map(|v| ctx.g.scalar(t, v)))
            };
            let lo = bound(ctx, "Min", "min")?.unwrap_or_default();
            let hi = bound(ctx, "Max", "max")?.unwrap_or_default();
            ctx.g.add("Clip", &[&x, &lo, &hi], &[&o], vec![]);
        }
        "pow" => {
            let x = op
                .input("X")
                .ok_or_else(|| bad(op, "no input X"))?
                .to_string();
            let o = op
                .output("Out")
                .ok_or_else(|| bad(op, "no output Out"))?
                .to_string();
            let f = ctx.float_arg(op, "factor", "FactorTensor")?.unwrap_or(1.0);
            let t = ctx.dtype_or_f32(&x);
            let e = ctx.g.scalar(t, f);
            ctx.g.add("Pow", &[&x, &e], &[&o], vec![]);
        }
        "sum" => {
            let xs = op.ins("X").to_vec();
            let o = op
                .output("Out")
                .ok_or_else(|| bad(op, "no output Out"))?
                .to_string();
            if xs.is_empty() {
                return Err(bad(op, "no inputs"));
            }
            let refs: Vec<&str> = xs.iter().map(String::as_str).collect();
            ctx.g.add("Sum", &refs, &[&o], vec![]);
        }
        "thresholded_relu" => {
            let x = op
                .input("X")
                .ok_or_else(|| bad(op, "no input X"))?
                .to_string();
            let o = op
                .output("Out")
                .ok_or_else(|| bad(op, "no output Out"))?
                .to_string();
            let alpha = op.f64("threshold").unwrap_or(1.0);
            ctx.g.add(
                "ThresholdedRelu",
                &[&x],
                &[&o],
                vec![crate::graph::a_float("alpha", alpha as f32)],
            );
        }
        _ => return Ok(false),
    }
    Ok(true)
}

enum Scale {
    Const(f64),
    Tensor(String),
}

/// ONNX needs both operands in one type; Paddle programs occasionally mix (a float constant
/// against an int tensor after type promotion): cast the second to the first's type.
fn same_type(ctx: &mut Ctx, x: &str, y: &str) -> (String, String) {
    match (ctx.dtype(x), ctx.dtype(y)) {
        (Some(a), Some(b)) if a != b => (x.to_string(), ctx.cast(y, a)),
        _ => (x.to_string(), y.to_string()),
    }
}
