//! Import orchestration: cut the tail, keep the operators the outputs need, load and check the
//! parameters, translate, and serialize the ONNX model into a zeroizing buffer.

use std::collections::{HashMap, HashSet};

use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::ir::{Op, Program};
use crate::proto::onnx::{
    tensor_shape_proto::{dimension, Dimension},
    type_proto, GraphProto, ModelProto, OperatorSetIdProto, TensorShapeProto, TypeProto,
    ValueInfoProto,
};
use crate::tail::{Tail, TAIL_OPS};
use crate::translate::{emit_all, Ctx};
use crate::types::{describe, DType, TensorInfo};
use crate::{ImportOptions, Imported, TailMode};

/// ONNX opset the translator writes.
pub(crate) const OPSET: i64 = 17;

pub(crate) fn import(prog: &Program, params: &[u8], opts: &ImportOptions) -> Result<Imported> {
    // Operators producing each value, and the consumers of each value.
    let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, op) in prog.ops.iter().enumerate() {
        for (_, args) in &op.inputs {
            for a in args {
                consumers.entry(a.as_str()).or_default().push(i);
            }
        }
    }
    let is_tail = |op: &Op| TAIL_OPS.contains(&op.ty.as_str());
    let tail_ops: Vec<&Op> = prog.ops.iter().filter(|o| is_tail(o)).collect();
    if !tail_ops.is_empty() && opts.tail == TailMode::Refuse {
        let mut ops: Vec<String> = tail_ops.iter().map(|o| o.ty.clone()).collect();
        ops.sort();
        ops.dedup();
        return Err(Error::Unsupported { ops });
    }
    let mut tail_produced: HashSet<&str> = HashSet::new();
    for op in &tail_ops {
        for (_, args) in &op.outputs {
            for a in args {
                if consumers
                    .get(a.as_str())
                    .is_some_and(|c| c.iter().any(|&i| !is_tail(&prog.ops[i])))
                {
                    return Err(Error::Unsupported {
                        ops: vec![format!("{}(output used by later operators)", op.ty)],
                    });
                }
                tail_produced.insert(a);
            }
        }
    }

    // The ONNX model's outputs: the fetches, or with a tail, the tail's inputs and the fetches
    // it does not compute.
    let mut onnx_outputs: Vec<String> = Vec::new();
    let push = |v: &mut Vec<String>, n: &str| {
        if !v.iter().any(|x| x == n) {
            v.push(n.to_string());
        }
    };
    if tail_ops.is_empty() {
        for (v, _) in &prog.fetches {
            push(&mut onnx_outputs, v);
        }
    } else {
        for op in &tail_ops {
            for s in ["BBoxes", "Scores", "RoisNum"] {
                if let Some(n) = op.input(s) {
                    if !tail_produced.contains(n) {
                        push(&mut onnx_outputs, n);
                    }
                }
            }
        }
        for (v, _) in &prog.fetches {
            if !tail_produced.contains(v.as_str()) {
                push(&mut onnx_outputs, v);
            }
        }
    }

    // Keep the operators the outputs depend on.
    let mut needed: HashSet<&str> = onnx_outputs.iter().map(String::as_str).collect();
    let mut keep = vec![false; prog.ops.len()];
    for (i, op) in prog.ops.iter().enumerate().rev() {
        if is_tail(op) {
            continue;
        }
        if op
            .outputs
            .iter()
            .flat_map(|(_, a)| a)
            .any(|a| needed.contains(a.as_str()))
        {
            keep[i] = true;
            for (_, args) in &op.inputs {
                needed.extend(args.iter().map(String::as_str));
            }
        }
    }
    let graph_ops: Vec<&Op> = prog
        .ops
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(o, _)| o)
        .collect();

    check_defined(prog, &graph_ops, &onnx_outputs)?;
    let mut ctx = Ctx::new(prog);
    load_params(&mut ctx, prog, params, &needed)?;
    emit_all(&mut ctx, &graph_ops)?;

    // Graph outputs, each under its ONNX name (fetch name without a tail).
    let feed_names: HashSet<&str> = prog.feeds.iter().map(|f| f.name.as_str()).collect();
    let mut outputs = Vec::new();
    let mut out_names: Vec<String> = Vec::new();
    let init_names: HashSet<String> = ctx.g.inits.iter().map(|t| t.proto.name.clone()).collect();
    // With a tail, each ONNX output keeps its value's name unless that value is a model input
    // (an ONNX graph cannot output its input under the same name).
    let named: Vec<(String, String)> = if tail_ops.is_empty() {
        prog.fetches.clone()
    } else {
        onnx_outputs
            .iter()
            .map(|v| {
                let n = if feed_names.contains(v.as_str()) {
                    format!("{v}.tail")
                } else {
                    v.clone()
                };
                (v.clone(), n)
            })
            .collect()
    };
    for (value, name) in &named {
        let info = info_of(&ctx, value, name)?;
        if value != name
            || feed_names.contains(value.as_str())
            || init_names.contains(value)
            || out_names.contains(name)
        {
            if out_names.contains(name) {
                return Err(Error::MalformedProgram {
                    format: "program",
                    message: format!("two outputs named {name}"),
                });
            }
            if init_names.contains(value) && value == name {
                // A constant output: give the initializer another name.
                let fresh = ctx.g.fresh("out");
                for t in ctx.g.inits.iter_mut().filter(|t| &t.proto.name == value) {
                    t.proto.name = fresh.clone();
                }
                for n in ctx.g.nodes.iter_mut() {
                    for i in n.input.iter_mut().filter(|i| *i == value) {
                        *i = fresh.clone();
                    }
                }
                ctx.alias(&fresh, name);
            } else {
                ctx.alias(value, name);
            }
        }
        out_names.push(name.clone());
        outputs.push(value_info(&info));
    }

    let fetch_infos = prog
        .fetches
        .iter()
        .map(|(v, n)| {
            if tail_produced.contains(v.as_str()) {
                let dtype = match prog.var(v).and_then(|d| d.dtype) {
                    Some(t) => t.in_onnx(),
                    None => DType::F32,
                };
                Ok(TensorInfo {
                    name: n.clone(),
                    dtype,
                    shape: prog
                        .var(v)
                        .and_then(|d| d.shape.clone())
                        .unwrap_or_default(),
                })
            } else {
                info_of(&ctx, v, n)
            }
        })
        .collect::<Result<Vec<_>>>()?;

    let tail = if tail_ops.is_empty() {
        None
    } else {
        let inputs = named
            .iter()
            .map(|(v, n)| info_of(&ctx, v, n))
            .collect::<Result<Vec<_>>>()?;
        let values = named.iter().map(|(v, _)| v.clone()).collect();
        let fetches = prog.fetches.iter().map(|(v, _)| v.clone()).collect();
        Some(Tail::new(&tail_ops, inputs, values, fetches)?)
    };

    // Drop initializers nothing reads.
    let used: HashSet<String> = ctx
        .g
        .nodes
        .iter()
        .flat_map(|n| n.input.iter().cloned())
        .collect();
    let mut inits = std::mem::take(&mut ctx.g.inits);
    inits.retain_mut(|t| {
        let keep = used.contains(&t.proto.name);
        if !keep {
            t.proto.raw_data.zeroize();
        }
        keep
    });

    // Initializers are written by `encode::model`, the weights straight from `params`.
    let graph = GraphProto {
        name: "paddle".into(),
        node: std::mem::take(&mut ctx.g.nodes),
        input: prog.feeds.iter().map(value_info).collect(),
        output: outputs,
        ..Default::default()
    };
    let model = ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "modelseal-paddle".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    };
    let buf = crate::encode::model(&model, &graph, &inits, params);
    for t in &mut inits {
        t.proto.raw_data.zeroize();
    }
    Ok(Imported {
        onnx: buf,
        inputs: prog.feeds.clone(),
        outputs: fetch_infos,
        tail,
    })
}

