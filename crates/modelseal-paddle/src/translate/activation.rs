//! Activations and one-input math: relu family, hard_swish/hard_sigmoid with Paddle's own
//! slopes, swish/silu/gelu/mish/softplus with their attributes, prelu modes, and unary math.

use super::{bad, unsupported, Ctx};
use crate::error::Result;
use crate::graph::a_float;
use crate::ir::Op;

fn x_out(op: &Op) -> Result<(String, String)> {
    let x = op.input("X").ok_or_else(|| bad(op, "no input X"))?;
    let o = op.output("Out").ok_or_else(|| bad(op, "no output Out"))?;
    Ok((x.to_string(), o.to_string()))
}

pub(crate) fn emit(ctx: &mut Ctx, op: &Op) -> Result<bool> {
    let simple = match op.ty.as_str() {
        "relu" => "Relu",
        "sigmoid" => "Sigmoid",
        "tanh" => "Tanh",
        "exp" => "Exp",
        "log" => "Log",
        "sqrt" => "Sqrt",
        "abs" => "Abs",
        "floor" => "Floor",
        "ceil" => "Ceil",
        "sin" => "Sin",
        "cos" => "Cos",
        "tan" => "Tan",
        "asin" => "Asin",
        "acos" => "Acos",
        "atan" => "Atan",
        "sinh" => "Sinh",
        "cosh" => "Cosh",
        "erf" => "Erf",
        "reciprocal" => "Reciprocal",
        "sign" => "Sign",
        "softsign" => "Softsign",
        "assign" => "Identity",
        "isnan" => "IsNaN",
        "isinf" => "IsInf",
        _ => "",
    };
    if !simple.is_empty() {
        let (x, o) = x_out(op)?;
        ctx.g.add(simple, &[&x], &[&o], vec![]);
        return Ok(true);
    }
    match op.ty.as_str() {
        "silu" => {
            let (x, o) = x_out(op)?;
            let s = ctx.g.op("Sigmoid", &[&x], vec![]);
            ctx.g.add("Mul", &[&x, &s], &[&o], vec![]);
        }
        "swish" => {
            let (x, o) = x_out(op)?;
            let beta = op.f64("beta").unwrap_or(1.0);
            let bx = if beta == 1.0 {
                x.clone()
            } else {
                let b = ctx.g.scalar(ctx.dtype_or_f32(&x), beta);
                ctx.g.op("Mul", &[&x, &b], vec![])
            };
            let s = ctx.g.op("Sigmoid", &[&bx], vec![]);
            ctx.g.add("Mul", &[&x, &s], &[&o], vec![]);
        }
        "relu6" => {
            let (x, o) = x_out(op)?;
            let t = op.f64("threshold").unwrap_or(6.0);
            clip(ctx, &x, &o, Some(0.0), Some(t));
        }
        "brelu" => {
            let (x, o) = x_out(op)?;
            let lo = op.f64("t_min").unwrap_or(0.0);
            let hi = op.f64("t_max").unwrap_or(24.0);
            clip(ctx, &x, &o, Some(lo), Some(hi));
        }
        "leaky_relu" => {
            let (x, o) = x_out(op)?;
            let alpha = op.f64("alpha").unwrap_or(0.02);
            ctx.g.add(
                "LeakyRelu",
                &[&x],
                &[&o],
                vec![a_float("alpha", alpha as f32)],
            );
        }
        "elu" => {
            let (x, o) = x_out(op)?;
            let alpha = op.f64("alpha").unwrap_or(1.0);
            ctx.g
                .add("Elu", &[&x], &[&o], vec![a_float("alpha", alpha as f32)]);
        }
        "celu" => {
            // max(0, x) + min(0, alpha * (exp(x / alpha) - 1)), written out: tract's Celu differs.
            let (x, o) = x_out(op)?;
            let t = ctx.dtype_or_f32(&x);
            let alpha = op.f64("alpha").unwrap_or(1.0);
            let a = ctx.g.scalar(t, alpha);
            let z = ctx.g.scalar(t, 0.0);
            let one = ctx.g.scalar(t, 1.0);
            let d = ctx.g.op("Div", &[&x, &a], vec![]);
            let e = ctx.g.op("Exp", &[&d], vec![]);
            let e = ctx.g.op("Sub", &[&e, &one], vec![]);
            let e = ctx.g.op("Mul", &[&e, &a], vec![]);
            let neg = ctx.g.op("Min", &[&e, &z], vec![]);
            let pos = ctx.g.op("Max", &[&x, &z], vec![]);
            ctx.g.add("Add", &[&pos, &neg], &[&o], vec![]);
        }
        "selu" => {
            let (x, o) = x_out(op)?;
            let alpha = op.f64("alpha").unwrap_or(1.6732632423543772);
            let scale = op.f64("scale").unwrap_or(1.0507009873554805);
            ctx.g.add(
                "Selu",
                &[&x],
                &[&o],
                vec![
                    a_float("alpha", alpha as f32),
                    a_float("gamma", scale as f32),
                ],
            );
        }
        "hard_swish" => {
            // Paddle's kernel (phi, since 2.5) uses threshold 6, scale 6, offset 3 whatever the
            // attributes of old programs say.
            let (x, o) = x_out(op)?;
            ctx.g.add("HardSwish", &[&x], &[&o], vec![]);
        }
        "hard_sigmoid" => {
            let (x, o) = x_out(op)?;
            // Paddle's registry defaults: slope 0.2, offset 0.5 (never ONNX's 0.2/0.5 by accident).
            let slope = op.f64("slope").unwrap_or(0.2);
            let offset = op.f64("offset").unwrap_or(0.5);
            ctx.g.add(
                "HardSigmoid",
                &[&x],
                &[&o],
                vec![
                    a_float("alpha", slope as f32),
                    a_float("beta", offset as f32),
                ],
            );
        }
        "gelu" => {
            let (x, o) = x_out(op)?;
            let t = ctx.dtype_or_f32(&x);
            let half = ctx.g.scalar(t, 0.5);
            let one = ctx.g.scalar(t, 1.0);
            let inner = if op.bool("approximate").unwrap_or(false) {
                // tanh(sqrt(2/pi) * (x + 0.044715 x^3))
                let x2 = ctx.g.op("Mul", &[&x, &x], vec![]);
                let x3 = ctx.g.op("Mul", &[&x2, &x], vec![]);
                let c = ctx.g.scalar(t, 0.044715);
                let cx3 = ctx.g.op("Mul", &[&x3, &c], vec![]);
                let s = ctx.g.op("Add", &[&x, &cx3], vec![]);
                let k = ctx.g.scalar(t, (2.0 / std::f64::consts::PI).sqrt());
                let ks = ctx.g.op("Mul", &[&s, &k], vec![]);
                ctx.g.op("Tanh", &[&ks], vec![])
            } else {
                let k = ctx.g.scalar(t, std::f64::consts::FRAC_1_SQRT_2);
                let xs = ctx.g.op("Mul", &[&x, &k], vec![]);
                ctx.g.op("Erf", &[&xs], vec![])
            };
            let p = ctx.g.op("Add", &[&inner, &one], vec![]);
            let hx = ctx.g.op("Mul", &[&x, &half], vec![]);
            ctx.g.add("Mul", &[&hx, &p], &[&o], vec![]);
        }
        "softplus" => {
            let (x, o) = x_out(op)?;
            let beta = op.f64("beta").unwrap_or(1.0);
            let threshold = op.f64("threshold").unwrap_or(20.0);
            softplus(ctx, &x, &o, beta, threshold);
        }
        "mish" => {
            // x * tanh(softplus(x)), softplus taking x itself above the threshold.
            let (x, o) = x_out(op)?;
            let threshold = op.f64("threshold").unwrap_or(20.0);
            let sp = ctx.g.fresh("softplus");
            softplus(ctx, &x, &sp, 1.0, threshold);
            let t = ctx.g.op("Tanh", &[&sp], vec![]);
            ctx.g.add("Mul", &[&x, &t], &[&o], vec![]);
        }
        "logsigmoid" => {
            let (x, o) = x_out(op)?;
            let n = ctx.g.op("Neg", &[&x], vec![]);
            let sp = ctx.g.op("Softplus", &[&n], vec![]);
            ctx.g.add("Neg", &[&sp], &[&o], vec![]);
        }
        "rsqrt" => {
            let (x, o) = x_out(op)?;
            let s = ctx.g.op("Sqrt", &[&x], vec![]);
            ctx.g.add("Reciprocal", &[&s], &[&o], vec![]);
        }
        "square" => {
            let (x, o) = x_out(op)?;
            ctx.g.add("Mul", &[&x, &x], &[&o], vec![]);
        }
        "round" => {
            let (x, o) = x_out(op)?;
            if op.i64("decimals").unwrap_or(0) != 0 {
                return Err(unsupported("round(decimals != 0)"));
            }
            ctx.g.add("Round", &[&x], &[&o], vec![]);
        }
        "logical_not" => {
            let (x, o) = x_out(op)?;
            let b = ctx.cast(&x, crate::types::DType::Bool);
            ctx.g.add("Not", &[&b], &[&o], vec![]);
        }
        "prelu" => prelu(ctx, op)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// `Clip(x, lo, hi) -> out` with bounds in x's type.
pub(crate) fn clip(ctx: &mut Ctx, x: &str, out: &str, lo: Option<f64>, hi: Option<f64>) {
    let t = ctx.dtype_or_f32(x);
    let lo = lo.map(|v| ctx.g.scalar(t, v)).unwrap_or_default();
    let hi = hi.map(|v| ctx.g.scalar(t, v)).unwrap_or_default();
    ctx.g.add("Clip", &[x, &lo, &hi], &[out], vec![]);
}

/// Paddle's softplus: `x*beta > threshold ? x : log(1 + exp(beta*x)) / beta`.
fn softplus(ctx: &mut Ctx, x: &str, out: &str, beta: f64, threshold: f64) {
    let t = ctx.dtype_or_f32(x);
    let bx = if beta == 1.0 {
        x.to_string()
    } else {
        let b = ctx.g.scalar(t, beta);
        ctx.g.op("Mul", &[x, &b], vec![])
    };
    let sp = ctx.g.op("Softplus", &[&bx], vec![]);
    let sp = if beta == 1.0 {
        sp
    } else {
        let b = ctx.g.scalar(t, beta);
        ctx.g.op("Div", &[&sp, &b], vec![])
    };
    let th = ctx.g.scalar(t, threshold);
    let big = ctx.g.op("Greater", &[&bx, &th], vec![]);
    ctx.g.add("Where", &[&big, x, &sp], &[out], vec![]);
}

fn prelu(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let (x, o) = x_out(op)?;
    let alpha = op
        .input("Alpha")
        .ok_or_else(|| bad(op, "no Alpha"))?
        .to_string();
    let mode = op.str("mode").unwrap_or("all").to_string();
    let nhwc = matches!(
        op.str("data_format"),
        Some("NHWC") | Some("NLC") | Some("NDHWC")
    );
    let rank = ctx.rank_of(op, &x)?;
    let a = match mode.as_str() {
        "all" => {
            let s = ctx.g.i64s(&[1]);
            ctx.g.op("Reshape", &[&alpha, &s], vec![])
        }
        "channel" => {
            // [C] against axis 1 (NCHW) or the last axis (NHWC).
            let shape: Vec<i64> = if nhwc || rank < 2 {
                vec![-1]
            } else {
                std::iter::once(-1)
                    .chain(std::iter::repeat_n(1, rank - 2))
                    .collect()
            };
            let s = ctx.g.i64s(&shape);
            ctx.g.op("Reshape", &[&alpha, &s], vec![])
        }
        "element" => alpha.clone(),
        m => return Err(unsupported(format!("prelu(mode={m})"))),
    };
    ctx.g.add("PRelu", &[&x, &a], &[&o], vec![]);
    Ok(())
}
