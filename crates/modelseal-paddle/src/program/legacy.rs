//! Legacy ProgramDesc protobuf (`__model__`, `*.pdmodel`) into the internal graph: block 0's
//! operators, its variable declarations, feeds/fetches ordered by `col`, persistable parameters.

use std::collections::{BTreeMap, HashMap};

use prost::Message;

use crate::error::{legacy as err, Result};
use crate::ir::{Attr, Op, Param, Program, Var};
use crate::proto::paddle::{op_desc, ProgramDesc, Scalar, VarDesc};
use crate::types::{DType, TensorInfo};

// VarType.Type numbers of non-tensor variables.
const FEED_MINIBATCH: i32 = 9;
const FETCH_LIST: i32 = 10;
const READER: i32 = 15;
const RAW: i32 = 17;
const DENSE_TENSOR: i32 = 7;

/// Whether `bytes` decode as a ProgramDesc with at least one block.
pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    ProgramDesc::decode(bytes)
        .map(|p| !p.blocks.is_empty() && p.blocks[0].idx == 0)
        .unwrap_or(false)
}

fn var_info(v: &VarDesc) -> Var {
    let t = &v.r#type;
    let desc = match t.r#type {
        DENSE_TENSOR => t.dense_tensor.as_ref().map(|d| &d.tensor),
        _ => t
            .dense_tensor
            .as_ref()
            .map(|d| &d.tensor)
            .or(t.selected_rows.as_ref()),
    };
    match desc {
        Some(d) => Var {
            dtype: DType::from_var_type(d.data_type as i64),
            shape: Some(d.dims.clone()),
        },
        None => Var::default(),
    }
}

fn scalar(s: &Scalar) -> Result<Attr> {
    Ok(match s.r#type {
        1 => Attr::Bool(s.b.unwrap_or(false)),
        2 => Attr::Int(s.i.unwrap_or(0)),
        3 => Attr::Float(s.r.unwrap_or(0.0)),
        t => return Err(err(format!("unsupported scalar attribute type {t}"))),
    })
}

