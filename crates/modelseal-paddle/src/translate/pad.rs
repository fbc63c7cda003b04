//! Padding: `pad3d` (constant, reflect, replicate, circular; the last three as slices and
//! concats that every backend runs alike) and the all-dims `pad`.

use super::{bad, unsupported, Ctx};
use crate::error::Result;
use crate::graph::{a_int, a_str};
use crate::ir::Op;

fn x(op: &Op, slot: &str) -> Result<String> {
    op.input(slot)
        .map(str::to_string)
        .ok_or_else(|| bad(op, format!("no input {slot}")))
}

fn y(op: &Op, slot: &str) -> Result<String> {
    op.output(slot)
        .map(str::to_string)
        .ok_or_else(|| bad(op, format!("no output {slot}")))
}

pub(crate) fn emit(ctx: &mut Ctx, op: &Op) -> Result<bool> {
    match op.ty.as_str() {
        "pad3d" => pad3d(ctx, op)?,
        "pad" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let p = op.ints("paddings").ok_or_else(|| bad(op, "no paddings"))?;
            let r = ctx.rank_of(op, &i)?;
            if p.len() != 2 * r {
                return Err(bad(op, format!("{} paddings for rank {r}", p.len())));
            }
            let mut pads: Vec<i64> = (0..r).map(|d| p[2 * d]).collect();
            pads.extend((0..r).map(|d| p[2 * d + 1]));
            let pads = ctx.g.i64s(&pads);
            let t = ctx.dtype_or_f32(&i);
            let value = ctx
                .float_arg(op, "pad_value", "PadValueTensor")?
                .unwrap_or(0.0);
            let v = ctx.g.scalar(t, value);
            ctx.g.add(
                "Pad",
                &[&i, &pads, &v],
                &[&o],
                vec![a_str("mode", "constant")],
            );
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn pad3d(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let i = x(op, "X")?;
    let o = y(op, "Out")?;
    let p = ctx
        .static_ints(op, "paddings", "Paddings", "")?
        .ok_or_else(|| bad(op, "no paddings"))?;
    let r = ctx.rank_of(op, &i)?;
    let fmt = op.str("data_format").unwrap_or("NCDHW");
    // p = [left, right, top, bottom, front, back] over W, H, D.
    let (l, rr, t, b, f, bk) = match p.len() {
        6 => (p[0], p[1], p[2], p[3], p[4], p[5]),
        4 => (p[0], p[1], p[2], p[3], 0, 0),
        n => return Err(bad(op, format!("{n} paddings"))),
    };
    let mut begin = vec![0i64; r];
    let mut end = vec![0i64; r];
    let spatial: Vec<usize> = if fmt.ends_with('C') {
        (1..r - 1).collect()
    } else {
        (2..r).collect()
    };
    // spatial dims in order (D, H, W) or (H, W)
    let vals = [(f, bk), (t, b), (l, rr)];
    let take = &vals[3 - spatial.len().min(3)..];
    for (dim, &(a, z)) in spatial.iter().zip(take) {
        begin[*dim] = a;
        end[*dim] = z;
    }
    let mode = op.str("mode").unwrap_or("constant").to_string();
    if p.iter().any(|&v| !(0..=1 << 16).contains(&v)) {
        return Err(unsupported(format!("pad3d(paddings {p:?})")));
    }
    match mode.as_str() {
        "constant" => {
            let mut pads = begin;
            pads.extend(end);
            let pads = ctx.g.i64s(&pads);
            let tt = ctx.dtype_or_f32(&i);
            let v = ctx.g.scalar(tt, op.f64("value").unwrap_or(0.0));
            ctx.g.add(
                "Pad",
                &[&i, &pads, &v],
                &[&o],
                vec![a_str("mode", "constant")],
            );
        }
        "reflect" | "replicate" | "circular" => {
            // Written as slices and concats, which every backend runs the same way.
            let mut v = i.clone();
            for d in 0..r {
                if begin[d] == 0 && end[d] == 0 {
                    continue;
                }
                v = pad_axis(ctx, &v, d as i64, begin[d], end[d], &mode);
            }
            ctx.alias(&v, &o);
        }
        m => return Err(unsupported(format!("pad3d(mode={m})"))),
    }
    Ok(())
}

/// Pads one axis by `a` before and `z` after with reflected, replicated or wrapped slices.
fn pad_axis(ctx: &mut Ctx, x: &str, axis: i64, a: i64, z: i64, mode: &str) -> String {
    let ax = ctx.g.i64s(&[axis]);
    let slice = |ctx: &mut Ctx, start: i64, end: i64, step: i64| -> String {
        let s = ctx.g.i64s(&[start]);
        let e = ctx.g.i64s(&[end]);
        let st = ctx.g.i64s(&[step]);
        ctx.g.op("Slice", &[x, &s, &e, &ax, &st], vec![])
    };
    let mut parts = Vec::new();
    if a > 0 {
        parts.push(match mode {
            // x[a], x[a-1], ..., x[1]
            "reflect" => slice(ctx, a, 0, -1),
            "circular" => slice(ctx, -a, i64::MAX, 1),
            _ => {
                let first = slice(ctx, 0, 1, 1);
                repeat_axis(ctx, &first, axis, a)
            }
        });
    }
    parts.push(x.to_string());
    if z > 0 {
        parts.push(match mode {
            // x[-2], x[-3], ..., x[-1-z]
            "reflect" => slice(ctx, -2, -2 - z, -1),
            "circular" => slice(ctx, 0, z, 1),
            _ => {
                let last = slice(ctx, -1, i64::MAX, 1);
                repeat_axis(ctx, &last, axis, z)
            }
        });
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    ctx.g.op("Concat", &refs, vec![a_int("axis", axis)])
}

/// Repeats a size-1 slice `n` times along `axis` (Concat of copies: rank-independent).
fn repeat_axis(ctx: &mut Ctx, x: &str, axis: i64, n: i64) -> String {
    let copies: Vec<&str> = (0..n).map(|_| x).collect();
    ctx.g.op("Concat", &copies, vec![a_int("axis", axis)])
}
