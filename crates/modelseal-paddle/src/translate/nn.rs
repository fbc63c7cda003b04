//! Convolutions (grouped, depthwise, dilated, transposed), normalizations, pooling (plain,
//! global, adaptive), dropout in inference form and embeddings.

use super::{bad, const_numel, positive, unsupported, Ctx};
use crate::error::Result;
use crate::graph::{a_float, a_int, a_ints, a_str};
use crate::ir::Op;
use crate::types::DType;

fn slot(op: &Op, name: &str) -> Result<String> {
    op.input(name)
        .map(str::to_string)
        .ok_or_else(|| bad(op, format!("no input {name}")))
}

fn out(op: &Op, name: &str) -> Result<String> {
    op.output(name)
        .map(str::to_string)
        .ok_or_else(|| bad(op, format!("no output {name}")))
}

fn is_nhwc(op: &Op, attr: &str) -> bool {
    matches!(op.str(attr), Some("NHWC") | Some("NDHWC") | Some("NLC"))
}

/// `x` NHWC -> NCHW (or back with `to_nhwc`).
fn layout(ctx: &mut Ctx, x: &str, to_nhwc: bool) -> String {
    let perm: &[i64] = if to_nhwc {
        &[0, 2, 3, 1]
    } else {
        &[0, 3, 1, 2]
    };
    ctx.g.op("Transpose", &[x], vec![a_ints("perm", perm)])
}

/// Paddle paddings ([h, w] or [top, bottom, left, right]) as ONNX pads [t, l, b, r].
fn onnx_pads(op: &Op, p: &[i64]) -> Result<Vec<i64>> {
    Ok(match p.len() {
        0 => vec![0, 0, 0, 0],
        2 => vec![p[0], p[1], p[0], p[1]],
        4 => vec![p[0], p[2], p[1], p[3]],
        n => return Err(unsupported(format!("{}(paddings with {n} values)", op.ty))),
    })
}

/// Explicit pads for Paddle's SAME (extra pixel at the end) when the spatial dims are known.
fn same_pads(in_hw: &[i64], k: &[i64], s: &[i64]) -> Option<Vec<i64>> {
    let mut begin = Vec::new();
    let mut end = Vec::new();
    for i in 0..2 {
        let n = *in_hw.get(i)?;
        if n < 0 {
            return None;
        }
        let (n, s, k) = (n as i128, s[i] as i128, k[i] as i128);
        let o = (n + s - 1) / s;
        let total = ((o - 1) * s + k - n).max(0);
        let total = i64::try_from(total).ok()?;
        begin.push(total / 2);
        end.push(total - total / 2);
    }
    Some(vec![begin[0], begin[1], end[0], end[1]])
}

pub(crate) fn emit(ctx: &mut Ctx, op: &Op) -> Result<bool> {
    match op.ty.as_str() {
        "conv2d" | "depthwise_conv2d" => conv(ctx, op)?,
        "conv2d_transpose" | "depthwise_conv2d_transpose" => conv_transpose(ctx, op)?,
        "batch_norm" => batch_norm(ctx, op)?,
        "layer_norm" => layer_norm(ctx, op)?,
        "instance_norm" => instance_norm(ctx, op)?,
        "group_norm" => group_norm(ctx, op)?,
        "pool2d" => pool(ctx, op, None)?,
        "max_pool2d_with_index" => {
            if op.outs("Mask").iter().any(|m| {
                ctx.prog
                    .ops
                    .iter()
                    .any(|o| o.inputs.iter().any(|(_, a)| a.contains(m)))
            }) {
                return Err(unsupported("max_pool2d_with_index(Mask used)"));
            }
            pool(ctx, op, Some("max"))?
        }
        "dropout" => dropout(ctx, op)?,
        "lookup_table_v2" => embedding(ctx, op)?,
        _ => return Ok(false),
    }
    Ok(true)
}

