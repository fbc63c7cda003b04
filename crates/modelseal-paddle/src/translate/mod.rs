//! The translator: one pass over the internal graph, each operator lowered to ONNX nodes by its
//! family module; constants are tracked so attribute-like tensors (shapes, axes) fold.

mod activation;
mod detection;
mod elementwise;
mod fold;
mod interp;
mod linalg;
mod nn;
mod pad;
mod reduce;
mod rnn;
mod shape;

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::graph::{scalar_bytes, Graph};
use crate::ir::{Op, Program};
use crate::types::DType;

/// Values of a constant tensor.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Vals {
    I(Vec<i64>),
    F(Vec<f64>),
}

/// A tensor whose value is known at import time.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Const {
    pub dtype: DType,
    pub dims: Vec<i64>,
    pub vals: Vals,
}

impl Const {
    pub fn ints(&self) -> Vec<i64> {
        match &self.vals {
            Vals::I(v) => v.clone(),
            Vals::F(v) => v.iter().map(|&f| f as i64).collect(),
        }
    }

    pub fn floats(&self) -> Vec<f64> {
        match &self.vals {
            Vals::I(v) => v.iter().map(|&i| i as f64).collect(),
            Vals::F(v) => v.clone(),
        }
    }

    pub fn len(&self) -> usize {
        match &self.vals {
            Vals::I(v) => v.len(),
            Vals::F(v) => v.len(),
        }
    }

    pub fn raw(&self) -> Vec<u8> {
        let t = self.dtype.in_onnx();
        match &self.vals {
            Vals::I(v) if matches!(t, DType::I64) => {
                v.iter().flat_map(|x| x.to_le_bytes()).collect()
            }
            Vals::I(v) => v.iter().flat_map(|&x| scalar_bytes(t, x as f64)).collect(),
            Vals::F(v) => v.iter().flat_map(|&x| scalar_bytes(t, x)).collect(),
        }
    }
}

/// An integer list argument given either as an attribute/constant or as a runtime tensor.
pub(crate) enum IntArg {
    Static(Vec<i64>),
    /// A 1-D INT64 ONNX value.
    Dynamic(String),
}

/// Translation state.
pub(crate) struct Ctx<'a> {
    pub prog: &'a Program,
    pub g: Graph,
    consts: HashMap<String, Const>,
}

/// An unsupported operator or operator form, as listed in [`Error::Unsupported`].
pub(crate) fn unsupported(what: impl Into<String>) -> Error {
    Error::Unsupported {
        ops: vec![what.into()],
    }
}

/// A malformed operator (missing slots, impossible attributes).
pub(crate) fn bad(op: &Op, message: impl std::fmt::Display) -> Error {
    Error::MalformedProgram {
        format: "program",
        message: format!("{}: {message}", op.ty),
    }
}

impl<'a> Ctx<'a> {
    pub fn new(prog: &'a Program) -> Self {
        Ctx {
            prog,
            g: Graph::default(),
            consts: HashMap::new(),
        }
    }

    /// The declared ONNX element type of a value (half types widened).
    pub fn dtype(&self, name: &str) -> Option<DType> {
        if let Some(c) = self.consts.get(name) {
            return Some(c.dtype.in_onnx());
        }
        self.prog
            .var(name)
            .and_then(|v| v.dtype)
            .map(DType::in_onnx)
    }

    /// The declared element type, `float32` when the program does not say.
    pub fn dtype_or_f32(&self, name: &str) -> DType {
        self.dtype(name).unwrap_or(DType::F32)
    }

    /// The declared dims (-1 unknown).
    pub fn shape(&self, name: &str) -> Option<Vec<i64>> {
        if let Some(c) = self.consts.get(name) {
            return Some(c.dims.clone());
        }
        self.prog.var(name).and_then(|v| v.shape.clone())
    }

    pub fn rank(&self, name: &str) -> Option<usize> {
        self.shape(name).map(|s| s.len())
    }

