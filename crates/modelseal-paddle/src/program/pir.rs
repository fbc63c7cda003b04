//! PIR JSON programs (`inference.json`, Paddle 3.x) into the internal graph: values numbered by
//! id get names, `builtin.combine`/`split`/`slice` become slot lists, parameters come from the
//! compressed `"p"` ops, and each `pd_op` is mapped onto the legacy operator form (`pir_ops`).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::error::{pir as err, Result};
use crate::ir::{Attr, Param, Program, Var};
use crate::types::{DType, TensorInfo};

use super::pir_ops;

/// Whether `bytes` look like a PIR JSON program (a JSON object with `base_code.magic == "pir"`).
pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return false;
    }
    serde_json::from_slice::<Value>(bytes)
        .map(|v| v.pointer("/base_code/magic").and_then(Value::as_str) == Some("pir"))
        .unwrap_or(false)
}

/// The operator name with its dialect spelled out: `1.conv2d` -> `pd_op.conv2d`.
fn full_name(short: &str) -> String {
    let (d, rest) = match short.split_once('.') {
        Some(x) => x,
        None => return short.to_string(),
    };
    let dialect = match d {
        "0" => "builtin",
        "1" => "pd_op",
        "2" => "cf",
        "3" => "custom_op",
        "4" => "dist_op",
        other => other,
    };
    format!("{dialect}.{rest}")
}

fn tag(v: &Value) -> Option<&str> {
    v.get("#")
        .and_then(Value::as_str)
        .map(|t| t.split_once('.').map(|x| x.1).unwrap_or(t))
}

/// A value's declared type: dtype and dims of a dense tensor, or the element types of a vector.
enum Ty {
    Tensor(Var),
    Vec(Vec<Var>),
    Other,
}

fn tensor_type(tt: &Value) -> Option<Var> {
    let d = tt.get("D")?.as_array()?;
    let dtype = d.first().and_then(tag).and_then(DType::from_pir_tag);
    let shape = d.get(1).and_then(Value::as_array).map(|dims| {
        dims.iter()
            .map(|x| x.as_i64().unwrap_or(-1))
            .collect::<Vec<i64>>()
    });
    Some(Var { dtype, shape })
}

fn value_type(tt: Option<&Value>) -> Ty {
    let Some(tt) = tt else { return Ty::Other };
    match tag(tt) {
        Some("t_dtensor") => tensor_type(tt).map(Ty::Tensor).unwrap_or(Ty::Other),
        Some("t_vec") => Ty::Vec(
            tt.get("D")
                .and_then(Value::as_array)
                .map(|els| {
                    els.iter()
                        .map(|e| tensor_type(e).unwrap_or_default())
                        .collect()
                })
                .unwrap_or_default(),
        ),
        _ => Ty::Other,
    }
}

