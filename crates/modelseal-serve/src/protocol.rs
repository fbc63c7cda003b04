//! Protocol-neutral inference requests and responses, and their REST form: the JSON body with
//! the binary tensor data extension (`Inference-Header-Content-Length`, `binary_data_size`,
//! `binary_data`, `binary_data_output`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::tensor::{self, Data, DataType, Tensor};

/// A request or tensor parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// Boolean.
    Bool(bool),
    /// Signed integer.
    Int(i64),
    /// Unsigned integer (gRPC `uint64_param`).
    UInt(u64),
    /// Floating point.
    Float(f64),
    /// String.
    Str(String),
}

/// Named parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(pub BTreeMap<String, Param>);

impl Params {
    /// A number parameter (integers and numeric strings accepted).
    pub fn f64(&self, name: &str) -> Result<Option<f64>, ApiError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Param::Float(f)) if f.is_finite() => Ok(Some(*f)),
            Some(Param::Int(i)) => Ok(Some(*i as f64)),
            Some(Param::UInt(u)) => Ok(Some(*u as f64)),
            Some(Param::Str(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Some)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("parameter {name}: {s:?} is not a number"))
                }),
            Some(other) => Err(ApiError::bad_request(format!(
                "parameter {name}: {other:?} is not a number"
            ))),
        }
    }

    /// A positive integer parameter (integral numbers and numeric strings accepted).
    pub fn positive(&self, name: &str) -> Result<Option<usize>, ApiError> {
        let bad = |v: &dyn std::fmt::Debug| {
            ApiError::bad_request(format!("parameter {name}: {v:?} is not a positive integer"))
        };
        let n: i128 = match self.0.get(name) {
            None => return Ok(None),
            Some(Param::Int(i)) => *i as i128,
            Some(Param::UInt(u)) => *u as i128,
            Some(Param::Float(f)) if f.fract() == 0.0 && f.is_finite() && f.abs() < 1e18 => {
                *f as i128
            }
            Some(Param::Str(s)) => s.trim().parse::<i128>().map_err(|_| bad(s))?,
            Some(other) => return Err(bad(other)),
        };
        if n < 1 || n > u32::MAX as i128 {
            return Err(bad(&n));
        }
        Ok(Some(n as usize))
    }

    /// A boolean parameter.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Param::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(ApiError::bad_request(format!(
                "parameter {name}: {other:?} is not a boolean"
            ))),
        }
    }
}

/// An input tensor of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The tensor.
    pub tensor: Tensor,
    /// Whether its BYTES elements came as JSON strings (images are then base64 text).
    pub json: bool,
}

/// An output asked for by name.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestedOutput {
    /// Output name.
    pub name: String,
    /// `binary_data` (REST): whether it comes back in binary form.
    pub binary: Option<bool>,
}

/// An inference request, whatever its protocol.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InferRequest {
    /// Request id, echoed in the answer.
    pub id: Option<String>,
    /// Request parameters (`threshold`, `topk`, ...).
    pub params: Params,
    /// Inputs.
    pub inputs: Vec<Input>,
    /// Requested outputs (empty: all).
    pub outputs: Vec<RequestedOutput>,
}

/// An inference answer, whatever its protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct InferResponse {
    /// Model name as asked.
    pub model_name: String,
    /// Model version.
    pub model_version: String,
    /// Request id, if given.
    pub id: Option<String>,
    /// Outputs.
    pub outputs: Vec<Tensor>,
}

fn param_from_json(name: &str, v: &Value) -> Result<Param, ApiError> {
    Ok(match v {
        Value::Bool(b) => Param::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Param::Int(i)
            } else if let Some(u) = n.as_u64() {
                Param::UInt(u)
            } else {
                Param::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => Param::Str(s.clone()),
        _ => {
            return Err(ApiError::bad_request(format!(
                "parameter {name}: must be a boolean, number or string"
            )))
        }
    })
}

fn params_from_json(what: &str, v: Option<&Value>) -> Result<Params, ApiError> {
    let mut out = BTreeMap::new();
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                out.insert(k.clone(), param_from_json(k, v)?);
            }
        }
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "{what}: `parameters` must be an object"
            )))
        }
    }
    Ok(Params(out))
}

fn field<'a>(obj: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a Value, ApiError> {
    obj.get(key)
        .ok_or_else(|| ApiError::bad_request(format!("{what}: missing `{key}`")))
}