fn conv(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let mut x = slot(op, "Input")?;
    let w = slot(op, "Filter")?;
    let o = out(op, "Output")?;
    let wshape = ctx
        .static_shape(&w)
        .filter(|s| s.len() == 4)
        .ok_or_else(|| unsupported(format!("{}(filter shape not static 4-D)", op.ty)))?;
    let k = vec![wshape[2], wshape[3]];
    let strides = op.ints("strides").unwrap_or_else(|| vec![1, 1]);
    let mut dilations = op.ints("dilations").unwrap_or_else(|| vec![1, 1]);
    let groups = op.i64("groups").unwrap_or(1).max(1);
    positive(op, "kernel", &k)?;
    positive(op, "strides", &strides)?;
    positive(op, "dilations", &dilations)?;
    if strides.len() != 2 || dilations.len() != 2 {
        return Err(bad(op, "strides and dilations need two values"));
    }
    let nhwc = is_nhwc(op, "data_format");
    let in_shape = ctx.shape(&x).unwrap_or_default();
    let in_hw: Vec<i64> = if nhwc {
        in_shape.get(1..3).map(<[i64]>::to_vec).unwrap_or_default()
    } else {
        in_shape.get(2..4).map(<[i64]>::to_vec).unwrap_or_default()
    };
    let mut attrs = vec![
        a_ints("kernel_shape", &k),
        a_ints("strides", &strides),
        a_int("group", groups),
    ];
    match op.str("padding_algorithm").unwrap_or("EXPLICIT") {
        "SAME" => {
            dilations = vec![1, 1];
            match same_pads(&in_hw, &k, &strides) {
                Some(p) => attrs.push(a_ints("pads", &p)),
                None => attrs.push(a_str("auto_pad", "SAME_UPPER")),
            }
        }
        "VALID" => attrs.push(a_ints("pads", &[0, 0, 0, 0])),
        _ => attrs.push(a_ints(
            "pads",
            &onnx_pads(op, &op.ints("paddings").unwrap_or_default())?,
        )),
    }
    attrs.push(a_ints("dilations", &dilations));
    if nhwc {
        x = layout(ctx, &x, false);
        let y = ctx.g.op("Conv", &[&x, &w], attrs);
        let y = layout(ctx, &y, true);
        ctx.alias(&y, &o);
    } else {
        ctx.g.add("Conv", &[&x, &w], &[&o], attrs);
    }
    Ok(())
}

fn conv_transpose(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let x = slot(op, "Input")?;
    let w = slot(op, "Filter")?;
    let o = out(op, "Output")?;
    if is_nhwc(op, "data_format") {
        return Err(unsupported(format!("{}(data_format=NHWC)", op.ty)));
    }
    let wshape = ctx
        .static_shape(&w)
        .filter(|s| s.len() == 4)
        .ok_or_else(|| unsupported(format!("{}(filter shape not static 4-D)", op.ty)))?;
    let k = [wshape[2], wshape[3]];
    let s = op.ints("strides").unwrap_or_else(|| vec![1, 1]);
    let d = op.ints("dilations").unwrap_or_else(|| vec![1, 1]);
    positive(op, "kernel", &k)?;
    positive(op, "strides", &s)?;
    positive(op, "dilations", &d)?;
    if s.len() != 2 || d.len() != 2 {
        return Err(bad(op, "strides and dilations need two values"));
    }
    let groups = op.i64("groups").unwrap_or(1).max(1);
    let pads = match op.str("padding_algorithm").unwrap_or("EXPLICIT") {
        "VALID" => vec![0, 0, 0, 0],
        "SAME" => return Err(unsupported(format!("{}(padding_algorithm=SAME)", op.ty))),
        _ => onnx_pads(op, &op.ints("paddings").unwrap_or_default())?,
    };
    let mut out_pad = op.ints("output_padding").unwrap_or_default();
    let size = ctx
        .static_ints(op, "output_size", "OutputSizeTensor", "OutputSize")?
        .unwrap_or_default();
    if !size.is_empty() {
        // Output size given: the output padding that reaches it from the known input size.
        let shape = ctx.shape(&x).unwrap_or_default();
        let mut p = Vec::new();
        for i in 0..2 {
            let n = shape.get(2 + i).copied().unwrap_or(-1);
            if n < 0 {
                return Err(unsupported(format!(
                    "{}(output_size with a dynamic input size)",
                    op.ty
                )));
            }
            // i128: sizes and attributes of a hostile program must not overflow.
            let w = |v: i64| v as i128;
            let natural =
                (w(n) - 1) * w(s[i]) - w(pads[i]) - w(pads[i + 2]) + w(d[i]) * (w(k[i]) - 1) + 1;
            let extra = w(size[i]) - natural;
            if extra < 0 || extra >= w(s[i].max(d[i])) {
                return Err(bad(
                    op,
                    format!("output_size {size:?} unreachable from input {shape:?}"),
                ));
            }
            let extra = extra as i64;
            p.push(extra);
        }
        out_pad = p;
    }
    let mut attrs = vec![
        a_ints("kernel_shape", &k),
        a_ints("strides", &s),
        a_ints("dilations", &d),
        a_int("group", groups),
        a_ints("pads", &pads),
    ];
    if out_pad.iter().any(|&p| p != 0) {
        attrs.push(a_ints("output_padding", &out_pad));
    }
    match op.input("Bias") {
        Some(b) => {
            let b = b.to_string();
            ctx.g.add("ConvTranspose", &[&x, &w, &b], &[&o], attrs)
        }
        None => ctx.g.add("ConvTranspose", &[&x, &w], &[&o], attrs),
    }
    Ok(())
}