/// Every operator reads values defined before it (inputs, parameters, earlier outputs), and the
/// model's outputs are defined.
fn check_defined(prog: &Program, ops: &[&Op], outputs: &[String]) -> Result<()> {
    let mut defined: HashSet<&str> = prog.feeds.iter().map(|f| f.name.as_str()).collect();
    defined.extend(prog.params.iter().map(|p| p.name.as_str()));
    defined.extend(prog.placeholders.iter().map(String::as_str));
    for op in ops {
        for (slot, args) in &op.inputs {
            if let Some(a) = args.iter().find(|a| !defined.contains(a.as_str())) {
                return Err(Error::MalformedProgram {
                    format: "program",
                    message: format!(
                        "{} reads {a} (slot {slot}) before anything defines it",
                        op.ty
                    ),
                });
            }
        }
        defined.extend(
            op.outputs
                .iter()
                .flat_map(|(_, a)| a.iter().map(String::as_str)),
        );
    }
    if let Some(o) = outputs.iter().find(|o| !defined.contains(o.as_str())) {
        return Err(Error::MalformedProgram {
            format: "program",
            message: format!("output {o} is never computed"),
        });
    }
    Ok(())
}

fn info_of(ctx: &Ctx, value: &str, name: &str) -> Result<TensorInfo> {
    let dtype = ctx.dtype(value).ok_or_else(|| Error::MalformedProgram {
        format: "program",
        message: format!("output {value} has no declared type"),
    })?;
    Ok(TensorInfo {
        name: name.to_string(),
        dtype,
        shape: ctx.shape(value).unwrap_or_default(),
    })
}

