//! Matrix products: `matmul_v2` (transposes, numpy broadcasting), legacy `matmul` with `alpha`,
//! `mul` with its column-flattening, and the fused `fc`.

use super::{bad, Ctx};
use crate::error::Result;
use crate::graph::{a_int, a_ints};
use crate::ir::Op;

fn transpose_last2(ctx: &mut Ctx, op: &Op, x: &str) -> Result<String> {
    let r = ctx.rank_of(op, x)?;
    if r < 2 {
        return Ok(x.to_string());
    }
    let mut perm: Vec<i64> = (0..r as i64).collect();
    perm.swap(r - 1, r - 2);
    Ok(ctx.g.op("Transpose", &[x], vec![a_ints("perm", &perm)]))
}

pub(crate) fn emit(ctx: &mut Ctx, op: &Op) -> Result<bool> {
    match op.ty.as_str() {
        "matmul_v2" | "matmul" | "bmm" => {
            let x = op.input("X").ok_or_else(|| bad(op, "no X"))?.to_string();
            let y = op.input("Y").ok_or_else(|| bad(op, "no Y"))?.to_string();
            let o = op
                .output("Out")
                .ok_or_else(|| bad(op, "no Out"))?
                .to_string();
            let (tx, ty) = if op.ty == "matmul" {
                (
                    op.bool("transpose_X").unwrap_or(false),
                    op.bool("transpose_Y").unwrap_or(false),
                )
            } else {
                (
                    op.bool("trans_x").unwrap_or(false),
                    op.bool("trans_y").unwrap_or(false),
                )
            };
            let x = if tx { transpose_last2(ctx, op, &x)? } else { x };
            let y = if ty { transpose_last2(ctx, op, &y)? } else { y };
            let alpha = if op.ty == "matmul" {
                op.f64("alpha").unwrap_or(1.0)
            } else {
                1.0
            };
            if alpha == 1.0 {
                ctx.g.add("MatMul", &[&x, &y], &[&o], vec![]);
            } else {
                let m = ctx.g.op("MatMul", &[&x, &y], vec![]);
                let a = ctx.g.scalar(ctx.dtype_or_f32(&o), alpha);
                ctx.g.add("Mul", &[&m, &a], &[&o], vec![]);
            }
        }
        "mul" => {
            let x = op.input("X").ok_or_else(|| bad(op, "no X"))?.to_string();
            let y = op.input("Y").ok_or_else(|| bad(op, "no Y"))?.to_string();
            let o = op
                .output("Out")
                .ok_or_else(|| bad(op, "no Out"))?
                .to_string();
            let xn = op.i64("x_num_col_dims").unwrap_or(1);
            let yn = op.i64("y_num_col_dims").unwrap_or(1);
            flat_matmul(ctx, op, &x, xn, &y, yn, None, &o)?;
        }
        "fc" => {
            let x = op
                .input("Input")
                .ok_or_else(|| bad(op, "no Input"))?
                .to_string();
            let w = op.input("W").ok_or_else(|| bad(op, "no W"))?.to_string();
            let o = op
                .output("Out")
                .ok_or_else(|| bad(op, "no Out"))?
                .to_string();
            if op.bool("padding_weights").unwrap_or(false) {
                return Err(super::unsupported("fc(padding_weights)"));
            }
            let n = op.i64("in_num_col_dims").unwrap_or(1);
            let act = op.str("activation_type").unwrap_or("").to_string();
            let bias = op.input("Bias").map(str::to_string);
            let pre = if act.is_empty() {
                o.clone()
            } else {
                ctx.g.fresh("fc")
            };
            flat_matmul(ctx, op, &x, n, &w, 1, bias.as_deref(), &pre)?;
            match act.as_str() {
                "" => {}
                "relu" => ctx.g.add("Relu", &[&pre], &[&o], vec![]),
                a => return Err(super::unsupported(format!("fc(activation_type={a})"))),
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `X` flattened to 2-D at `xn`, `Y` at `yn`, multiplied (+ bias), reshaped to
/// `x.shape[:xn] + y.shape[yn:]`.
#[allow(clippy::too_many_arguments)]
fn flat_matmul(
    ctx: &mut Ctx,
    op: &Op,
    x: &str,
    xn: i64,
    y: &str,
    yn: i64,
    bias: Option<&str>,
    o: &str,
) -> Result<()> {
    let rx = ctx.rank_of(op, x)? as i64;
    let ry = ctx.rank_of(op, y)? as i64;
    let x2 = if rx == 2 && xn == 1 {
        x.to_string()
    } else {
        ctx.g.op("Flatten", &[x], vec![a_int("axis", xn)])
    };
    let y2 = if ry == 2 && yn == 1 {
        y.to_string()
    } else {
        ctx.g.op("Flatten", &[y], vec![a_int("axis", yn)])
    };
    let mut m = ctx.g.op("MatMul", &[&x2, &y2], vec![]);
    if let Some(b) = bias {
        m = ctx.g.op("Add", &[&m, b], vec![]);
    }
    if xn == 1 && ry - yn == 1 {
        ctx.alias(&m, o);
        return Ok(());
    }
    let xs = ctx.g.op("Shape", &[x], vec![]);
    let ys = ctx.g.op("Shape", &[y], vec![]);
    let z = ctx.g.i64s(&[0]);
    let xe = ctx.g.i64s(&[xn]);
    let ys0 = ctx.g.i64s(&[yn]);
    let ye = ctx.g.i64s(&[i64::MAX]);
    let a = ctx.g.op("Slice", &[&xs, &z, &xe], vec![]);
    let b = ctx.g.op("Slice", &[&ys, &ys0, &ye], vec![]);
    let shape = ctx.g.op("Concat", &[&a, &b], vec![a_int("axis", 0)]);
    ctx.g.add("Reshape", &[&m, &shape], &[o], vec![]);
    Ok(())
}