/// A per-channel parameter or its default (ones/zeros) of `c` elements.
fn param_or(ctx: &mut Ctx, op: &Op, name: &str, c: i64, value: f32) -> Result<String> {
    match op.input(name) {
        Some(p) => Ok(p.to_string()),
        None if c > 0 => {
            let n = const_numel(op, &[c])?;
            Ok(ctx.g.f32s(&vec![value; n as usize], &[c]))
        }
        None => Err(unsupported(format!(
            "{}(no {name} and unknown channel count)",
            op.ty
        ))),
    }
}

fn batch_norm(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let mut x = slot(op, "X")?;
    let mean = slot(op, "Mean")?;
    let var = slot(op, "Variance")?;
    let y = out(op, "Y")?;
    let c = ctx
        .shape(&mean)
        .and_then(|s| s.first().copied())
        .unwrap_or(-1);
    let scale = param_or(ctx, op, "Scale", c, 1.0)?;
    let bias = param_or(ctx, op, "Bias", c, 0.0)?;
    let eps = op.f64("epsilon").unwrap_or(1e-5) as f32;
    let nhwc = is_nhwc(op, "data_layout") && ctx.rank(&x) == Some(4);
    if nhwc {
        x = layout(ctx, &x, false);
    }
    let v = ctx.g.op(
        "BatchNormalization",
        &[&x, &scale, &bias, &mean, &var],
        vec![a_float("epsilon", eps)],
    );
    let v = if nhwc { layout(ctx, &v, true) } else { v };
    ctx.alias(&v, &y);
    Ok(())
}

fn layer_norm(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let x = slot(op, "X")?;
    let y = out(op, "Y")?;
    let shape = ctx
        .shape(&x)
        .ok_or_else(|| bad(op, "input rank not declared"))?;
    let begin = super::axis(op, op.i64("begin_norm_axis").unwrap_or(1), shape.len())? as usize;
    let norm_dims = &shape[begin..];
    if norm_dims.iter().any(|&d| d < 0) {
        return Err(unsupported("layer_norm(dynamic normalized dims)"));
    }
    let n = const_numel(op, norm_dims)?;
    let scale = param_or(ctx, op, "Scale", n, 1.0)?;
    let bias = param_or(ctx, op, "Bias", n, 0.0)?;
    let s = ctx.g.i64s(norm_dims);
    let scale = ctx.g.op("Reshape", &[&scale, &s], vec![]);
    let bias = ctx.g.op("Reshape", &[&bias, &s], vec![]);
    let eps = op.f64("epsilon").unwrap_or(1e-5) as f32;
    ctx.g.add(
        "LayerNormalization",
        &[&x, &scale, &bias],
        &[&y],
        vec![a_int("axis", begin as i64), a_float("epsilon", eps)],
    );
    Ok(())
}