fn float_of(v: &Value) -> Option<f64> {
    if let Some(f) = v.as_f64() {
        return Some(f);
    }
    match v.as_str()? {
        "NaN" | "nan" => Some(f64::NAN),
        "INF" | "inf" => Some(f64::INFINITY),
        "-INF" | "-inf" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// One typed attribute value (`{"#": tag, "D": data}`); `None` for attributes that carry no
/// meaning for inference (places, struct names...).
fn attr_value(at: &Value) -> Result<Option<Attr>> {
    let t = tag(at).unwrap_or("");
    let d = at.get("D").unwrap_or(&Value::Null);
    let special = at.get("VD");
    let bad = || err(format!("attribute value {at} does not match its tag"));
    Ok(Some(match t {
        "a_bool" => Attr::Bool(d.as_bool().ok_or_else(bad)?),
        "a_i32" | "a_i64" | "a_index" => Attr::Int(d.as_i64().ok_or_else(bad)?),
        "a_f32" | "a_f64" => Attr::Float(
            special
                .and_then(float_of)
                .or_else(|| float_of(d))
                .ok_or_else(bad)?,
        ),
        "a_str" | "a_layout" => Attr::Str(d.as_str().ok_or_else(bad)?.to_string()),
        "a_dtype" => {
            let name = d.as_str().ok_or_else(bad)?;
            match DType::from_name(name) {
                Some(dt) => Attr::Int(dt.var_type()),
                None => Attr::Str(name.to_string()),
            }
        }
        "a_intarray" => Attr::Ints(
            d.as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|x| x.as_i64().ok_or_else(bad))
                .collect::<Result<_>>()?,
        ),
        "a_scalar" => {
            // D = [dtype name, value] or a bare number
            let v = d.as_array().and_then(|a| a.get(1)).unwrap_or(d);
            if let Some(b) = v.as_bool() {
                Attr::Bool(b)
            } else if let Some(i) = v.as_i64() {
                Attr::Int(i)
            } else {
                Attr::Float(float_of(v).ok_or_else(bad)?)
            }
        }
        "a_array" => {
            let items = d.as_array().ok_or_else(bad)?;
            let vals = items
                .iter()
                .map(attr_value)
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect::<Vec<_>>();
            if vals.iter().all(|v| matches!(v, Attr::Int(_))) {
                Attr::Ints(
                    vals.iter()
                        .map(|v| if let Attr::Int(i) = v { *i } else { 0 })
                        .collect(),
                )
            } else if vals
                .iter()
                .all(|v| matches!(v, Attr::Int(_) | Attr::Float(_)))
            {
                Attr::Floats(
                    vals.iter()
                        .map(|v| match v {
                            Attr::Int(i) => *i as f64,
                            Attr::Float(f) => *f,
                            _ => 0.0,
                        })
                        .collect(),
                )
            } else if vals.iter().all(|v| matches!(v, Attr::Bool(_))) {
                Attr::Bools(vals.iter().map(|v| matches!(v, Attr::Bool(true))).collect())
            } else if vals.iter().all(|v| matches!(v, Attr::Str(_))) {
                Attr::Strs(
                    vals.into_iter()
                        .map(|v| {
                            if let Attr::Str(s) = v {
                                s
                            } else {
                                String::new()
                            }
                        })
                        .collect(),
                )
            } else {
                return Err(err(format!("mixed attribute array {at}")));
            }
        }
        "a_place" | "a_type" | "a_pointer" => return Ok(None),
        _ => return Err(err(format!("unknown attribute type {t:?}"))),
    }))
}

fn attrs_of(op: &Value, name: &str) -> Result<BTreeMap<String, Attr>> {
    let mut out = BTreeMap::new();
    if let Some(list) = op.get("A").and_then(Value::as_array) {
        for a in list {
            let n = a
                .get("N")
                .and_then(Value::as_str)
                .ok_or_else(|| err(format!("{name}: attribute without a name")))?;
            if n == "struct_name" || n == "stop_gradient" {
                continue;
            }
            let at = a
                .get("AT")
                .ok_or_else(|| err(format!("{name}: attribute {n} without a value")))?;
            if let Some(v) = attr_value(at).map_err(|e| err(format!("{name}.{n}: {e}")))? {
                out.insert(n.to_string(), v);
            }
        }
    }
    Ok(out)
}

fn id_of(v: &Value) -> Option<i64> {
    v.get("%").and_then(Value::as_i64)
}

struct Values {
    names: HashMap<i64, String>,
    combines: HashMap<i64, Vec<String>>,
}

impl Values {
    fn name(&self, id: i64, op: &str) -> Result<String> {
        self.names
            .get(&id)
            .cloned()
            .ok_or_else(|| err(format!("{op}: operand %{id} used before it is defined")))
    }

    /// An operand as a slot list: empty when absent (id 0), the elements of a combine, or one name.
    fn operand(&self, id: i64, op: &str) -> Result<Vec<String>> {
        if id == 0 {
            return Ok(Vec::new());
        }
        if let Some(list) = self.combines.get(&id) {
            return Ok(list.clone());
        }
        Ok(vec![self.name(id, op)?])
    }
}

/// Parses a PIR JSON program.
pub(crate) fn parse(bytes: &[u8]) -> Result<Program> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| err(format!("not JSON: {e}")))?;
    if root.pointer("/base_code/magic").and_then(Value::as_str) != Some("pir") {
        return Err(err("base_code.magic is not \"pir\""));
    }
    let ops = root
        .pointer("/program/regions/0/blocks/0/ops")
        .and_then(Value::as_array)
        .ok_or_else(|| err("no program.regions[0].blocks[0].ops"))?;

    // Vector unpacking: builtin.split results and builtin.slice results are named after the
    // vector they come from, so the op producing the vector can name its outputs directly.
    let mut names: HashMap<i64, String> = HashMap::new();
    for op in ops {
        let n = op
            .get("#")
            .and_then(Value::as_str)
            .map(full_name)
            .unwrap_or_default();
        let vec_id = op.get("I").and_then(|i| i.get(0)).and_then(id_of);
        match (n.as_str(), vec_id) {
            ("builtin.split", Some(v)) => {
                for (i, o) in op
                    .get("O")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if let Some(id) = id_of(o) {
                        names.insert(id, format!("v{v}_{i}"));
                    }
                }
            }
            ("builtin.slice", Some(v)) => {
                let index = attrs_of(op, &n)?
                    .get("index")
                    .and_then(|a| if let Attr::Int(i) = a { Some(*i) } else { None })
                    .ok_or_else(|| err("builtin.slice without index"))?;
                if let Some(id) = op.get("O").and_then(|o| o.get(0)).and_then(id_of) {
                    names.insert(id, format!("v{v}_{index}"));
                }
            }
            _ => {}
        }
    }

    let mut values = Values {
        names,
        combines: HashMap::new(),
    };
    let mut prog = Program::default();
    let mut params = BTreeMap::new();
    let mut fetches = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        let short = op
            .get("#")
            .and_then(Value::as_str)
            .ok_or_else(|| err(format!("op #{index} without a name")))?;
        if short == "p" || short == "0.parameter" {
            let (name, id, tt, persistable) = parameter(op, index)?;
            let var = match value_type(tt) {
                Ty::Tensor(v) => v,
                _ => return Err(err(format!("parameter {name}: not a dense tensor"))),
            };
            values.names.insert(id, name.clone());
            if !persistable {
                prog.placeholders.push(name.clone());
            } else {
                params.insert(
                    name.clone(),
                    Param {
                        name: name.clone(),
                        dtype: var.dtype,
                        shape: var.shape.clone(),
                    },
                );
            }
            prog.vars.insert(name, var);
            continue;
        }
        let name = full_name(short);
        let what = format!("op #{index} {name}");
        let attrs = attrs_of(op, &what)?;
        let operands: Vec<i64> = op
            .get("I")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .map(|v| id_of(v).ok_or_else(|| err(format!("{what}: operand without id"))))
                    .collect()
            })
            .transpose()?
            .unwrap_or_default();
        let results: Vec<(i64, Option<&Value>)> = match op.get("O") {
            Some(Value::Array(l)) => l
                .iter()
                .map(|v| {
                    Ok((
                        id_of(v).ok_or_else(|| err(format!("{what}: result without id")))?,
                        v.get("TT"),
                    ))
                })
                .collect::<Result<_>>()?,
            Some(v @ Value::Object(_)) => vec![(
                id_of(v).ok_or_else(|| err(format!("{what}: result without id")))?,
                v.get("TT"),
            )],
            _ => Vec::new(),
        };
        match name.as_str() {
            "pd_op.data" | "pd_op.feed" => {
                let feed = match attrs.get("name") {
                    Some(Attr::Str(s)) => s.clone(),
                    _ => return Err(err(format!("{what}: no name attribute"))),
                };
                let (id, tt) = *results
                    .first()
                    .ok_or_else(|| err(format!("{what}: no result")))?;
                let var = match value_type(tt) {
                    Ty::Tensor(v) => v,
                    _ => Var::default(),
                };
                let dtype = var
                    .dtype
                    .or_else(|| match attrs.get("dtype") {
                        Some(Attr::Int(i)) => DType::from_var_type(*i),
                        _ => None,
                    })
                    .ok_or_else(|| err(format!("{what}: input {feed} has no dtype")))?;
                let shape = match attrs.get("shape") {
                    Some(Attr::Ints(s)) => s.clone(),
                    _ => var.shape.clone().unwrap_or_default(),
                };
                values.names.insert(id, feed.clone());
                prog.vars.insert(feed.clone(), var);
                prog.feeds.push(TensorInfo {
                    name: feed,
                    dtype: dtype.in_onnx(),
                    shape,
                });
            }
            "pd_op.fetch" | "builtin.shadow_output" => {
                let src = *operands
                    .first()
                    .ok_or_else(|| err(format!("{what}: no operand")))?;
                let value = values.name(src, &what)?;
                let out = match attrs.get("name").or_else(|| attrs.get("output_name")) {
                    Some(Attr::Str(s)) => s.clone(),
                    _ => value.clone(),
                };
                let col = match attrs.get("col") {
                    Some(Attr::Int(c)) => *c,
                    _ => fetches.len() as i64,
                };
                fetches.push((col, value, out));
            }
            "builtin.combine" => {
                let list = operands
                    .iter()
                    .map(|&id| values.name(id, &what))
                    .collect::<Result<Vec<_>>>()?;
                let (id, _) = *results
                    .first()
                    .ok_or_else(|| err(format!("{what}: no result")))?;
                values.combines.insert(id, list);
            }
            "builtin.split" | "builtin.slice" => {
                // Named in the first pass; record the element types.
                for (id, tt) in &results {
                    if let (Some(n), Ty::Tensor(v)) = (values.names.get(id), value_type(*tt)) {
                        prog.vars.insert(n.clone(), v);
                    }
                }
            }
            _ => {
                let mut ins = Vec::with_capacity(operands.len());
                for &id in &operands {
                    ins.push(values.operand(id, &what)?);
                }
                let mut outs = Vec::with_capacity(results.len());
                for (id, tt) in &results {
                    match value_type(*tt) {
                        Ty::Vec(els) => {
                            let list: Vec<String> =
                                (0..els.len()).map(|i| format!("v{id}_{i}")).collect();
                            for (n, v) in list.iter().zip(els) {
                                prog.vars.insert(n.clone(), v);
                            }
                            outs.push(list);
                        }
                        ty => {
                            let n = format!("v{id}");
                            if let Ty::Tensor(v) = ty {
                                prog.vars.insert(n.clone(), v);
                            }
                            values.names.insert(*id, n.clone());
                            outs.push(vec![n]);
                        }
                    }
                }
                if op
                    .get("regions")
                    .and_then(Value::as_array)
                    .is_some_and(|r| !r.is_empty())
                {
                    // Control flow (pd_op.if, pd_op.while): reported as unsupported by type.
                }
                prog.ops.push(pir_ops::convert(&name, ins, outs, attrs)?);
            }
        }
    }
    fetches.sort_by_key(|f| f.0);
    for w in fetches.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(err(format!("two fetches with col {}", w[0].0)));
        }
    }
    if fetches.is_empty() {
        return Err(err("no pd_op.fetch: the program has no outputs"));
    }
    prog.fetches = fetches.into_iter().map(|(_, v, n)| (v, n)).collect();
    prog.params = params.into_values().collect();
    Ok(prog)
}