fn value_info(t: &TensorInfo) -> ValueInfoProto {
    let dims = t
        .shape
        .iter()
        .enumerate()
        .map(|(i, &d)| Dimension {
            value: Some(if d >= 0 {
                dimension::Value::DimValue(d)
            } else {
                dimension::Value::DimParam(format!("{}_d{i}", t.name))
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: t.name.clone(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: t.dtype.onnx_type().unwrap_or(1),
                shape: Some(TensorShapeProto { dim: dims }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Reads every parameter, checks it against its declaration, and writes the ones the graph
/// uses as initializers (half types widened to float32).
fn load_params(ctx: &mut Ctx, prog: &Program, bytes: &[u8], needed: &HashSet<&str>) -> Result<()> {
    let names: Vec<String> = prog.params.iter().map(|p| p.name.clone()).collect();
    let tensors = crate::params::read_named(bytes, &names)?;
    for (p, (_, t)) in prog.params.iter().zip(tensors) {
        if let Some(shape) = &p.shape {
            let matches = shape.len() == t.dims.len()
                && shape.iter().zip(&t.dims).all(|(a, b)| *a < 0 || a == b);
            if !matches {
                return Err(Error::ParamMismatch {
                    name: p.name.clone(),
                    expected: describe(shape, p.dtype),
                    found: describe(&t.dims, Some(t.dtype)),
                });
            }
        }
        if let Some(d) = p.dtype {
            if d != t.dtype {
                return Err(Error::ParamMismatch {
                    name: p.name.clone(),
                    expected: describe(p.shape.as_deref().unwrap_or(&t.dims), Some(d)),
                    found: describe(&t.dims, Some(t.dtype)),
                });
            }
        }
        if !needed.contains(p.name.as_str()) {
            continue;
        }
        let onnx_t = t.dtype.onnx_type().ok_or_else(|| Error::Unsupported {
            ops: vec![format!("parameter type {}", t.dtype)],
        })?;
        if matches!(t.dtype, DType::F16 | DType::BF16) {
            ctx.g
                .init_named(&p.name, onnx_t, &t.dims, widen(t.dtype, t.data));
        } else {
            // Stored as the model takes it: serialized straight from the parameters file.
            let start = t.data.as_ptr() as usize - bytes.as_ptr() as usize;
            ctx.g
                .init_from_params(&p.name, onnx_t, &t.dims, start..start + t.data.len());
        }
    }
    Ok(())
}

/// A half-precision parameter's bytes as the ONNX initializer holds them: float16/bfloat16
/// widened to f32 (other types are written as stored).
fn widen(dtype: DType, data: &[u8]) -> Vec<u8> {
    match dtype {
        DType::F16 => {
            let mut out = Vec::with_capacity(data.len() * 2);
            for c in data.chunks_exact(2) {
                out.extend_from_slice(&f16_to_f32(u16::from_le_bytes([c[0], c[1]])).to_le_bytes());
            }
            out
        }
        DType::BF16 => {
            let mut out = Vec::with_capacity(data.len() * 2);
            for c in data.chunks_exact(2) {
                out.extend_from_slice(&[0, 0, c[0], c[1]]);
            }
            out
        }
        _ => data.to_vec(),
    }
}

/// IEEE half to single precision (exact).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, f) => {
            // subnormal: normalize
            let mut e: i32 = -14;
            let mut f = f;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            sign | (((e + 127) as u32) << 23) | ((f & 0x3ff) << 13)
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, f) => sign | 0x7fc0_0000 | (f << 13),
        (e, f) => sign | ((e + 112) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_widening_is_exact() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x03ff), 2f32.powi(-14) * (1023.0 / 1024.0));
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
        let bf = widen(DType::BF16, &[0x80, 0x3f]);
        assert_eq!(f32::from_le_bytes([bf[0], bf[1], bf[2], bf[3]]), 1.0);
    }
}