fn instance_norm(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let x = slot(op, "X")?;
    let y = out(op, "Y")?;
    let c = ctx.shape(&x).and_then(|s| s.get(1).copied()).unwrap_or(-1);
    let scale = param_or(ctx, op, "Scale", c, 1.0)?;
    let bias = param_or(ctx, op, "Bias", c, 0.0)?;
    let eps = op.f64("epsilon").unwrap_or(1e-5) as f32;
    ctx.g.add(
        "InstanceNormalization",
        &[&x, &scale, &bias],
        &[&y],
        vec![a_float("epsilon", eps)],
    );
    Ok(())
}

fn group_norm(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let x = slot(op, "X")?;
    let y = out(op, "Y")?;
    if is_nhwc(op, "data_layout") {
        return Err(unsupported("group_norm(data_format=NHWC)"));
    }
    let shape = ctx
        .shape(&x)
        .ok_or_else(|| bad(op, "input rank not declared"))?;
    let c = shape.get(1).copied().unwrap_or(-1);
    let groups = op.i64("groups").unwrap_or(1).max(1);
    if c < 0 {
        return Err(unsupported("group_norm(dynamic channel count)"));
    }
    let eps = op.f64("epsilon").unwrap_or(1e-5) as f32;
    // [N, G, -1] -> instance norm over each group -> back to x's shape -> per-channel affine.
    let s = ctx.g.i64s(&[0, groups, -1]);
    let r = ctx.g.op("Reshape", &[&x, &s], vec![]);
    const_numel(op, &[groups])?;
    let ones = ctx.g.f32s(&vec![1.0; groups as usize], &[groups]);
    let zeros = ctx.g.f32s(&vec![0.0; groups as usize], &[groups]);
    let n = ctx.g.op(
        "InstanceNormalization",
        &[&r, &ones, &zeros],
        vec![a_float("epsilon", eps)],
    );
    let xs = ctx.g.op("Shape", &[&x], vec![]);
    let n = ctx.g.op("Reshape", &[&n, &xs], vec![]);
    let per_c: Vec<i64> = std::iter::once(c)
        .chain(std::iter::repeat_n(1, shape.len().saturating_sub(2)))
        .collect();
    let pc = ctx.g.i64s(&per_c);
    let mut v = n;
    if let Some(sc) = op.input("Scale") {
        let sc = ctx.g.op("Reshape", &[sc, &pc], vec![]);
        v = ctx.g.op("Mul", &[&v, &sc], vec![]);
    }
    if let Some(b) = op.input("Bias") {
        let b = ctx.g.op("Reshape", &[b, &pc], vec![]);
        v = ctx.g.op("Add", &[&v, &b], vec![]);
    }
    ctx.alias(&v, &y);
    Ok(())
}

fn dropout(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let x = slot(op, "X")?;
    let o = out(op, "Out")?;
    let p = ctx
        .float_arg(op, "dropout_prob", "DropoutProbTensor")?
        .unwrap_or(0.5);
    let mode = op
        .str("dropout_implementation")
        .unwrap_or("downgrade_in_infer");
    if matches!(mode, "downgrade_in_infer" | "downscale_in_infer") && p != 0.0 {
        let t = ctx.dtype_or_f32(&x);
        let k = ctx.g.scalar(t, 1.0 - p);
        ctx.g.add("Mul", &[&x, &k], &[&o], vec![]);
    } else {
        ctx.alias(&x, &o);
    }
    Ok(())
}

fn embedding(ctx: &mut Ctx, op: &Op) -> Result<()> {
    let ids = slot(op, "Ids")?;
    let w = slot(op, "W")?;
    let o = out(op, "Out")?;
    let pad = op.i64("padding_idx").unwrap_or(-1);
    if pad < 0 {
        ctx.g
            .add("Gather", &[&w, &ids], &[&o], vec![a_int("axis", 0)]);
        return Ok(());
    }
    let g = ctx.g.op("Gather", &[&w, &ids], vec![a_int("axis", 0)]);
    let ids64 = ctx.cast(&ids, DType::I64);
    let p = ctx.g.i64_scalar(pad);
    let eq = ctx.g.op("Equal", &[&ids64, &p], vec![]);
    let keep = ctx.g.op("Not", &[&eq], vec![]);
    let t = ctx.dtype_or_f32(&w);
    let keep = ctx.g.op(
        "Cast",
        &[&keep],
        vec![a_int("to", t.onnx_type().unwrap_or(1) as i64)],
    );
    let ax = ctx.g.i64s(&[-1]);
    let keep = ctx.g.op("Unsqueeze", &[&keep, &ax], vec![]);
    ctx.g.add("Mul", &[&g, &keep], &[&o], vec![]);
    Ok(())
}