fn shape_from_json(what: &str, v: &Value) -> Result<Vec<i64>, ApiError> {
    let arr = v.as_array().ok_or_else(|| {
        ApiError::bad_request(format!("{what}: `shape` must be an array of integers"))
    })?;
    arr.iter()
        .map(|d| {
            d.as_i64().ok_or_else(|| {
                ApiError::bad_request(format!("{what}: `shape` must be an array of integers"))
            })
        })
        .collect()
}

/// Reads a REST inference request: `body` is the JSON header followed, when `header_len` is
/// given (`Inference-Header-Content-Length`), by the binary tensor data of the inputs that
/// carry `binary_data_size`, in input order.
pub fn parse_rest(body: &[u8], header_len: Option<usize>) -> Result<InferRequest, ApiError> {
    let (json, mut binary) = match header_len {
        Some(n) if n > body.len() => {
            return Err(ApiError::bad_request(format!(
                "Inference-Header-Content-Length {n} exceeds the body of {} bytes",
                body.len()
            )))
        }
        Some(n) => (&body[..n], &body[n..]),
        None => (body, &[][..]),
    };
    let v: Value = serde_json::from_slice(json)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON request: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::bad_request("the request must be a JSON object"))?;
    let id = match obj.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::bad_request("`id` must be a string")),
    };
    let params = params_from_json("request", obj.get("parameters"))?;
    let inputs_v = field(obj, "inputs", "request")?
        .as_array()
        .ok_or_else(|| ApiError::bad_request("request: `inputs` must be an array"))?;
    let mut inputs = Vec::with_capacity(inputs_v.len());
    for (i, iv) in inputs_v.iter().enumerate() {
        let what = format!("input {i}");
        let io = iv
            .as_object()
            .ok_or_else(|| ApiError::bad_request(format!("{what}: must be an object")))?;
        let name = field(io, "name", &what)?
            .as_str()
            .ok_or_else(|| ApiError::bad_request(format!("{what}: `name` must be a string")))?
            .to_string();
        let what = format!("input {name}");
        let dt = DataType::parse(field(io, "datatype", &what)?.as_str().ok_or_else(|| {
            ApiError::bad_request(format!("{what}: `datatype` must be a string"))
        })?)
        .map_err(|e| ApiError::bad_request(format!("{what}: {e}")))?;
        let shape_req = shape_from_json(&what, field(io, "shape", &what)?)?;
        let (shape, _) = tensor::shape_from_request(&name, &shape_req)?;
        let tparams = params_from_json(&what, io.get("parameters"))?;
        let (data, json_bytes) = match tparams.0.get("binary_data_size") {
            Some(p) => {
                let size = match p {
                    Param::Int(i) if *i >= 0 => *i as usize,
                    Param::UInt(u) => *u as usize,
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "{what}: binary_data_size must be a non-negative integer"
                        )))
                    }
                };
                if io.get("data").is_some() {
                    return Err(ApiError::bad_request(format!(
                        "{what}: has both `data` and binary_data_size"
                    )));
                }
                if size > binary.len() {
                    return Err(ApiError::bad_request(format!(
                        "{what}: binary_data_size {size} but only {} bytes of binary data are left",
                        binary.len()
                    )));
                }
                let (mine, rest) = binary.split_at(size);
                binary = rest;
                (tensor::data_from_raw(&name, dt, &shape, mine)?, false)
            }
            None => {
                let data = field(io, "data", &what)?;
                (tensor::data_from_json(&name, dt, &shape, data)?, true)
            }
        };
        if inputs.iter().any(|x: &Input| x.tensor.name == name) {
            return Err(ApiError::bad_request(format!(
                "input {name} is given twice"
            )));
        }
        inputs.push(Input {
            tensor: Tensor::new(name, shape, data),
            json: json_bytes,
        });
    }
    if !binary.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{} bytes of binary data after the JSON header belong to no input",
            binary.len()
        )));
    }
    let mut outputs = Vec::new();
    match obj.get("outputs") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, ov) in items.iter().enumerate() {
                let oo = ov.as_object().ok_or_else(|| {
                    ApiError::bad_request(format!("output {i}: must be an object"))
                })?;
                let name = field(oo, "name", &format!("output {i}"))?
                    .as_str()
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("output {i}: `name` must be a string"))
                    })?
                    .to_string();
                let op = params_from_json(&format!("output {name}"), oo.get("parameters"))?;
                let binary = op.bool("binary_data")?;
                outputs.push(RequestedOutput { name, binary });
            }
        }
        Some(_) => return Err(ApiError::bad_request("request: `outputs` must be an array")),
    }
    Ok(InferRequest {
        id,
        params,
        inputs,
        outputs,
    })
}

