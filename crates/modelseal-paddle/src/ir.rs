//! The importer's one internal graph form, which both program formats are parsed into: legacy
//! operator names, named input/output slots holding value names, and typed attributes.

use std::collections::{BTreeMap, HashMap};

use crate::types::{DType, TensorInfo};

/// An attribute value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Attr {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Ints(Vec<i64>),
    Floats(Vec<f64>),
    Strs(Vec<String>),
    Bools(Vec<bool>),
    /// A sub-block (legacy control flow); its presence alone makes an op unsupported here.
    Block(i64),
    /// A runtime variable given as attribute (legacy VAR/VARS).
    Vars(Vec<String>),
}

/// One operator.
#[derive(Clone, Debug, Default)]
pub(crate) struct Op {
    /// Operator type in legacy naming (`conv2d`, `elementwise_add`, ...).
    pub ty: String,
    pub inputs: Vec<(String, Vec<String>)>,
    pub outputs: Vec<(String, Vec<String>)>,
    pub attrs: BTreeMap<String, Attr>,
}

impl Op {
    /// All value names of an input slot (empty when absent).
    pub fn ins(&self, slot: &str) -> &[String] {
        self.inputs
            .iter()
            .find(|(s, _)| s == slot)
            .map(|(_, a)| a.as_slice())
            .unwrap_or(&[])
    }

    /// The first value of an input slot.
    pub fn input(&self, slot: &str) -> Option<&str> {
        self.ins(slot).first().map(String::as_str)
    }

    /// All value names of an output slot.
    pub fn outs(&self, slot: &str) -> &[String] {
        self.outputs
            .iter()
            .find(|(s, _)| s == slot)
            .map(|(_, a)| a.as_slice())
            .unwrap_or(&[])
    }

    /// The first value of an output slot.
    pub fn output(&self, slot: &str) -> Option<&str> {
        self.outs(slot).first().map(String::as_str)
    }

    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.get(name)
    }

    pub fn i64(&self, name: &str) -> Option<i64> {
        match self.attrs.get(name)? {
            Attr::Int(i) => Some(*i),
            Attr::Bool(b) => Some(*b as i64),
            Attr::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            _ => None,
        }
    }

    pub fn f64(&self, name: &str) -> Option<f64> {
        match self.attrs.get(name)? {
            Attr::Float(f) => Some(*f),
            Attr::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.attrs.get(name)? {
            Attr::Bool(b) => Some(*b),
            Attr::Int(i) => Some(*i != 0),
            _ => None,
        }
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        match self.attrs.get(name)? {
            Attr::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn ints(&self, name: &str) -> Option<Vec<i64>> {
        match self.attrs.get(name)? {
            Attr::Ints(v) => Some(v.clone()),
            Attr::Int(i) => Some(vec![*i]),
            Attr::Bools(v) => Some(v.iter().map(|&b| b as i64).collect()),
            Attr::Floats(v) if v.iter().all(|f| f.fract() == 0.0) => {
                Some(v.iter().map(|&f| f as i64).collect())
            }
            _ => None,
        }
    }

    pub fn floats(&self, name: &str) -> Option<Vec<f64>> {
        match self.attrs.get(name)? {
            Attr::Floats(v) => Some(v.clone()),
            Attr::Ints(v) => Some(v.iter().map(|&i| i as f64).collect()),
            Attr::Float(f) => Some(vec![*f]),
            _ => None,
        }
    }
}

/// What the program declares about a value.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Var {
    pub dtype: Option<DType>,
    /// Dims with -1 for unknown; `None` when not declared.
    pub shape: Option<Vec<i64>>,
}

/// A parameter: a persistable variable read from the parameters file.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub name: String,
    pub dtype: Option<DType>,
    pub shape: Option<Vec<i64>>,
}

/// A parsed program of either format.
#[derive(Clone, Debug, Default)]
pub(crate) struct Program {
    /// The main block's operators in execution order, feed/fetch/parameter ops removed.
    pub ops: Vec<Op>,
    /// Declarations of values by name.
    pub vars: HashMap<String, Var>,
    /// Model inputs in feed order (name = value name).
    pub feeds: Vec<TensorInfo>,
    /// Model outputs in fetch order: (value name, output name).
    pub fetches: Vec<(String, String)>,
    /// Parameters in the parameters file's order (byte-wise sorted names).
    pub params: Vec<Param>,
    /// Non-persistable parameters: declared, never stored (e.g. an RNN's dropout state).
    pub placeholders: Vec<String>,
}

impl Program {
    pub fn var(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
    }
}
