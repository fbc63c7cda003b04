//! Reductions and axis-wise operators: reduce_*, softmax/log_softmax, arg_max/arg_min, top-k,
//! cumsum, p_norm and logsumexp.

use super::{axis, bad, unsupported, Ctx};
use crate::error::Result;
use crate::graph::{a_int, a_ints};
use crate::ir::Op;
use crate::types::DType;

fn io(op: &Op) -> Result<(String, String)> {
    let x = op
        .input("X")
        .ok_or_else(|| bad(op, "no input X"))?
        .to_string();
    let o = op
        .output("Out")
        .ok_or_else(|| bad(op, "no output Out"))?
        .to_string();
    Ok((x, o))
}

/// The reduced axes (normalized, sorted), or `None` for all axes.
fn reduce_axes(ctx: &mut Ctx, op: &Op, x: &str, attr: &str) -> Result<Option<Vec<i64>>> {
    let r = ctx.rank_of(op, x)?;
    let dims = ctx
        .static_ints(op, attr, "DimTensor", "")?
        .unwrap_or_else(|| vec![0]);
    if op.bool("reduce_all").unwrap_or(false) || dims.is_empty() || r == 0 {
        return Ok(None);
    }
    let mut d: Vec<i64> = dims
        .iter()
        .map(|&a| axis(op, a, r))
        .collect::<Result<_>>()?;
    d.sort_unstable();
    d.dedup();
    if d.len() == r {
        return Ok(None);
    }
    Ok(Some(d))
}