    pub fn rank_of(&self, op: &Op, name: &str) -> Result<usize> {
        self.rank(name)
            .ok_or_else(|| bad(op, format!("the rank of {name} is not declared")))
    }

    /// The declared dims when all are known.
    pub fn static_shape(&self, name: &str) -> Option<Vec<i64>> {
        self.shape(name).filter(|s| s.iter().all(|&d| d >= 0))
    }

    pub fn const_of(&self, name: &str) -> Option<&Const> {
        self.consts.get(name)
    }

    /// Records a constant and writes it as an initializer under its own name.
    pub fn set_const(&mut self, name: &str, c: Const) {
        let t = c.dtype.onnx_type().unwrap_or(1);
        self.g.init_named(name, t, &c.dims, c.raw());
        self.consts.insert(name.to_string(), c);
    }

    /// An integer list from a constant tensor slot, a list-of-scalars slot, or an attribute.
    /// Runtime tensors become one 1-D INT64 value.
    pub fn int_arg(
        &mut self,
        op: &Op,
        attr: &str,
        slot: &str,
        list_slot: &str,
    ) -> Result<Option<IntArg>> {
        if let Some(t) = op.input(slot) {
            if let Some(c) = self.const_of(t) {
                return Ok(Some(IntArg::Static(c.ints())));
            }
            let t = t.to_string();
            return Ok(Some(IntArg::Dynamic(self.i64_1d(&t))));
        }
        let list = op.ins(list_slot).to_vec();
        if !list.is_empty() {
            if list.iter().all(|n| self.const_of(n).is_some()) {
                let v = list
                    .iter()
                    .flat_map(|n| self.const_of(n).map(|c| c.ints()).unwrap_or_default())
                    .collect();
                return Ok(Some(IntArg::Static(v)));
            }
            let parts: Vec<String> = list.iter().map(|n| self.i64_1d(n)).collect();
            let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            return Ok(Some(IntArg::Dynamic(self.g.op(
                "Concat",
                &refs,
                vec![crate::graph::a_int("axis", 0)],
            ))));
        }
        Ok(op.ints(attr).map(IntArg::Static))
    }

    /// A static integer list argument, or an unsupported-form error naming it.
    pub fn static_ints(
        &mut self,
        op: &Op,
        attr: &str,
        slot: &str,
        list_slot: &str,
    ) -> Result<Option<Vec<i64>>> {
        match self.int_arg(op, attr, slot, list_slot)? {
            Some(IntArg::Static(v)) => Ok(Some(v)),
            Some(IntArg::Dynamic(_)) => Err(unsupported(format!(
                "{}({attr} given as a runtime tensor)",
                op.ty
            ))),
            None => Ok(None),
        }
    }

    /// A float scalar from a constant tensor slot or an attribute.
    pub fn float_arg(&self, op: &Op, attr: &str, slot: &str) -> Result<Option<f64>> {
        if let Some(t) = op.input(slot) {
            return match self.const_of(t) {
                Some(c) if c.len() == 1 => Ok(Some(c.floats()[0])),
                _ => Err(unsupported(format!(
                    "{}({attr} given as a runtime tensor)",
                    op.ty
                ))),
            };
        }
        Ok(op.f64(attr))
    }

    /// `name` as a 1-D INT64 value (cast and reshaped when needed).
    pub fn i64_1d(&mut self, name: &str) -> String {
        let mut v = name.to_string();
        if self.dtype(name) != Some(DType::I64) {
            v = self.g.op("Cast", &[&v], vec![crate::graph::a_int("to", 7)]);
        }
        if self.rank(name) != Some(1) {
            let shape = self.g.i64s(&[-1]);
            v = self.g.op("Reshape", &[&v, &shape], vec![]);
        }
        v
    }

    /// `Shape(name)` as a 1-D INT64 value (a constant when the shape is static).
    pub fn i64_1d_shape(&mut self, name: &str) -> String {
        match self.static_shape(name) {
            Some(s) => self.g.i64s(&s),
            None => self.g.op("Shape", &[name], vec![]),
        }
    }