/// A compressed parameter op `{"#":"p","A":[dist, is_param, need_clip, name],"O":{...},"OA":[persistable,...]}`
/// (or the uncompressed `builtin.parameter` with a `parameter_name` attribute).
fn parameter(op: &Value, index: usize) -> Result<(String, i64, Option<&Value>, bool)> {
    let a = op.get("A");
    let name = match a {
        Some(Value::Array(l)) => match l.get(3).and_then(Value::as_str) {
            Some(s) => s.to_string(),
            None => match attrs_of(op, "builtin.parameter")?.get("parameter_name") {
                Some(Attr::Str(s)) => s.clone(),
                _ => return Err(err(format!("op #{index}: parameter without a name"))),
            },
        },
        _ => return Err(err(format!("op #{index}: parameter without attributes"))),
    };
    let o = match op.get("O") {
        Some(Value::Array(l)) => l.first(),
        Some(v @ Value::Object(_)) => Some(v),
        _ => None,
    }
    .ok_or_else(|| err(format!("parameter {name}: no result")))?;
    let id = id_of(o).ok_or_else(|| err(format!("parameter {name}: result without id")))?;
    let persistable = match op
        .get("OA")
        .and_then(Value::as_array)
        .and_then(|l| l.first())
    {
        Some(Value::Number(n)) => n.as_i64() != Some(0),
        Some(Value::Bool(b)) => *b,
        _ => true,
    };
    Ok((name, id, o.get("TT"), persistable))
}
