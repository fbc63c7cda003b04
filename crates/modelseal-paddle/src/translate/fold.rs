//! Import-time constant folding of the small integer computations programs do on shapes,
//! axes and sizes (full_int_array, shapes of static tensors, slices, casts, concats, arithmetic),
//! so operators that need those values as attributes can read them.

use super::{Const, Ctx, Vals};
use crate::ir::{Attr, Op};
use crate::types::DType;

fn ints_of(c: &Const) -> Vec<i64> {
    c.ints()
}

/// Folds `op` when all its inputs are known; returns whether it did.
pub(crate) fn try_fold(ctx: &mut Ctx, op: &Op) -> bool {
    let Some(out) = op.outputs.first().and_then(|(_, a)| a.first()).cloned() else {
        return false;
    };
    let c = match fold(ctx, op) {
        Some(c) => c,
        None => return false,
    };
    if c.len() > 4096 {
        return false;
    }
    ctx.set_const(&out, c);
    true
}

fn declared_dtype(ctx: &Ctx, op: &Op) -> Option<DType> {
    let out = op.outputs.first().and_then(|(_, a)| a.first())?;
    ctx.prog.var(out).and_then(|v| v.dtype)
}

fn fold(ctx: &Ctx, op: &Op) -> Option<Const> {
    let input = |slot: &str| op.input(slot).and_then(|n| ctx.const_of(n)).cloned();
    match op.ty.as_str() {
        "full_int_array" => {
            let v = op.ints("value").unwrap_or_default();
            let dtype = op
                .i64("dtype")
                .and_then(DType::from_var_type)
                .unwrap_or(DType::I64);
            Some(Const {
                dtype,
                dims: vec![v.len() as i64],
                vals: Vals::I(v),
            })
        }
        "assign_value" => {
            let dtype = op
                .i64("dtype")
                .and_then(DType::from_var_type)
                .unwrap_or(DType::F32);
            let dims = op.ints("shape").unwrap_or_default();
            let vals = [
                "values",
                "fp32_values",
                "int32_values",
                "int64_values",
                "bool_values",
                "fp64_values",
            ]
            .iter()
            .find_map(|k| {
                op.attr(k).filter(|a| {
                    !matches!(a, Attr::Ints(v) if v.is_empty())
                        && !matches!(a, Attr::Floats(v) if v.is_empty())
                })
            })?;
            let vals = match vals {
                Attr::Ints(v) => {
                    if dtype.is_float() {
                        Vals::F(v.iter().map(|&i| i as f64).collect())
                    } else {
                        Vals::I(v.clone())
                    }
                }
                Attr::Floats(v) => {
                    if dtype.is_float() {
                        Vals::F(v.clone())
                    } else {
                        Vals::I(v.iter().map(|&f| f as i64).collect())
                    }
                }
                Attr::Bools(v) => Vals::I(v.iter().map(|&b| b as i64).collect()),
                _ => return None,
            };
            let n = dims
                .iter()
                .try_fold(1i64, |a, &d| if d < 0 { None } else { a.checked_mul(d) })?;
            let len = match &vals {
                Vals::I(v) => v.len(),
                Vals::F(v) => v.len(),
            };
            if n as usize != len {
                return None;
            }
            Some(Const { dtype, dims, vals })
        }
        "shape" | "shape64" => {
            let x = op.input("Input")?;
            let s = ctx.static_shape(x)?;
            let dtype = declared_dtype(ctx, op).unwrap_or(if op.ty == "shape" {
                DType::I32
            } else {
                DType::I64
            });
            Some(Const {
                dtype,
                dims: vec![s.len() as i64],
                vals: Vals::I(s),
            })
        }
        "cast" => {
            let c = input("X")?;
            let t = op.i64("out_dtype").and_then(DType::from_var_type)?;
            let vals = if t.is_float() {
                Vals::F(c.floats())
            } else if c.dtype.is_float() {
                Vals::I(c.floats().iter().map(|&f| f.trunc() as i64).collect())
            } else {
                Vals::I(c.ints())
            };
            Some(Const {
                dtype: t,
                dims: c.dims,
                vals,
            })
        }
        "assign" => input("X"),
        "linspace" => {
            let (a, b, n) = (input("Start")?, input("Stop")?, input("Num")?);
            let (a, b) = (*a.floats().first()?, *b.floats().first()?);
            let n = *n.ints().first()?;
            if !(1..=1 << 20).contains(&n) {
                return None;
            }
            let dtype = op
                .i64("dtype")
                .and_then(DType::from_var_type)
                .unwrap_or(DType::F32);
            // Paddle's kernel: the first half from start, the second half back from stop.
            let step = if n > 1 { (b - a) / (n - 1) as f64 } else { 0.0 };
            let (a32, b32, s32) = (a as f32, b as f32, step as f32);
            let v: Vec<f64> = (0..n)
                .map(|i| {
                    if i < n / 2 {
                        (a32 + s32 * i as f32) as f64
                    } else {
                        (b32 - s32 * (n - 1 - i) as f32) as f64
                    }
                })
                .collect();
            let vals = if dtype.is_float() {
                Vals::F(v)
            } else {
                Vals::I(v.iter().map(|&x| x as i64).collect())
            };
            Some(Const {
                dtype,
                dims: vec![n],
                vals,
            })
        }
        "slice" => {
            let c = input("Input")?;
            if c.dims.len() != 1
                || op.input("StartsTensor").is_some()
                || op.input("EndsTensor").is_some()
                || !op.ins("StartsTensorList").is_empty()
                || !op.ins("EndsTensorList").is_empty()
            {
                return None;
            }
            let n = c.dims[0];
            let (s, e) = (op.ints("starts")?, op.ints("ends")?);
            let (s, e) = (*s.first()?, *e.first()?);
            let clamp = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
            let (s, e) = (clamp(s), clamp(e));
            let v: Vec<i64> = ints_of(&c).get(s as usize..e.max(s) as usize)?.to_vec();
            let decrease = !op.ints("decrease_axis").unwrap_or_default().is_empty();
            let out_rank1 = op.output("Out").is_some_and(|o| ctx.declared_rank1(o));
            let dims = if decrease && v.len() == 1 && !out_rank1 {
                vec![]
            } else {
                vec![v.len() as i64]
            };
            Some(Const {
                dtype: c.dtype,
                dims,
                vals: Vals::I(v),
            })
        }
        "concat" => {
            let xs = op.ins("X");
            let cs: Vec<Const> = xs
                .iter()
                .map(|n| ctx.const_of(n).cloned())
                .collect::<Option<_>>()?;
            if cs.iter().any(|c| c.dims.len() != 1 || c.dtype.is_float()) {
                return None;
            }
            let v: Vec<i64> = cs.iter().flat_map(ints_of).collect();
            Some(Const {
                dtype: cs.first()?.dtype,
                dims: vec![v.len() as i64],
                vals: Vals::I(v),
            })
        }
        "stack" => {
            let xs = op.ins("X");
            let cs: Vec<Const> = xs
                .iter()
                .map(|n| ctx.const_of(n).cloned())
                .collect::<Option<_>>()?;
            if cs.iter().any(|c| !c.dims.is_empty() || c.dtype.is_float()) {
                return None;
            }
            let v: Vec<i64> = cs.iter().flat_map(ints_of).collect();
            Some(Const {
                dtype: cs.first()?.dtype,
                dims: vec![v.len() as i64],
                vals: Vals::I(v),
            })
        }
        "reshape2" | "unsqueeze2" | "squeeze2" => {
            let c = input("X")?;
            let out = op.output("Out")?;
            let dims = ctx.prog.var(out).and_then(|v| v.shape.clone())?;
            let n = dims
                .iter()
                .try_fold(1i64, |a, &d| if d < 0 { None } else { a.checked_mul(d) })?;
            if n as usize != c.len() {
                return None;
            }
            Some(Const { dims, ..c })
        }
        "scale" => {
            let c = input("X")?;
            if op.input("ScaleTensor").is_some() {
                return None;
            }
            let s = op.f64("scale").unwrap_or(1.0);
            let b = op.f64("bias").unwrap_or(0.0);
            let after = op.bool("bias_after_scale").unwrap_or(true);
            let f = |v: f64| if after { v * s + b } else { (v + b) * s };
            let vals = if c.dtype.is_float() {
                Vals::F(c.floats().into_iter().map(f).collect())
            } else {
                Vals::I(c.floats().into_iter().map(|v| f(v) as i64).collect())
            };
            Some(Const { vals, ..c })
        }
        "elementwise_add"
        | "elementwise_sub"
        | "elementwise_mul"
        | "elementwise_div"
        | "elementwise_floordiv" => {
            let (a, b) = (input("X")?, input("Y")?);
            if a.dtype.is_float() || b.dtype.is_float() || op.i64("axis").unwrap_or(-1) != -1 {
                return None;
            }
            let (av, bv) = (a.ints(), b.ints());
            let n = av.len().max(bv.len());
            if !(av.len() == bv.len() || av.len() == 1 || bv.len() == 1)
                || a.dims.len() > 1
                || b.dims.len() > 1
            {
                return None;
            }
            let get = |v: &Vec<i64>, i: usize| if v.len() == 1 { v[0] } else { v[i] };
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                let (x, y) = (get(&av, i), get(&bv, i));
                out.push(match op.ty.as_str() {
                    "elementwise_add" => x.checked_add(y)?,
                    "elementwise_sub" => x.checked_sub(y)?,
                    "elementwise_mul" => x.checked_mul(y)?,
                    "elementwise_div" => x.checked_div(y)?,
                    _ => x
                        .checked_div_euclid(y)
                        .map(|_| (x as f64 / y as f64).floor() as i64)?,
                });
            }
            let dims = if a.dims.len() >= b.dims.len() {
                a.dims.clone()
            } else {
                b.dims.clone()
            };
            let dims = if dims.is_empty() {
                vec![]
            } else {
                vec![n as i64]
            };
            Some(Const {
                dtype: a.dtype,
                dims,
                vals: Vals::I(out),
            })
        }
        _ => None,
    }
}