fn attr(a: &op_desc::Attr) -> Result<Attr> {
    use crate::proto::paddle::AttrType as T;
    let t = T::try_from(a.r#type)
        .map_err(|_| err(format!("attribute {}: unknown type {}", a.name, a.r#type)))?;
    Ok(match t {
        T::Int => Attr::Int(a.i.unwrap_or(0) as i64),
        T::Long => Attr::Int(a.l.unwrap_or(0)),
        T::Float => Attr::Float(a.f.unwrap_or(0.0) as f64),
        T::Float64 => Attr::Float(a.float64.unwrap_or(0.0)),
        T::String => Attr::Str(a.s.clone().unwrap_or_default()),
        T::Boolean => Attr::Bool(a.b.unwrap_or(false)),
        T::Ints => Attr::Ints(a.ints.iter().map(|&i| i as i64).collect()),
        T::Longs => Attr::Ints(a.longs.clone()),
        T::Floats => Attr::Floats(a.floats.iter().map(|&f| f as f64).collect()),
        T::Float64s => Attr::Floats(a.float64s.clone()),
        T::Strings => Attr::Strs(a.strings.clone()),
        T::Booleans => Attr::Bools(a.bools.clone()),
        T::Block => Attr::Block(a.block_idx.unwrap_or(0) as i64),
        T::Blocks => Attr::Ints(a.blocks_idx.iter().map(|&i| i as i64).collect()),
        T::Var => Attr::Vars(a.var_name.iter().cloned().collect()),
        T::Vars => Attr::Vars(a.vars_name.clone()),
        T::Scalar => match &a.scalar {
            Some(s) => scalar(s)?,
            None => return Err(err(format!("attribute {}: SCALAR without a value", a.name))),
        },
        T::Scalars => {
            let v = a.scalars.iter().map(scalar).collect::<Result<Vec<_>>>()?;
            if v.iter().all(|x| matches!(x, Attr::Int(_))) {
                Attr::Ints(
                    v.iter()
                        .map(|x| if let Attr::Int(i) = x { *i } else { 0 })
                        .collect(),
                )
            } else {
                Attr::Floats(
                    v.iter()
                        .map(|x| match x {
                            Attr::Int(i) => *i as f64,
                            Attr::Float(f) => *f,
                            Attr::Bool(b) => *b as i64 as f64,
                            _ => 0.0,
                        })
                        .collect(),
                )
            }
        }
    })
}

/// Parses a legacy ProgramDesc.
pub(crate) fn parse(bytes: &[u8]) -> Result<Program> {
    let prog =
        ProgramDesc::decode(bytes).map_err(|e| err(format!("not a ProgramDesc protobuf: {e}")))?;
    // The decoded program is taken apart (names and attributes moved, not copied).
    let mut blocks = prog.blocks;
    let main = blocks
        .iter()
        .position(|b| b.idx == 0)
        .ok_or_else(|| err("no block 0"))?;
    let mut block = blocks.remove(main);
    let block_ops = std::mem::take(&mut block.ops);

    let mut vars = HashMap::new();
    let mut params = BTreeMap::new();
    let mut placeholders = Vec::new();
    // Parameters of every block (sub-blocks of control flow may own some), declarations of block 0
    // winning over same-named ones elsewhere.
    for b in blocks.into_iter().chain(std::iter::once(block)) {
        for v in b.vars {
            let info = var_info(&v);
            let kind = v.r#type.r#type;
            if v.persistable.unwrap_or(false)
                && ![FEED_MINIBATCH, FETCH_LIST, READER, RAW].contains(&kind)
            {
                params.insert(
                    v.name.clone(),
                    Param {
                        name: v.name.clone(),
                        dtype: info.dtype,
                        shape: info.shape.clone(),
                    },
                );
            }
            if v.name.ends_with("__non_persistable") {
                placeholders.push(v.name.clone());
            }
            vars.insert(v.name, info);
        }
    }

    let mut feeds = Vec::new();
    let mut fetches = Vec::new();
    let mut ops = Vec::new();
    for (i, o) in block_ops.into_iter().enumerate() {
        let slot = |list: &[op_desc::Var], name: &str| -> Option<String> {
            list.iter()
                .find(|v| v.parameter == name)
                .and_then(|v| v.arguments.first().cloned())
        };
        let col = o
            .attrs
            .iter()
            .find(|a| a.name == "col")
            .and_then(|a| a.i.map(|i| i as i64).or(a.l));
        match o.r#type.as_str() {
            "feed" => {
                let name = slot(&o.outputs, "Out")
                    .ok_or_else(|| err(format!("op #{i} feed without Out")))?;
                feeds.push((col.unwrap_or(feeds.len() as i64), name));
            }
            "fetch" => {
                let name =
                    slot(&o.inputs, "X").ok_or_else(|| err(format!("op #{i} fetch without X")))?;
                fetches.push((col.unwrap_or(fetches.len() as i64), name));
            }
            _ => {
                let mut attrs = BTreeMap::new();
                for a in o.attrs {
                    let value = attr(&a).map_err(|e| err(format!("op #{i} {}: {e}", o.r#type)))?;
                    attrs.insert(a.name, value);
                }
                let slots = |list: Vec<op_desc::Var>| {
                    list.into_iter()
                        .map(|v| (v.parameter, v.arguments))
                        .collect::<Vec<_>>()
                };
                ops.push(Op {
                    ty: o.r#type,
                    inputs: slots(o.inputs),
                    outputs: slots(o.outputs),
                    attrs,
                });
            }
        }
    }
    feeds.sort_by_key(|f| f.0);
    fetches.sort_by_key(|f| f.0);
    for w in feeds.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(err(format!("two feeds with col {}", w[0].0)));
        }
    }
    for w in fetches.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(err(format!("two fetches with col {}", w[0].0)));
        }
    }
    if fetches.is_empty() {
        return Err(err("no fetch operator: the program has no outputs"));
    }
    let feeds = feeds
        .into_iter()
        .map(|(_, name)| {
            let v = vars.get(&name).cloned().unwrap_or_default();
            let dtype = v
                .dtype
                .ok_or_else(|| err(format!("feed {name}: no tensor type declared")))?;
            Ok(TensorInfo {
                name,
                dtype: dtype.in_onnx(),
                shape: v.shape.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Program {
        ops,
        vars,
        feeds,
        fetches: fetches.into_iter().map(|(_, n)| (n.clone(), n)).collect(),
        params: params.into_values().collect(),
        placeholders,
    })
}