/// pool2d and max_pool2d_with_index (`force` = the pooling type of the latter).
fn pool(ctx: &mut Ctx, op: &Op, force: Option<&str>) -> Result<()> {
    let mut x = slot(op, "X")?;
    let o = out(op, "Out")?;
    let kind = force.unwrap_or_else(|| op.str("pooling_type").unwrap_or("max"));
    let is_max = match kind {
        "max" => true,
        "avg" => false,
        k => return Err(unsupported(format!("pool2d(pooling_type={k})"))),
    };
    let nhwc = is_nhwc(op, "data_format");
    if nhwc {
        x = layout(ctx, &x, false);
    }
    let ksize = ctx
        .static_ints(op, "ksize", "KsizeTensor", "")?
        .ok_or_else(|| bad(op, "no ksize"))?;
    let ksize = if ksize.len() == 1 {
        vec![ksize[0], ksize[0]]
    } else {
        ksize
    };
    if ksize.len() != 2 {
        return Err(bad(op, format!("ksize {ksize:?}")));
    }
    let shape = ctx
        .shape(op.input("X").unwrap_or_default())
        .unwrap_or_default();
    let in_hw: Vec<i64> = if nhwc {
        shape
            .get(1..3)
            .map(<[i64]>::to_vec)
            .unwrap_or_else(|| vec![-1, -1])
    } else {
        shape
            .get(2..4)
            .map(<[i64]>::to_vec)
            .unwrap_or_else(|| vec![-1, -1])
    };
    let global = op.bool("global_pooling").unwrap_or(false);
    let adaptive = op.bool("adaptive").unwrap_or(false);
    let v = if global || (adaptive && ksize == [1, 1]) {
        ctx.g.op(
            if is_max {
                "GlobalMaxPool"
            } else {
                "GlobalAveragePool"
            },
            &[&x],
            vec![],
        )
    } else if adaptive {
        adaptive_pool(ctx, op, &x, &in_hw, &ksize, is_max)?
    } else {
        let strides = op.ints("strides").unwrap_or_else(|| vec![1, 1]);
        positive(op, "ksize", &ksize)?;
        positive(op, "strides", &strides)?;
        if strides.len() != 2 {
            return Err(bad(op, format!("strides {strides:?}")));
        }
        let mut attrs = vec![
            a_ints("kernel_shape", &ksize),
            a_ints("strides", &strides),
            a_int("ceil_mode", op.bool("ceil_mode").unwrap_or(false) as i64),
        ];
        match op.str("padding_algorithm").unwrap_or("EXPLICIT") {
            "SAME" => match same_pads(&in_hw, &ksize, &strides) {
                Some(p) => attrs.push(a_ints("pads", &p)),
                None => attrs.push(a_str("auto_pad", "SAME_UPPER")),
            },
            "VALID" => attrs.push(a_ints("pads", &[0, 0, 0, 0])),
            _ => attrs.push(a_ints(
                "pads",
                &onnx_pads(op, &op.ints("paddings").unwrap_or_default())?,
            )),
        }
        if is_max {
            ctx.g.op("MaxPool", &[&x], attrs)
        } else {
            let exclusive = op.bool("exclusive").unwrap_or(true);
            attrs.push(a_int("count_include_pad", (!exclusive) as i64));
            ctx.g.op("AveragePool", &[&x], attrs)
        }
    };
    let v = if nhwc { layout(ctx, &v, true) } else { v };
    ctx.alias(&v, &o);
    Ok(())
}