/// Writes a REST inference answer: the JSON body, followed by the binary data of the outputs
/// sent in binary form. Returns the body and, when any output is binary, the JSON length for
/// `Inference-Header-Content-Length`.
pub fn encode_rest(resp: &InferResponse, req: &InferRequest) -> (Vec<u8>, Option<usize>) {
    let default_binary = req
        .params
        .bool("binary_data_output")
        .ok()
        .flatten()
        .unwrap_or(false);
    let mut outputs = Vec::with_capacity(resp.outputs.len());
    let mut blobs: Vec<Vec<u8>> = Vec::new();
    for t in &resp.outputs {
        let binary = req
            .outputs
            .iter()
            .find(|o| o.name == t.name)
            .and_then(|o| o.binary)
            .unwrap_or(default_binary);
        let mut o = Map::new();
        o.insert("name".into(), Value::String(t.name.clone()));
        o.insert(
            "datatype".into(),
            Value::String(t.data.datatype().name().into()),
        );
        o.insert(
            "shape".into(),
            Value::Array(t.shape.iter().map(|&d| Value::from(d as u64)).collect()),
        );
        if binary {
            let raw = tensor::data_to_raw(&t.data);
            o.insert(
                "parameters".into(),
                serde_json::json!({ "binary_data_size": raw.len() }),
            );
            blobs.push(raw);
        } else {
            o.insert("data".into(), tensor::data_to_json(&t.data));
        }
        outputs.push(Value::Object(o));
    }
    let mut top = Map::new();
    top.insert("model_name".into(), Value::String(resp.model_name.clone()));
    top.insert(
        "model_version".into(),
        Value::String(resp.model_version.clone()),
    );
    if let Some(id) = &resp.id {
        top.insert("id".into(), Value::String(id.clone()));
    }
    top.insert("outputs".into(), Value::Array(outputs));
    let mut body = serde_json::to_vec(&Value::Object(top)).expect("JSON values serialise");
    if blobs.is_empty() {
        return (body, None);
    }
    let json_len = body.len();
    for b in blobs {
        body.extend_from_slice(&b);
    }
    (body, Some(json_len))
}

/// Keeps the outputs asked for, in the order asked (all, in model order, when none are named);
/// an unknown name is an error.
pub fn select_outputs(
    mut all: Vec<Tensor>,
    requested: &[RequestedOutput],
) -> Result<Vec<Tensor>, ApiError> {
    if requested.is_empty() {
        return Ok(all);
    }
    let mut out = Vec::with_capacity(requested.len());
    for r in requested {
        let i = all
            .iter()
            .position(|t| t.name == r.name)
            .ok_or_else(|| ApiError::bad_request(format!("unknown output {:?}", r.name)))?;
        out.push(all.swap_remove(i));
    }
    Ok(out)
}

/// Whether a request asks for an output the model does not have.
pub fn check_requested_outputs(
    requested: &[RequestedOutput],
    known: &[&str],
) -> Result<(), ApiError> {
    for r in requested {
        if !known.contains(&r.name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "unknown output {:?}; the outputs are {known:?}",
                r.name
            )));
        }
    }
    Ok(())
}