pub(crate) fn emit(ctx: &mut Ctx, op: &Op) -> Result<bool> {
    let red = match op.ty.as_str() {
        "reduce_mean" => "ReduceMean",
        "reduce_sum" => "ReduceSum",
        "reduce_max" | "reduce_amax" => "ReduceMax",
        "reduce_min" | "reduce_amin" => "ReduceMin",
        "reduce_prod" => "ReduceProd",
        _ => "",
    };
    if !red.is_empty() {
        let (x, o) = io(op)?;
        let keep = op.bool("keep_dim").unwrap_or(false) as i64;
        let axes = reduce_axes(ctx, op, &x, "dim")?;
        let out_t = op
            .i64("out_dtype")
            .filter(|&t| t >= 0)
            .and_then(DType::from_var_type);
        let rank = ctx.rank_of(op, &x)?;
        // Old programs declare [1] for a full reduction without keep_dim.
        let to_rank1 =
            keep == 0 && axes.as_ref().map_or(rank, Vec::len) == rank && ctx.declared_rank1(&o);
        let target = if out_t.is_some() || to_rank1 {
            ctx.g.fresh("reduce")
        } else {
            o.clone()
        };
        let all: Vec<i64> = (0..rank as i64).collect();
        let axes = axes.unwrap_or(all);
        if red == "ReduceSum" {
            let a = ctx.g.i64s(&axes);
            ctx.g
                .add(red, &[&x, &a], &[&target], vec![a_int("keepdims", keep)]);
        } else {
            ctx.g.add(
                red,
                &[&x],
                &[&target],
                vec![a_ints("axes", &axes), a_int("keepdims", keep)],
            );
        }
        let target = if to_rank1 {
            let one = ctx.g.i64s(&[1]);
            let dst = if out_t.is_some() {
                ctx.g.fresh("reduce1")
            } else {
                o.clone()
            };
            ctx.g.add("Reshape", &[&target, &one], &[&dst], vec![]);
            dst
        } else {
            target
        };
        if let Some(t) = out_t {
            ctx.g.add(
                "Cast",
                &[&target],
                &[&o],
                vec![a_int("to", t.onnx_type().unwrap_or(1) as i64)],
            );
        }
        return Ok(true);
    }
    match op.ty.as_str() {
        "softmax" | "log_softmax" => {
            let (x, o) = io(op)?;
            let r = ctx.rank_of(op, &x)?;
            let f = if op.ty == "softmax" {
                "Softmax"
            } else {
                "LogSoftmax"
            };
            if r == 0 {
                let z = ctx.g.i64s(&[0]);
                let u = ctx.g.op("Unsqueeze", &[&x, &z], vec![]);
                let s = ctx.g.op(f, &[&u], vec![a_int("axis", 0)]);
                ctx.g.add("Squeeze", &[&s, &z], &[&o], vec![]);
            } else {
                let a = axis(op, op.i64("axis").unwrap_or(-1), r)?;
                ctx.g.add(f, &[&x], &[&o], vec![a_int("axis", a)]);
            }
        }
        "arg_max" | "arg_min" => {
            let (x, o) = io(op)?;
            let f = if op.ty == "arg_max" {
                "ArgMax"
            } else {
                "ArgMin"
            };
            let keep = op.bool("keepdims").unwrap_or(false) as i64;
            let (src, a) = if op.bool("flatten").unwrap_or(false) {
                let s = ctx.g.i64s(&[-1]);
                (ctx.g.op("Reshape", &[&x, &s], vec![]), 0)
            } else {
                let a = match ctx.static_ints(op, "axis", "AxisTensor", "")? {
                    Some(v) => v.first().copied().unwrap_or(0),
                    None => 0,
                };
                let r = ctx.rank_of(op, &x)?;
                (x.clone(), axis(op, a, r)?)
            };
            let want = op
                .i64("dtype")
                .and_then(DType::from_var_type)
                .unwrap_or(DType::I64);
            let attrs = vec![
                a_int("axis", a),
                a_int("keepdims", keep),
                a_int("select_last_index", 0),
            ];
            if want == DType::I64 {
                ctx.g.add(f, &[&src], &[&o], attrs);
            } else {
                let v = ctx.g.op(f, &[&src], attrs);
                ctx.g.add(
                    "Cast",
                    &[&v],
                    &[&o],
                    vec![a_int("to", want.onnx_type().unwrap_or(7) as i64)],
                );
            }
        }
        "top_k_v2" | "top_k" => {
            let x = op.input("X").ok_or_else(|| bad(op, "no X"))?.to_string();
            let out = op
                .output("Out")
                .ok_or_else(|| bad(op, "no Out"))?
                .to_string();
            let idx = op
                .output("Indices")
                .map(str::to_string)
                .unwrap_or_else(|| ctx.g.fresh("topk_idx"));
            let k = match op.input("K") {
                Some(t) => match ctx.const_of(t) {
                    Some(c) => ctx.g.i64s(&[c.ints().first().copied().unwrap_or(1)]),
                    None => ctx.i64_1d(t),
                },
                None => ctx.g.i64s(&[op.i64("k").unwrap_or(1)]),
            };
            let r = ctx.rank_of(op, &x)?;
            let a = axis(op, op.i64("axis").unwrap_or(-1), r)?;
            let largest = op.bool("largest").unwrap_or(true) as i64;
            let sorted = op.bool("sorted").unwrap_or(true) as i64;
            ctx.g.add(
                "TopK",
                &[&x, &k],
                &[&out, &idx],
                vec![
                    a_int("axis", a),
                    a_int("largest", largest),
                    a_int("sorted", sorted),
                ],
            );
        }
        "cumsum" => {
            let (x, o) = io(op)?;
            let (src, a) = if op.bool("flatten").unwrap_or(false) {
                let s = ctx.g.i64s(&[-1]);
                (ctx.g.op("Reshape", &[&x, &s], vec![]), 0)
            } else {
                let a = match ctx.static_ints(op, "axis", "AxisTensor", "")? {
                    Some(v) => v.first().copied().unwrap_or(-1),
                    None => -1,
                };
                (x.clone(), a)
            };
            let a = ctx.g.i64_scalar(a);
            ctx.g.add(
                "CumSum",
                &[&src, &a],
                &[&o],
                vec![
                    a_int("exclusive", op.bool("exclusive").unwrap_or(false) as i64),
                    a_int("reverse", op.bool("reverse").unwrap_or(false) as i64),
                ],
            );
        }
        "p_norm" => {
            let (x, o) = io(op)?;
            let p = op.f64("porder").unwrap_or(2.0);
            let keep = op.bool("keepdim").unwrap_or(false) as i64;
            let (src, axes) = if op.bool("asvector").unwrap_or(false) {
                let s = ctx.g.i64s(&[-1]);
                (ctx.g.op("Reshape", &[&x, &s], vec![]), vec![0])
            } else {
                let r = ctx.rank_of(op, &x)?;
                (x.clone(), vec![axis(op, op.i64("axis").unwrap_or(-1), r)?])
            };
            let attrs = vec![a_ints("axes", &axes), a_int("keepdims", keep)];
            if p == 2.0 {
                ctx.g.add("ReduceL2", &[&src], &[&o], attrs);
            } else if p == 1.0 {
                ctx.g.add("ReduceL1", &[&src], &[&o], attrs);
            } else if p == f64::INFINITY {
                let a = ctx.g.op("Abs", &[&src], vec![]);
                ctx.g.add("ReduceMax", &[&a], &[&o], attrs);
            } else if p == f64::NEG_INFINITY {
                let a = ctx.g.op("Abs", &[&src], vec![]);
                ctx.g.add("ReduceMin", &[&a], &[&o], attrs);
            } else if p == 0.0 {
                return Err(unsupported("p_norm(porder=0)"));
            } else {
                let t = ctx.dtype_or_f32(&x);
                let a = ctx.g.op("Abs", &[&src], vec![]);
                let pe = ctx.g.scalar(t, p);
                let pw = ctx.g.op("Pow", &[&a, &pe], vec![]);
                let ax = ctx.g.i64s(&axes);
                let s = ctx
                    .g
                    .op("ReduceSum", &[&pw, &ax], vec![a_int("keepdims", keep)]);
                let inv = ctx.g.scalar(t, 1.0 / p);
                ctx.g.add("Pow", &[&s, &inv], &[&o], vec![]);
            }
        }
        "logsumexp" => {
            let (x, o) = io(op)?;
            let keep = op.bool("keepdim").unwrap_or(false) as i64;
            let axes = reduce_axes(ctx, op, &x, "axis")?;
            let all: Vec<i64> = (0..ctx.rank_of(op, &x)? as i64).collect();
            let axes = axes.unwrap_or(all);
            ctx.g.add(
                "ReduceLogSumExp",
                &[&x],
                &[&o],
                vec![a_ints("axes", &axes), a_int("keepdims", keep)],
            );
        }
        _ => return Ok(false),
    }
    Ok(true)
}