/// Adaptive pooling with static input size: bin i along an axis covers
/// `[floor(i*In/Out), ceil((i+1)*In/Out))`. Divisible sizes are a plain pool; otherwise the
/// (separable) bins are sliced and reduced along H, then along W.
fn adaptive_pool(
    ctx: &mut Ctx,
    op: &Op,
    x: &str,
    in_hw: &[i64],
    out_hw: &[i64],
    is_max: bool,
) -> Result<String> {
    if out_hw.iter().any(|&o| o <= 0) && in_hw.iter().any(|&d| d < 0) {
        return Err(unsupported(format!(
            "{}(adaptive keeping a dynamic size)",
            op.ty
        )));
    }
    // Output bins become graph nodes: keep their number sane.
    if out_hw.iter().any(|&o| o > 4096) || in_hw.contains(&0) {
        return Err(unsupported(format!(
            "{}(adaptive output {out_hw:?} from {in_hw:?})",
            op.ty
        )));
    }
    if in_hw.iter().any(|&d| d < 0) {
        return Ok(adaptive_pool_dynamic(ctx, x, out_hw, is_max));
    }
    let out_hw: Vec<i64> = out_hw
        .iter()
        .zip(in_hw)
        .map(|(&o, &i)| if o <= 0 { i } else { o })
        .collect();
    if in_hw[0] % out_hw[0] == 0 && in_hw[1] % out_hw[1] == 0 {
        let k = [in_hw[0] / out_hw[0], in_hw[1] / out_hw[1]];
        let pool = if is_max { "MaxPool" } else { "AveragePool" };
        return Ok(ctx.g.op(
            pool,
            &[x],
            vec![a_ints("kernel_shape", &k), a_ints("strides", &k)],
        ));
    }
    let mut v = x.to_string();
    for (i, axis) in [2i64, 3].into_iter().enumerate() {
        let (n, m) = (in_hw[i], out_hw[i]);
        let mut parts = Vec::new();
        for b in 0..m {
            let start = (b as i128 * n as i128 / m as i128) as i64;
            let end = (((b + 1) as i128 * n as i128 + m as i128 - 1) / m as i128) as i64;
            let s = ctx.g.i64s(&[start]);
            let e = ctx.g.i64s(&[end]);
            let a = ctx.g.i64s(&[axis]);
            let sl = ctx.g.op("Slice", &[&v, &s, &e, &a], vec![]);
            let red = if is_max { "ReduceMax" } else { "ReduceMean" };
            parts.push(ctx.g.op(
                red,
                &[&sl],
                vec![a_ints("axes", &[axis]), a_int("keepdims", 1)],
            ));
        }
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        v = ctx.g.op("Concat", &refs, vec![a_int("axis", axis)]);
    }
    Ok(v)
}

/// Adaptive pooling over a size known only at run time: the same bins, with start
/// `floor(i*In/Out)` and end `ceil((i+1)*In/Out)` computed in the graph.
fn adaptive_pool_dynamic(ctx: &mut Ctx, x: &str, out_hw: &[i64], is_max: bool) -> String {
    let shape = ctx.g.op("Shape", &[x], vec![]);
    let mut v = x.to_string();
    for (i, axis) in [2i64, 3].into_iter().enumerate() {
        let m = out_hw[i];
        let a = ctx.g.i64s(&[axis]);
        let a1 = ctx.g.i64s(&[axis + 1]);
        let n = ctx.g.op("Slice", &[&shape, &a, &a1], vec![]);
        let mm = ctx.g.i64s(&[m]);
        let mut parts = Vec::new();
        for b in 0..m {
            let bi = ctx.g.i64s(&[b]);
            let b1 = ctx.g.i64s(&[b + 1]);
            let m1 = ctx.g.i64s(&[m - 1]);
            let s0 = ctx.g.op("Mul", &[&bi, &n], vec![]);
            let start = ctx.g.op("Div", &[&s0, &mm], vec![]);
            let e0 = ctx.g.op("Mul", &[&b1, &n], vec![]);
            let e1 = ctx.g.op("Add", &[&e0, &m1], vec![]);
            let end = ctx.g.op("Div", &[&e1, &mm], vec![]);
            let sl = ctx.g.op("Slice", &[&v, &start, &end, &a], vec![]);
            let red = if is_max { "ReduceMax" } else { "ReduceMean" };
            parts.push(ctx.g.op(
                red,
                &[&sl],
                vec![a_ints("axes", &[axis]), a_int("keepdims", 1)],
            ));
        }
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        v = ctx.g.op("Concat", &refs, vec![a_int("axis", axis)]);
    }
    v
}
