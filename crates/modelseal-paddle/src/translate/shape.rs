//! Shape and indexing operators: reshape, flatten, transpose, squeeze/unsqueeze, concat, split,
//! slice/strided_slice, stack/unbind, gather, expand, tile, shape, cast, padding.

use super::{axis, bad, unsupported, Ctx, IntArg};
use crate::error::Result;
use crate::graph::{a_int, a_ints};
use crate::ir::Op;
use crate::types::DType;

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
        "reshape2" | "reshape" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let shape = match ctx.int_arg(op, "shape", "Shape", "ShapeTensor")? {
                Some(IntArg::Static(v)) => ctx.g.i64s(&v),
                Some(IntArg::Dynamic(v)) => v,
                None => return Err(bad(op, "no shape")),
            };
            ctx.g.add("Reshape", &[&i, &shape], &[&o], vec![]);
        }
        "flatten_contiguous_range" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let r = ctx.rank_of(op, &i)?;
            if r == 0 {
                let s = ctx.g.i64s(&[1]);
                ctx.g.add("Reshape", &[&i, &s], &[&o], vec![]);
                return Ok(true);
            }
            let start = axis(op, op.i64("start_axis").unwrap_or(1), r)?;
            let stop = axis(op, op.i64("stop_axis").unwrap_or(-1), r)?;
            if stop as usize == r - 1 && start > 0 {
                // ONNX Flatten gives 2-D; keep the leading dims with a dynamic shape.
                let s = shape_slice(ctx, &i, 0, start);
                let m = ctx.g.i64s(&[-1]);
                let shape = ctx.g.op("Concat", &[&s, &m], vec![a_int("axis", 0)]);
                ctx.g.add("Reshape", &[&i, &shape], &[&o], vec![]);
            } else {
                let a = shape_slice(ctx, &i, 0, start);
                let m = ctx.g.i64s(&[-1]);
                let b = shape_slice(ctx, &i, stop + 1, i64::MAX);
                let shape = ctx.g.op("Concat", &[&a, &m, &b], vec![a_int("axis", 0)]);
                ctx.g.add("Reshape", &[&i, &shape], &[&o], vec![]);
            }
        }
        "flatten2" | "flatten" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let a = op.i64("axis").unwrap_or(1);
            ctx.g.add("Flatten", &[&i], &[&o], vec![a_int("axis", a)]);
        }
        "transpose2" | "transpose" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let perm = op.ints("axis").ok_or_else(|| bad(op, "no axis"))?;
            ctx.g
                .add("Transpose", &[&i], &[&o], vec![a_ints("perm", &perm)]);
        }
        "squeeze2" | "squeeze" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let axes = ctx
                .static_ints(op, "axes", "AxesTensor", "AxesTensorList")?
                .unwrap_or_default();
            let shape = ctx
                .shape(&i)
                .ok_or_else(|| bad(op, "input rank not declared"))?;
            if axes.is_empty() {
                // All size-1 dims.
                if shape.contains(&-1) {
                    return Err(unsupported("squeeze2(all axes with unknown sizes)"));
                }
                ctx.g.add("Squeeze", &[&i], &[&o], vec![]);
                return Ok(true);
            }
            let mut keep = Vec::new();
            for a in axes {
                let a = axis(op, a, shape.len())?;
                match shape[a as usize] {
                    1 => keep.push(a),
                    -1 => return Err(unsupported("squeeze2(axis of unknown size)")),
                    _ => {} // Paddle ignores axes whose size is not 1.
                }
            }
            keep.sort_unstable();
            keep.dedup();
            if keep.is_empty() {
                ctx.alias(&i, &o);
            } else {
                let a = ctx.g.i64s(&keep);
                ctx.g.add("Squeeze", &[&i, &a], &[&o], vec![]);
            }
        }
        "unsqueeze2" | "unsqueeze" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let axes = match ctx.int_arg(op, "axes", "AxesTensor", "AxesTensorList")? {
                Some(IntArg::Static(v)) => v,
                Some(IntArg::Dynamic(_)) => {
                    return Err(unsupported("unsqueeze2(axes as a runtime tensor)"))
                }
                None => return Err(bad(op, "no axes")),
            };
            // Paddle inserts one axis at a time, each index relative to the rank at that point.
            let mut dims: Vec<bool> = vec![false; ctx.rank_of(op, &i)?];
            for a in axes {
                let r = dims.len() as i64;
                let a = if a < 0 { a + r + 1 } else { a };
                if a < 0 || a > r {
                    return Err(bad(op, format!("axis {a} out of range")));
                }
                dims.insert(a as usize, true);
            }
            let new: Vec<i64> = dims
                .iter()
                .enumerate()
                .filter(|(_, &n)| n)
                .map(|(k, _)| k as i64)
                .collect();
            let a = ctx.g.i64s(&new);
            ctx.g.add("Unsqueeze", &[&i, &a], &[&o], vec![]);
        }
        "concat" => {
            let xs = op.ins("X").to_vec();
            let o = y(op, "Out")?;
            let a = match ctx.static_ints(op, "axis", "AxisTensor", "")? {
                Some(v) => v.first().copied().unwrap_or(0),
                None => 0,
            };
            let r = xs
                .first()
                .and_then(|n| ctx.rank(n))
                .ok_or_else(|| bad(op, "input rank not declared"))?;
            let a = axis(op, a, r)?;
            let refs: Vec<&str> = xs.iter().map(String::as_str).collect();
            ctx.g.add("Concat", &refs, &[&o], vec![a_int("axis", a)]);
        }
        "split" => split(ctx, op)?,
        "slice" | "strided_slice" => slice(ctx, op)?,
        "stack" => {
            let xs = op.ins("X").to_vec();
            let o = y(op, "Y")?;
            let r = xs
                .first()
                .and_then(|n| ctx.rank(n))
                .ok_or_else(|| bad(op, "input rank not declared"))?;
            let a = axis(op, op.i64("axis").unwrap_or(0), r + 1)?;
            let ax = ctx.g.i64s(&[a]);
            let parts: Vec<String> = xs
                .iter()
                .map(|n| ctx.g.op("Unsqueeze", &[n, &ax], vec![]))
                .collect();
            let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            ctx.g.add("Concat", &refs, &[&o], vec![a_int("axis", a)]);
        }
        "unbind" => {
            let i = x(op, "X")?;
            let outs = op.outs("Out").to_vec();
            let r = ctx.rank_of(op, &i)?;
            let a = axis(op, op.i64("axis").unwrap_or(0), r)?;
            let parts: Vec<String> = outs
                .iter()
                .map(|n| ctx.g.fresh(&format!("unbind_{n}")))
                .collect();
            let prefs: Vec<&str> = parts.iter().map(String::as_str).collect();
            ctx.g.add("Split", &[&i], &prefs, vec![a_int("axis", a)]);
            let ax = ctx.g.i64s(&[a]);
            for (p, n) in parts.iter().zip(&outs) {
                ctx.g.add("Squeeze", &[p, &ax], &[n], vec![]);
            }
        }
        "gather" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let idx = x(op, "Index")?;
            let a = match ctx.static_ints(op, "axis", "Axis", "")? {
                Some(v) => v.first().copied().unwrap_or(0),
                None => 0,
            };
            let r = ctx.rank_of(op, &i)?;
            let a = axis(op, a, r)?;
            let idx = match ctx.shape(&idx) {
                Some(s) if s.len() == 2 && s[1] == 1 => {
                    let s = ctx.g.i64s(&[-1]);
                    ctx.g.op("Reshape", &[&idx, &s], vec![])
                }
                _ => idx,
            };
            ctx.g
                .add("Gather", &[&i, &idx], &[&o], vec![a_int("axis", a)]);
        }
        "index_select" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let idx = x(op, "Index")?;
            let r = ctx.rank_of(op, &i)?;
            let a = axis(op, op.i64("dim").unwrap_or(0), r)?;
            ctx.g
                .add("Gather", &[&i, &idx], &[&o], vec![a_int("axis", a)]);
        }
        "gather_nd" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let idx = x(op, "Index")?;
            let idx = ctx.cast(&idx, DType::I64);
            ctx.g.add("GatherND", &[&i, &idx], &[&o], vec![]);
        }
        "expand_v2" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let shape = match ctx.int_arg(op, "shape", "Shape", "expand_shapes_tensor")? {
                Some(IntArg::Static(v)) => {
                    let v: Vec<i64> = v.iter().map(|&d| if d == -1 { 1 } else { d }).collect();
                    ctx.g.i64s(&v)
                }
                Some(IntArg::Dynamic(v)) => {
                    // -1 keeps the input dim: 1 under ONNX's bidirectional broadcasting.
                    let m1 = ctx.g.i64s(&[-1]);
                    let one = ctx.g.i64s(&[1]);
                    let eq = ctx.g.op("Equal", &[&v, &m1], vec![]);
                    ctx.g.op("Where", &[&eq, &one, &v], vec![])
                }
                None => return Err(bad(op, "no shape")),
            };
            ctx.g.add("Expand", &[&i, &shape], &[&o], vec![]);
        }
        "expand_as_v2" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let shape = match op.input("Y") {
                Some(t) => ctx.g.op("Shape", &[t], vec![]),
                None => {
                    let s = op
                        .ints("target_shape")
                        .ok_or_else(|| bad(op, "no target_shape"))?;
                    ctx.g.i64s(&s)
                }
            };
            ctx.g.add("Expand", &[&i, &shape], &[&o], vec![]);
        }
        "tile" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let r = ctx.rank_of(op, &i)?;
            let reps = ctx
                .static_ints(op, "repeat_times", "RepeatTimes", "repeat_times_tensor")?
                .ok_or_else(|| bad(op, "no repeat_times"))?;
            let mut src = i.clone();
            let mut reps = reps;
            if reps.len() < r {
                let mut v = vec![1; r - reps.len()];
                v.extend(reps);
                reps = v;
            } else if reps.len() > r {
                let axes: Vec<i64> = (0..(reps.len() - r) as i64).collect();
                let a = ctx.g.i64s(&axes);
                src = ctx.g.op("Unsqueeze", &[&src, &a], vec![]);
            }
            let rp = ctx.g.i64s(&reps);
            ctx.g.add("Tile", &[&src, &rp], &[&o], vec![]);
        }
        "shape" | "shape64" => {
            let (i, o) = (x(op, "Input")?, y(op, "Out")?);
            let s = ctx.g.op("Shape", &[&i], vec![]);
            let want = ctx.dtype(&o).unwrap_or(if op.ty == "shape" {
                DType::I32
            } else {
                DType::I64
            });
            if want == DType::I64 {
                ctx.alias(&s, &o);
            } else {
                ctx.g.add(
                    "Cast",
                    &[&s],
                    &[&o],
                    vec![a_int("to", want.onnx_type().unwrap_or(6) as i64)],
                );
            }
        }
        "cast" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let t = op
                .i64("out_dtype")
                .and_then(DType::from_var_type)
                .ok_or_else(|| bad(op, "no valid out_dtype"))?;
            let to = t
                .onnx_type()
                .ok_or_else(|| unsupported(format!("cast(to {t})")))?;
            ctx.g
                .add("Cast", &[&i], &[&o], vec![a_int("to", to as i64)]);
        }
        "fill_constant" => fill_constant(ctx, op)?,
        "meshgrid" => {
            let xs = op.ins("X").to_vec();
            let outs = op.outs("Out").to_vec();
            if xs.len() != outs.len() || xs.is_empty() {
                return Err(bad(op, "inputs and outputs differ in number"));
            }
            let flat: Vec<String> = xs.iter().map(|v| ctx.i64_1d_shape(v)).collect();
            let refs: Vec<&str> = flat.iter().map(String::as_str).collect();
            let full = ctx.g.op("Concat", &refs, vec![a_int("axis", 0)]);
            let n = xs.len();
            for (i, (v, o)) in xs.iter().zip(&outs).enumerate() {
                let shape: Vec<i64> = (0..n).map(|k| if k == i { -1 } else { 1 }).collect();
                let s = ctx.g.i64s(&shape);
                let r = ctx.g.op("Reshape", &[v, &s], vec![]);
                ctx.g.add("Expand", &[&r, &full], &[o], vec![]);
            }
        }
        "full_with_tensor" => {
            let o = y(op, "Out")?;
            let t = match op.i64("dtype").and_then(DType::from_var_type) {
                Some(t) => t.in_onnx(),
                None => ctx.dtype(&o).unwrap_or(DType::F32),
            };
            let shape = match ctx.int_arg(op, "shape", "", "ShapeTensor")? {
                Some(IntArg::Static(v)) => ctx.g.i64s(&v),
                Some(IntArg::Dynamic(v)) => v,
                None => return Err(bad(op, "no shape")),
            };
            let v = x(op, "ValueTensor")?;
            match ctx
                .const_of(&v)
                .filter(|c| c.len() == 1)
                .map(|c| c.floats()[0])
            {
                Some(value) => {
                    ctx.g.add(
                        "ConstantOfShape",
                        &[&shape],
                        &[&o],
                        vec![crate::graph::a_tensor("value", value_tensor(t, value))],
                    );
                }
                None => {
                    let v = ctx.cast(&v, t);
                    let sc = ctx.g.i64s(&[]);
                    let v = ctx.g.op("Reshape", &[&v, &sc], vec![]);
                    ctx.g.add("Expand", &[&v, &shape], &[&o], vec![]);
                }
            }
        }
        "fill_any_like" | "full_like" => {
            let (i, o) = (x(op, "X")?, y(op, "Out")?);
            let t = match op.i64("dtype").and_then(DType::from_var_type) {
                Some(t) => t.in_onnx(),
                None => ctx.dtype_or_f32(&i),
            };
            let value = match op.input("ValueTensor") {
                Some(v) => match ctx.const_of(v) {
                    Some(c) if c.len() == 1 => c.floats()[0],
                    _ => return Err(unsupported("full_like(value as a runtime tensor)")),
                },
                None => op.f64("value").unwrap_or(0.0),
            };
            let s = ctx.g.op("Shape", &[&i], vec![]);
            let t_proto = value_tensor(t, value);
            ctx.g.add(
                "ConstantOfShape",
                &[&s],
                &[&o],
                vec![crate::graph::a_tensor("value", t_proto)],
            );
        }
        "range" => {
            let o = y(op, "Out")?;
            let t = match op.i64("dtype").and_then(DType::from_var_type) {
                Some(t) => t.in_onnx(),
                None => ctx.dtype(&o).unwrap_or(DType::F32),
            };
            let mut parts = Vec::new();
            for s in ["Start", "End", "Step"] {
                let v = x(op, s)?;
                let v = ctx.cast(&v, t);
                let sh = ctx.g.i64s(&[]);
                parts.push(ctx.g.op("Reshape", &[&v, &sh], vec![]));
            }
            ctx.g
                .add("Range", &[&parts[0], &parts[1], &parts[2]], &[&o], vec![]);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `Shape(x)[start..end]` as a 1-D INT64 value.
pub(crate) fn shape_slice(ctx: &mut Ctx, x: &str, start: i64, end: i64) -> String {
    if let Some(s) = ctx.static_shape(x) {
        let n = s.len() as i64;
        let (a, b) = (start.clamp(0, n) as usize, end.clamp(0, n) as usize);
        return ctx.g.i64s(&s[a..b.max(a)]);
    }
    let s = ctx.g.op("Shape", &[x], vec![]);
    let a = ctx.g.i64s(&[start]);
    let b = ctx.g.i64s(&[end]);
    ctx.g.op("Slice", &[&s, &a, &b], vec![])
}

/// A one-element ONNX tensor (ConstantOfShape's value).
pub(crate) fn value_tensor(t: DType, v: f64) -> crate::proto::onnx::TensorProto {
    crate::proto::onnx::TensorProto {
        dims: vec![1],
        data_type: t.onnx_type().unwrap_or(1),
        raw_data: crate::graph::scalar_bytes(t, v),
        ..Default::default()
    }
}

fn fill_constant(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let o = y(op, "Out")?;
    let t = op
        .i64("dtype")
        .and_then(DType::from_var_type)
        .unwrap_or(DType::F32)
        .in_onnx();
    let value = match op.str("str_value").filter(|s| !s.is_empty()) {
        Some(s) => s
            .parse::<f64>()
            .map_err(|_| bad(op, format!("str_value {s:?} is not a number")))?,
        None => op.f64("value").unwrap_or(0.0),
    };
    if op.input("ValueTensor").is_some() {
        return Err(unsupported("fill_constant(ValueTensor)"));
    }
    match ctx.int_arg(op, "shape", "ShapeTensor", "ShapeTensorList")? {
        Some(IntArg::Dynamic(s)) => {
            ctx.g.add(
                "ConstantOfShape",
                &[&s],
                &[&o],
                vec![crate::graph::a_tensor("value", value_tensor(t, value))],
            );
        }
        other => {
            let shape = match other {
                Some(IntArg::Static(s)) => s,
                _ => Vec::new(),
            };
            if shape.iter().any(|&d| d < 0) {
                return Err(bad(op, format!("shape {shape:?}")));
            }
            let n = super::const_numel(op, &shape)?;
            let vals = if t.is_float() {
                super::Vals::F(vec![value; n as usize])
            } else {
                let s = op.str("str_value").filter(|s| !s.is_empty());
                let iv = s
                    .and_then(|s| s.parse::<i64>().ok())
                    .unwrap_or(value as i64);
                super::Vals::I(vec![iv; n as usize])
            };
            ctx.set_const(
                &o,
                super::Const {
                    dtype: t,
                    dims: shape,
                    vals,
                },
            );
        }
    }
    Ok(())
}

fn split(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let i = x(op, "X")?;
    let outs = op.outs("Out").to_vec();
    let shape = ctx
        .shape(&i)
        .ok_or_else(|| bad(op, "input rank not declared"))?;
    let a = match ctx.static_ints(op, "axis", "AxisTensor", "")? {
        Some(v) => v.first().copied().unwrap_or(0),
        None => 0,
    };
    let a = axis(op, a, shape.len())?;
    let num = op.i64("num").unwrap_or(0);
    let sections = ctx
        .static_ints(op, "sections", "SectionsTensor", "SectionsTensorList")?
        .unwrap_or_default();
    let refs: Vec<&str> = outs.iter().map(String::as_str).collect();
    if num > 0 || sections.is_empty() {
        if outs.len() as i64 != num.max(1) && num > 0 {
            return Err(bad(op, format!("num {num} but {} outputs", outs.len())));
        }
        ctx.g.add("Split", &[&i], &refs, vec![a_int("axis", a)]);
        return Ok(());
    }
    let mut sections = sections;
    if let Some(p) = sections.iter().position(|&s| s < 0) {
        let d = shape[a as usize];
        if d < 0 {
            return Err(unsupported("split(-1 section on a dynamic axis)"));
        }
        let known = sections
            .iter()
            .filter(|&&s| s >= 0)
            .try_fold(0i64, |a, &s| a.checked_add(s))
            .ok_or_else(|| bad(op, format!("sections {sections:?}")))?;
        sections[p] = d - known;
    }
    if sections.len() != outs.len() {
        return Err(bad(
            op,
            format!("{} sections but {} outputs", sections.len(), outs.len()),
        ));
    }
    let s = ctx.g.i64s(&sections);
    ctx.g.add("Split", &[&i, &s], &refs, vec![a_int("axis", a)]);
    Ok(())
}

fn slice(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let i = x(op, "Input")?;
    let o = y(op, "Out")?;
    let r = ctx.rank_of(op, &i)?;
    let axes = op.ints("axes").ok_or_else(|| bad(op, "no axes"))?;
    let axes: Vec<i64> = axes
        .iter()
        .map(|&a| axis(op, a, r))
        .collect::<Result<_>>()?;
    let arg = |ctx: &mut Ctx, attr: &str, t: &str, l: &str| -> Result<String> {
        Ok(match ctx.int_arg(op, attr, t, l)? {
            Some(IntArg::Static(v)) => ctx.g.i64s(&v),
            Some(IntArg::Dynamic(v)) => v,
            None => return Err(bad(op, format!("no {attr}"))),
        })
    };
    let starts = arg(ctx, "starts", "StartsTensor", "StartsTensorList")?;
    let ends = arg(ctx, "ends", "EndsTensor", "EndsTensorList")?;
    let a = ctx.g.i64s(&axes);
    let decrease = op.ints("decrease_axis").unwrap_or_default();
    let target = if decrease.is_empty() {
        o.clone()
    } else {
        ctx.g.fresh("slice")
    };
    if op.ty == "strided_slice" {
        let steps = arg(ctx, "strides", "StridesTensor", "StridesTensorList")?;
        ctx.g.add(
            "Slice",
            &[&i, &starts, &ends, &a, &steps],
            &[&target],
            vec![],
        );
    } else {
        ctx.g
            .add("Slice", &[&i, &starts, &ends, &a], &[&target], vec![]);
    }
    if !decrease.is_empty() {
        let mut d: Vec<i64> = decrease
            .iter()
            .map(|&a| axis(op, a, r))
            .collect::<Result<_>>()?;
        d.sort_unstable();
        d.dedup();
        if d.len() == r && ctx.declared_rank1(&o) {
            // An old program: removing every axis left shape [1], not 0-D.
            let one = ctx.g.i64s(&[1]);
            ctx.g.add("Reshape", &[&target, &one], &[&o], vec![]);
        } else {
            let d = ctx.g.i64s(&d);
            ctx.g.add("Squeeze", &[&target, &d], &[&o], vec![]);
        }
    }
    Ok(())
}