    /// Casts `name` to `to` unless it already has that type.
    pub fn cast(&mut self, name: &str, to: DType) -> String {
        if self.dtype(name) == Some(to.in_onnx()) {
            return name.to_string();
        }
        let t = to.onnx_type().unwrap_or(1) as i64;
        self.g
            .op("Cast", &[name], vec![crate::graph::a_int("to", t)])
    }

    /// Whether the program declares `name` as shape `[1]`: programs written before Paddle 2.5
    /// keep a one-element dim where newer ones (and ONNX) give a 0-D result.
    pub fn declared_rank1(&self, name: &str) -> bool {
        self.prog
            .var(name)
            .and_then(|v| v.shape.as_deref())
            .is_some_and(|s| s == [1])
    }

    /// Writes `Identity(src) -> dst`.
    pub fn alias(&mut self, src: &str, dst: &str) {
        self.g.add("Identity", &[src], &[dst], vec![]);
    }
}

/// Normalizes a possibly negative axis against a rank.
pub(crate) fn axis(op: &Op, a: i64, rank: usize) -> Result<i64> {
    let r = rank as i64;
    let n = if a < 0 { a.saturating_add(r) } else { a };
    if n < 0 || n >= r {
        return Err(bad(op, format!("axis {a} out of range for rank {rank}")));
    }
    Ok(n)
}

/// The most elements a constant the translator builds may have (a hostile program must not
/// make the importer allocate more than this for it).
pub(crate) const MAX_CONST_ELEMS: i64 = 1 << 24;

/// Checked element count of `dims` (all >= 0), refused above [`MAX_CONST_ELEMS`].
pub(crate) fn const_numel(op: &Op, dims: &[i64]) -> Result<i64> {
    let mut n: i64 = 1;
    for &d in dims {
        if d < 0 {
            return Err(bad(op, format!("negative dimension in {dims:?}")));
        }
        n = n
            .checked_mul(d)
            .filter(|&n| n <= MAX_CONST_ELEMS)
            .ok_or_else(|| unsupported(format!("{}(constant of {dims:?}: too large)", op.ty)))?;
    }
    Ok(n)
}

/// Window/stride/dilation values: positive and of sane size.
pub(crate) fn positive(op: &Op, what: &str, v: &[i64]) -> Result<()> {
    if v.iter().any(|&x| !(1..=1 << 20).contains(&x)) {
        return Err(bad(op, format!("{what} {v:?} must be positive")));
    }
    Ok(())
}

/// Lowers one operator; `Ok(false)` when no family knows its type.
pub(crate) fn emit(ctx: &mut Ctx, op: &Op) -> Result<bool> {
    Ok(activation::emit(ctx, op)?
        || elementwise::emit(ctx, op)?
        || nn::emit(ctx, op)?
        || linalg::emit(ctx, op)?
        || shape::emit(ctx, op)?
        || pad::emit(ctx, op)?
        || reduce::emit(ctx, op)?
        || interp::emit(ctx, op)?
        || rnn::emit(ctx, op)?
        || detection::emit(ctx, op)?)
}

/// Lowers every operator, collecting all unsupported operators and forms before failing.
pub(crate) fn emit_all(ctx: &mut Ctx, ops: &[&Op]) -> Result<()> {
    let mut missing = Vec::new();
    for op in ops {
        if fold::try_fold(ctx, op) {
            continue;
        }
        match emit(ctx, op) {
            Ok(true) => {}
            Ok(false) => missing.push(op.ty.clone()),
            Err(Error::Unsupported { ops }) => missing.extend(ops),
            // After an operator that could not be lowered, later errors may be its consequence.
            Err(_) if !missing.is_empty() => {}
            Err(e) => return Err(e),
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        missing.sort();
        missing.dedup();
        Err(Error::Unsupported { ops: missing })
    }
}
