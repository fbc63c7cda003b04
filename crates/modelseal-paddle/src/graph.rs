//! A small ONNX graph builder: nodes, initializers (deduplicated constants), fresh value names,
//! and attribute helpers. The translator writes ONNX through it, never protobuf structs directly.

use std::collections::HashMap;

use zeroize::Zeroize;

use crate::proto::onnx::{attribute_proto::AttributeType, AttributeProto, NodeProto, TensorProto};
use crate::types::DType;

/// An initializer: its description, with its bytes either in `proto.raw_data` or, for a
/// parameter stored as the model takes it, a range of the parameters file, so that the weights
/// are copied once, straight into the serialized model (`crate::encode`).
pub(crate) struct Init {
    pub proto: TensorProto,
    pub from_params: Option<std::ops::Range<usize>>,
}

/// Nodes and initializers under construction.
#[derive(Default)]
pub(crate) struct Graph {
    pub nodes: Vec<NodeProto>,
    pub inits: Vec<Init>,
    counter: usize,
    consts: HashMap<(i32, Vec<i64>, Vec<u8>), String>,
}

impl Drop for Graph {
    fn drop(&mut self) {
        // Initializers hold decrypted weights.
        for t in &mut self.inits {
            t.proto.raw_data.zeroize();
        }
    }
}

impl Graph {
    /// A value name no Paddle program uses.
    pub fn fresh(&mut self, hint: &str) -> String {
        self.counter += 1;
        format!("__ms_{hint}_{}", self.counter)
    }

    /// Appends a node with the given outputs.
    pub fn add(&mut self, op: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<AttributeProto>) {
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            op_type: op.to_string(),
            attribute: attrs,
            ..Default::default()
        });
    }

    /// Appends a node with one fresh output and returns its name.
    pub fn op(&mut self, op: &str, inputs: &[&str], attrs: Vec<AttributeProto>) -> String {
        let out = self.fresh(&op.to_ascii_lowercase());
        self.add(op, inputs, &[&out], attrs);
        out
    }

    /// An initializer with the given name (weights; the bytes are zeroized when the graph drops).
    pub fn init_named(&mut self, name: &str, dtype: i32, dims: &[i64], raw: Vec<u8>) {
        self.inits.push(Init {
            proto: TensorProto {
                name: name.to_string(),
                data_type: dtype,
                dims: dims.to_vec(),
                raw_data: raw,
                ..Default::default()
            },
            from_params: None,
        });
    }

    /// An initializer whose bytes are `range` of the parameters file, as they are stored.
    pub fn init_from_params(
        &mut self,
        name: &str,
        dtype: i32,
        dims: &[i64],
        range: std::ops::Range<usize>,
    ) {
        self.inits.push(Init {
            proto: TensorProto {
                name: name.to_string(),
                data_type: dtype,
                dims: dims.to_vec(),
                ..Default::default()
            },
            from_params: Some(range),
        });
    }

    /// A constant initializer, shared between identical uses.
    pub fn constant(&mut self, dtype: DType, dims: &[i64], raw: Vec<u8>) -> String {
        let t = dtype.onnx_type().unwrap_or(1);
        let key = (t, dims.to_vec(), raw);
        if let Some(n) = self.consts.get(&key) {
            return n.clone();
        }
        let name = self.fresh("const");
        self.init_named(&name, t, dims, key.2.clone());
        self.consts.insert(key, name.clone());
        name
    }

    pub fn i64s(&mut self, v: &[i64]) -> String {
        self.constant(
            DType::I64,
            &[v.len() as i64],
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        )
    }

    pub fn i64_scalar(&mut self, v: i64) -> String {
        self.constant(DType::I64, &[], v.to_le_bytes().to_vec())
    }

    pub fn f32s(&mut self, v: &[f32], dims: &[i64]) -> String {
        self.constant(
            DType::F32,
            dims,
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        )
    }

    /// A 0-D constant of `dtype` holding `v` (rounded/truncated to the type).
    pub fn scalar(&mut self, dtype: DType, v: f64) -> String {
        self.constant(dtype.in_onnx(), &[], scalar_bytes(dtype.in_onnx(), v))
    }
}

/// Little-endian bytes of one value of `dtype`.
pub(crate) fn scalar_bytes(dtype: DType, v: f64) -> Vec<u8> {
    match dtype {
        DType::F64 => v.to_le_bytes().to_vec(),
        DType::I64 => (v as i64).to_le_bytes().to_vec(),
        DType::I32 => (v as i32).to_le_bytes().to_vec(),
        DType::I16 => (v as i16).to_le_bytes().to_vec(),
        DType::I8 => (v as i8).to_le_bytes().to_vec(),
        DType::U8 => (v as u8).to_le_bytes().to_vec(),
        DType::U16 => (v as u16).to_le_bytes().to_vec(),
        DType::U32 => (v as u32).to_le_bytes().to_vec(),
        DType::U64 => (v as u64).to_le_bytes().to_vec(),
        DType::Bool => vec![(v != 0.0) as u8],
        _ => (v as f32).to_le_bytes().to_vec(),
    }
}

pub(crate) fn a_int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: v,
        ..Default::default()
    }
}

pub(crate) fn a_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: v.to_vec(),
        ..Default::default()
    }
}

pub(crate) fn a_float(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Float as i32,
        f: v,
        ..Default::default()
    }
}

pub(crate) fn a_str(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::String as i32,
        s: v.as_bytes().to_vec(),
        ..Default::default()
    }
}

pub(crate) fn a_strs(name: &str, v: &[&str]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Strings as i32,
        strings: v.iter().map(|s| s.as_bytes().to_vec()).collect(),
        ..Default::default()
    }
}

pub(crate) fn a_tensor(name: &str, t: TensorProto) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Tensor as i32,
        t: Some(t),
        ..Default::default()
    }
}