/// The data of a response tensor as an owned value (helper for tests and encoders).
pub fn output(name: &str, shape: Vec<usize>, data: Data) -> Tensor {
    Tensor::new(name, shape, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::encode_bytes_elements;
    use serde_json::json;

    fn binary_body(header: &Value, blobs: &[&[u8]]) -> (Vec<u8>, usize) {
        let mut b = serde_json::to_vec(header).unwrap();
        let n = b.len();
        for x in blobs {
            b.extend_from_slice(x);
        }
        (b, n)
    }

    #[test]
    fn malformed_requests_are_bad_requests() {
        let cases: Vec<&[u8]> = vec![
            b"",
            b"{",
            b"[]",
            b"{\"inputs\": 3}",
            b"{}",
            b"{\"inputs\": [3]}",
            b"{\"inputs\": [{\"datatype\": \"FP32\", \"shape\": [1], \"data\": [1]}]}",
            b"{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"data\": [1]}]}",
            b"{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"data\": [1]}]}",
            b"{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1]}]}",
            b"{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": \"1\", \"data\": [1]}]}",
            b"{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [-1], \"data\": [1]}]}",
            b"{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP33\", \"shape\": [1], \"data\": [1]}]}",
            b"{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [2], \"data\": [1]}]}",
            b"{\"id\": 5, \"inputs\": []}",
            b"{\"parameters\": [], \"inputs\": []}",
            b"{\"parameters\": {\"a\": [1]}, \"inputs\": []}",
            b"{\"inputs\": [], \"outputs\": {}}",
            b"{\"inputs\": [], \"outputs\": [{\"nom\": \"x\"}]}",
            b"{\"inputs\": [], \"outputs\": [{\"name\": \"x\", \"parameters\": {\"binary_data\": 1}}]}",
            b"{\"inputs\": [{\"name\": \"x\", \"datatype\": \"INT64\", \"shape\": [1], \"data\": [1]}, {\"name\": \"x\", \"datatype\": \"INT64\", \"shape\": [1], \"data\": [1]}]}",
        ];
        for c in cases {
            let e = parse_rest(c, None).unwrap_err();
            assert_eq!(e.http_status(), 400, "{}", String::from_utf8_lossy(c));
        }
    }

    #[test]
    fn bad_binary_framing_is_refused() {
        let h = json!({"inputs": [{"name": "x", "datatype": "FP32", "shape": [2], "parameters": {"binary_data_size": 8}}]});
        let (b, n) = binary_body(&h, &[&[0u8; 8]]);
        // Header length beyond the body.
        assert!(parse_rest(&b, Some(b.len() + 1)).is_err());
        // Header length that cuts the JSON.
        assert!(parse_rest(&b, Some(n - 1)).is_err());
        // Binary data missing, short, or left over.
        assert!(parse_rest(&b[..n], Some(n)).is_err());
        assert!(parse_rest(&b[..n + 4], Some(n)).is_err());
        let (extra, n2) = binary_body(&h, &[&[0u8; 12]]);
        assert!(parse_rest(&extra, Some(n2)).is_err());
        // binary_data_size for the wrong element size.
        let h3 = json!({"inputs": [{"name": "x", "datatype": "FP32", "shape": [3], "parameters": {"binary_data_size": 8}}]});
        let (b3, n3) = binary_body(&h3, &[&[0u8; 8]]);
        assert!(parse_rest(&b3, Some(n3)).is_err());
        // Both data and binary.
        let h4 = json!({"inputs": [{"name": "x", "datatype": "FP32", "shape": [2], "data": [1, 2], "parameters": {"binary_data_size": 8}}]});
        let (b4, n4) = binary_body(&h4, &[&[0u8; 8]]);
        assert!(parse_rest(&b4, Some(n4)).is_err());
        let h5 = json!({"inputs": [{"name": "x", "datatype": "FP32", "shape": [2], "parameters": {"binary_data_size": -8}}]});
        let (b5, n5) = binary_body(&h5, &[&[0u8; 8]]);
        assert!(parse_rest(&b5, Some(n5)).is_err());
    }

    #[test]
    fn binary_and_json_inputs_are_read_in_order() {
        let img1 = b"\x89PNG....".to_vec();
        let img2 = b"JFIF".to_vec();
        let bytes = encode_bytes_elements(&[img1.clone(), img2.clone()]);
        let floats: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|f| f.to_le_bytes()).collect();
        let h = json!({
            "id": "r1",
            "parameters": {"topk": 3, "threshold": 0.25, "binary_data_output": true},
            "inputs": [
                {"name": "image", "datatype": "BYTES", "shape": [2], "parameters": {"binary_data_size": bytes.len()}},
                {"name": "j", "datatype": "INT32", "shape": [1, 2], "data": [[5, 6]]},
                {"name": "x", "datatype": "FP32", "shape": [2], "parameters": {"binary_data_size": 8}}
            ],
            "outputs": [{"name": "label", "parameters": {"binary_data": false}}, {"name": "score"}]
        });
        let (b, n) = binary_body(&h, &[&bytes, &floats]);
        let r = parse_rest(&b, Some(n)).unwrap();
        assert_eq!(r.id.as_deref(), Some("r1"));
        assert_eq!(r.params.positive("topk").unwrap(), Some(3));
        assert_eq!(r.params.f64("threshold").unwrap(), Some(0.25));
        assert_eq!(r.inputs[0].tensor.data, Data::Bytes(vec![img1, img2]));
        assert!(!r.inputs[0].json);
        assert_eq!(r.inputs[1].tensor.shape, vec![1, 2]);
        assert_eq!(r.inputs[1].tensor.data, Data::I32(vec![5, 6]));
        assert!(r.inputs[1].json);
        assert_eq!(r.inputs[2].tensor.data, Data::F32(vec![1.0, 2.0]));
        assert_eq!(
            r.outputs[0],
            RequestedOutput {
                name: "label".into(),
                binary: Some(false)
            }
        );
        assert_eq!(r.outputs[1].binary, None);
    }

    #[test]
    fn parameters_of_the_wrong_kind_are_refused() {
        let p = |v: Value| {
            let mut m = BTreeMap::new();
            m.insert("k".to_string(), param_from_json("k", &v).unwrap());
            Params(m)
        };
        for bad in [
            json!(0),
            json!(-2),
            json!(1.5),
            json!("x"),
            json!(true),
            json!(1e30),
        ] {
            assert!(p(bad.clone()).positive("k").is_err(), "{bad}");
        }
        assert_eq!(p(json!("7")).positive("k").unwrap(), Some(7));
        assert_eq!(p(json!(2.0)).positive("k").unwrap(), Some(2));
        for bad in [json!(true), json!("abc"), json!("nan")] {
            assert!(p(bad.clone()).f64("k").is_err(), "{bad}");
        }
        assert_eq!(p(json!("0.5")).f64("k").unwrap(), Some(0.5));
        assert!(p(json!(1)).bool("k").is_err());
        assert_eq!(Params::default().f64("k").unwrap(), None);
    }

    #[test]
    fn answers_put_binary_outputs_after_the_json_in_order() {
        let resp = InferResponse {
            model_name: "m".into(),
            model_version: "1".into(),
            id: Some("r".into()),
            outputs: vec![
                output("a", vec![2], Data::I64(vec![1, -1])),
                output("b", vec![1], Data::Bytes(vec![b"xy".to_vec()])),
                output("c", vec![1], Data::F32(vec![0.5])),
            ],
        };
        // Request-level binary_data_output with a per-output override.
        let mut params = Params::default();
        params
            .0
            .insert("binary_data_output".into(), Param::Bool(true));
        let req = InferRequest {
            params,
            outputs: vec![RequestedOutput {
                name: "c".into(),
                binary: Some(false),
            }],
            ..Default::default()
        };
        let (body, n) = encode_rest(&resp, &req);
        let n = n.unwrap();
        let head: Value = serde_json::from_slice(&body[..n]).unwrap();
        assert_eq!(head["id"], "r");
        assert_eq!(head["outputs"][0]["parameters"]["binary_data_size"], 16);
        assert_eq!(head["outputs"][1]["parameters"]["binary_data_size"], 6);
        assert_eq!(head["outputs"][2]["data"], json!([0.5]));
        assert!(head["outputs"][0].get("data").is_none());
        let tail = &body[n..];
        assert_eq!(tail.len(), 22);
        assert_eq!(&tail[..8], &1i64.to_le_bytes());
        assert_eq!(&tail[8..16], &(-1i64).to_le_bytes());
        assert_eq!(&tail[16..], &[2, 0, 0, 0, b'x', b'y']);
        // Without any binary request, plain JSON.
        let (body, n) = encode_rest(&resp, &InferRequest::default());
        assert!(n.is_none());
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["outputs"][1]["data"], json!(["xy"]));
        assert_eq!(v["outputs"][0]["shape"], json!([2]));
        assert_eq!(v["outputs"][0]["datatype"], "INT64");
    }

    #[test]
    fn unknown_requested_outputs_are_refused_and_known_ones_kept_in_order() {
        let all = vec![
            output("a", vec![1], Data::I64(vec![1])),
            output("b", vec![1], Data::I64(vec![2])),
        ];
        let r = |n: &str| RequestedOutput {
            name: n.into(),
            binary: None,
        };
        assert!(select_outputs(all.clone(), &[r("z")]).is_err());
        assert!(check_requested_outputs(&[r("z")], &["a", "b"]).is_err());
        let got = select_outputs(all.clone(), &[r("b"), r("a")]).unwrap();
        assert_eq!(got[0].name, "b");
        assert_eq!(got[1].name, "a");
        assert_eq!(select_outputs(all, &[]).unwrap().len(), 2);
    }
}
