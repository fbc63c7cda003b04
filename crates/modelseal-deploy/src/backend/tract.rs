//! tract backend: pure-Rust ONNX inference, the fallback that builds anywhere.
//! Plans are optimised per input shape and cached.

use std::collections::HashMap;
use std::sync::Arc;

use tract_linalg::multithread::{multithread_tract_scope, Executor};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use super::{Backend, BackendOptions, ElemType, InputInfo, Tensor as T, TensorData};
use crate::error::{Error, Result};

const NAME: &str = "tract";

fn err(message: impl Into<String>) -> Error {
    Error::Backend {
        backend: NAME,
        message: message.into(),
    }
}

type Plan = Arc<TypedRunnableModel>;

/// A parsed model plus optimised plans per input shape set.
pub struct TractBackend {
    model: InferenceModel,
    model_name: String,
    inputs: Vec<InputInfo>,
    outputs: Vec<String>,
    output_infos: Vec<InputInfo>,
    plans: HashMap<Vec<Vec<usize>>, Plan>,
    /// tract's kernels run on this pool (`--thread_num` > 1), else on the calling thread.
    executor: Executor,
}

/// An executor for `threads` intra-op threads: the calling thread alone for 0 or 1, else a
/// private pool of that many threads.
fn executor(threads: Option<usize>) -> Result<Executor> {
    match threads {
        None | Some(0) | Some(1) => Ok(Executor::SingleThread),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("modelseal-tract-{i}"))
            .build()
            .map(|pool| Executor::MultiThread(Arc::new(pool)))
            .map_err(|e| err(format!("thread_num {n}: cannot start the threads: {e}"))),
    }
}

/// The element type of an ONNX `TensorProto.DataType` code.
fn elem_of_onnx(code: i32) -> ElemType {
    use tract_onnx::pb::tensor_proto::DataType as D;
    match D::try_from(code) {
        Ok(D::Float) => ElemType::F32,
        Ok(D::Int32) => ElemType::I32,
        Ok(D::Int64) => ElemType::I64,
        _ => ElemType::Other,
    }
}

/// The element type of a tract datum type.
fn elem_of_datum(dt: DatumType) -> ElemType {
    match dt {
        DatumType::F32 => ElemType::F32,
        DatumType::I32 => ElemType::I32,
        DatumType::I64 => ElemType::I64,
        _ => ElemType::Other,
    }
}

/// A tensor as the ONNX graph declares it (a graph input or output): its element type and, when
/// the declaration has a shape, each dimension (`-1` for a named or unknown one). `None` when the
/// declaration carries no tensor type.
fn declared(v: &tract_onnx::pb::ValueInfoProto) -> Option<(ElemType, Option<Vec<i64>>)> {
    use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
    use tract_onnx::pb::type_proto::Value as Type;
    let Some(Type::TensorType(t)) = v.r#type.as_ref()?.value.as_ref() else {
        return None;
    };
    if t.elem_type == 0 {
        return None;
    }
    let shape = t.shape.as_ref().map(|s| {
        s.dim
            .iter()
            .map(|d| match d.value {
                Some(Dim::DimValue(n)) if n >= 0 => n,
                _ => -1,
            })
            .collect()
    });
    Some((elem_of_onnx(t.elem_type), shape))
}

/// The dimensions of a tract shape, `-1` for a symbolic one.
fn dims_of<'a>(dims: impl IntoIterator<Item = &'a TDim>) -> Vec<i64> {
    dims.into_iter().map(|d| d.to_i64().unwrap_or(-1)).collect()
}

/// The model after tract's type and shape analysis, each input dimension the model leaves free
/// standing for a symbol of its own; `None` when the analysis does not conclude.
fn analysed(parsed: &InferenceModel) -> Option<TypedModel> {
    let mut m = parsed.clone();
    for i in 0..m.input_outlets().ok()?.len() {
        let fact = m.input_fact(i).ok()?.clone();
        if fact.shape.is_open() {
            return None;
        }
        let dt = fact.datum_type.concretize().unwrap_or(DatumType::F32);
        let shape: TVec<TDim> = fact
            .shape
            .dims()
            .enumerate()
            .map(|(d, f)| {
                f.concretize()
                    .unwrap_or_else(|| m.symbols.new_with_prefix(&format!("in{i}_{d}_")).into())
            })
            .collect();
        m = m
            .with_input_fact(i, InferenceFact::dt_shape(dt, shape))
            .ok()?;
    }
    m.into_typed().ok()
}

/// The ONNX front end, as this backend uses it: declared output shapes and value infos are left
/// to tract's own analysis (they are only read to describe the model).
fn onnx() -> tract_onnx::Onnx {
    tract_onnx::onnx()
        .with_ignore_output_shapes(true)
        .with_ignore_value_info(true)
}

fn load_error(model: &str, e: TractError) -> Error {
    Error::ModelLoad {
        backend: NAME,
        model: model.to_string(),
        message: format!("{e:#}"),
    }
}

impl TractBackend {
    /// Parses `model_bytes` (the caller wipes its copy afterwards). The inputs and outputs are
    /// described as the ONNX graph declares them (element type, shape with `-1` for a free
    /// dimension), as ONNX Runtime reports them; what the graph leaves undeclared is taken from
    /// tract's analysis of the model.
    pub fn load(model_bytes: &[u8], model: &str, opts: &BackendOptions) -> Result<Self> {
        let proto = onnx()
            .proto_model_for_read(&mut std::io::Cursor::new(model_bytes))
            .map_err(|e| load_error(model, e))?;
        Self::from_proto(&proto, model, opts)
    }

    /// Builds the backend from a decoded ONNX model.
    fn from_proto(
        proto: &tract_onnx::pb::ModelProto,
        model: &str,
        opts: &BackendOptions,
    ) -> Result<Self> {
        let executor = executor(opts.threads)?;
        let (declared_inputs, declared_outputs) = match proto.graph.as_ref() {
            Some(g) => {
                let of = |list: &[tract_onnx::pb::ValueInfoProto]| -> HashMap<String, _> {
                    list.iter()
                        .filter_map(|v| declared(v).map(|d| (v.name.clone(), d)))
                        .collect()
                };
                (of(&g.input), of(&g.output))
            }
            None => Default::default(),
        };
        let parsed = onnx()
            .model_for_proto_model(proto)
            .map_err(|e| load_error(model, e))?;

        let mut inputs = Vec::new();
        for (i, o) in parsed
            .input_outlets()
            .map_err(|e| err(e.to_string()))?
            .iter()
            .enumerate()
        {
            let name = parsed.node(o.node).name.clone();
            let fact = parsed.input_fact(i).map_err(|e| err(e.to_string()))?;
            let (decl_elem, decl_shape) = declared_inputs
                .get(&name)
                .cloned()
                .map_or((None, None), |(e, s)| (Some(e), s));
            // An input of unknown type is fed as float32.
            let elem = decl_elem
                .or_else(|| fact.datum_type.concretize().map(elem_of_datum))
                .unwrap_or(ElemType::F32);
            let shape = decl_shape
                .or_else(|| fact.shape.concretize().map(|d| dims_of(&d)))
                .unwrap_or_default();
            inputs.push(InputInfo { name, elem, shape });
        }

        let mut outputs = Vec::new();
        let mut output_infos: Vec<Option<InputInfo>> = Vec::new();
        for o in parsed.output_outlets().map_err(|e| err(e.to_string()))? {
            let name = parsed
                .outlet_label(*o)
                .map(str::to_string)
                .unwrap_or_else(|| parsed.node(o.node).name.clone());
            output_infos.push(match declared_outputs.get(&name) {
                Some((elem, Some(shape))) => Some(InputInfo {
                    name: name.clone(),
                    elem: *elem,
                    shape: shape.clone(),
                }),
                _ => None,
            });
            outputs.push(name);
        }
        // Outputs the graph does not declare completely: their facts after tract's analysis.
        let output_infos = if output_infos.iter().all(Option::is_some) {
            output_infos.into_iter().flatten().collect()
        } else {
            let typed = analysed(&parsed);
            output_infos
                .into_iter()
                .enumerate()
                .map(|(i, known)| {
                    known.unwrap_or_else(|| {
                        let name = outputs[i].clone();
                        let decl_elem = declared_outputs.get(&name).map(|(e, _)| *e);
                        match typed.as_ref().and_then(|t| t.output_fact(i).ok()) {
                            Some(f) => InputInfo {
                                elem: decl_elem.unwrap_or_else(|| elem_of_datum(f.datum_type)),
                                shape: dims_of(f.shape.iter()),
                                name,
                            },
                            None => InputInfo {
                                elem: decl_elem.unwrap_or(ElemType::Other),
                                shape: Vec::new(),
                                name,
                            },
                        }
                    })
                })
                .collect()
        };
        Ok(TractBackend {
            model: parsed,
            model_name: model.to_string(),
            inputs,
            outputs,
            output_infos,
            plans: HashMap::new(),
            executor,
        })
    }

    fn plan(&mut self, shapes: &[(usize, Vec<usize>, DatumType)]) -> Result<Plan> {
        let key: Vec<Vec<usize>> = shapes.iter().map(|s| s.1.clone()).collect();
        if let Some(p) = self.plans.get(&key) {
            return Ok(p.clone());
        }
        let mut m = self.model.clone();
        for (i, shape, dt) in shapes {
            m = m
                .with_input_fact(*i, InferenceFact::dt_shape(*dt, shape.clone()))
                .map_err(|e| err(format!("input {i}: {e}")))?;
        }
        let plan = m
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| Error::ModelLoad {
                backend: "tract",
                model: self.model_name.clone(),
                message: format!("no plan for input shapes {key:?}: {e:#}"),
            })?;
        self.plans.insert(key, plan.clone());
        Ok(plan)
    }
}

impl Backend for TractBackend {
    fn name(&self) -> &'static str {
        NAME
    }
    fn inputs(&self) -> &[InputInfo] {
        &self.inputs
    }
    fn output_names(&self) -> &[String] {
        &self.outputs
    }
    fn output_infos(&self) -> Vec<InputInfo> {
        self.output_infos.clone()
    }
    fn run(&mut self, inputs: &[(String, T)]) -> Result<Vec<T>> {
        let mut ordered: Vec<(usize, Tensor)> = Vec::new();
        let mut shapes = Vec::new();
        for (i, info) in self.inputs.iter().enumerate() {
            let (_, t) = inputs
                .iter()
                .find(|(n, _)| *n == info.name)
                .ok_or_else(|| err(format!("input {} not given", info.name)))?;
            let tensor = match &t.data {
                TensorData::F32(d) => Tensor::from_shape(&t.shape, d),
                TensorData::I32(d) => Tensor::from_shape(&t.shape, d),
                TensorData::I64(d) => Tensor::from_shape(&t.shape, d),
            }
            .map_err(|e| err(format!("input {}: {e}", info.name)))?;
            shapes.push((i, t.shape.clone(), tensor.datum_type()));
            ordered.push((i, tensor));
        }
        let plan = self.plan(&shapes)?;
        let inputs = ordered.into_iter().map(|(_, t)| t.into()).collect();
        let outs = multithread_tract_scope(self.executor.clone(), || plan.run(inputs))
            .map_err(|e| err(format!("inference failed: {e:#}")))?;
        let mut result = Vec::with_capacity(outs.len());
        for (i, o) in outs.iter().enumerate() {
            let shape = o.shape().to_vec();
            let data = match o.datum_type() {
                DatumType::F32 => TensorData::F32(values(o)?),
                DatumType::I64 => TensorData::I64(values(o)?),
                DatumType::I32 => TensorData::I32(values(o)?),
                dt => {
                    let c = o
                        .cast_to::<f32>()
                        .map_err(|e| err(format!("output {i} of type {dt:?}: {e}")))?;
                    TensorData::F32(values(&c)?)
                }
            };
            result.push(T { shape, data });
        }
        Ok(result)
    }
}

/// The elements of an output tensor, in order.
fn values<D: Datum + Copy>(t: &Tensor) -> Result<Vec<D>> {
    Ok(t.to_plain_array_view::<D>()
        .map_err(|e| err(e.to_string()))?
        .iter()
        .copied()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb;

    fn data(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name)
            .join("model.onnx")
    }

    fn info(name: &str, elem: ElemType, shape: &[i64]) -> InputInfo {
        InputInfo {
            name: name.into(),
            elem,
            shape: shape.to_vec(),
        }
    }

    fn tensor_type(
        elem: i32,
        dims: Option<Vec<Option<pb::tensor_shape_proto::dimension::Value>>>,
    ) -> pb::ValueInfoProto {
        pb::ValueInfoProto {
            name: "t".into(),
            r#type: Some(pb::TypeProto {
                denotation: String::new(),
                value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                    elem_type: elem,
                    shape: dims.map(|d| pb::TensorShapeProto {
                        dim: d
                            .into_iter()
                            .map(|value| pb::tensor_shape_proto::Dimension {
                                denotation: String::new(),
                                value,
                            })
                            .collect(),
                    }),
                })),
            }),
            doc_string: String::new(),
        }
    }

    #[test]
    fn declarations_give_element_types_and_free_dimensions_as_minus_one() {
        use pb::tensor_proto::DataType as D;
        use pb::tensor_shape_proto::dimension::Value as V;
        let v = tensor_type(
            D::Float as i32,
            Some(vec![
                Some(V::DimParam("N".into())),
                Some(V::DimValue(3)),
                None,
            ]),
        );
        assert_eq!(declared(&v), Some((ElemType::F32, Some(vec![-1, 3, -1]))));
        let v = tensor_type(D::Int64 as i32, None);
        assert_eq!(declared(&v), Some((ElemType::I64, None)));
        let v = tensor_type(D::Float16 as i32, Some(vec![]));
        assert_eq!(declared(&v), Some((ElemType::Other, Some(vec![]))));
        assert_eq!(declared(&tensor_type(0, None)), None);
        let untyped = pb::ValueInfoProto {
            name: "t".into(),
            ..Default::default()
        };
        assert_eq!(declared(&untyped), None);
    }

    #[test]
    fn models_are_described_as_they_declare_their_tensors() {
        let opts = BackendOptions::default();
        let load = |name: &str| {
            let bytes = std::fs::read(data(name)).unwrap();
            TractBackend::load(&bytes, name, &opts).unwrap()
        };
        // As ONNX Runtime reports them (a dimension without value: -1).
        let b = load("seg_argmax");
        assert_eq!(b.inputs(), [info("x", ElemType::F32, &[-1, 3, -1, -1])]);
        assert_eq!(
            b.output_infos(),
            [info("argmax_0.tmp_0", ElemType::I64, &[-1, -1, -1])]
        );
        let b = load("nms_det");
        assert_eq!(
            b.inputs(),
            [
                info("image", ElemType::F32, &[1, 3, -1, -1]),
                info("im_shape", ElemType::F32, &[1, 2]),
                info("scale_factor", ElemType::F32, &[1, 2]),
            ]
        );
        assert_eq!(
            b.output_infos(),
            [
                info("multiclass_nms3_0.tmp_0", ElemType::F32, &[2, 6]),
                info("multiclass_nms3_0.tmp_2", ElemType::I32, &[1]),
            ]
        );
        let b = load("paddlex_yolo");
        assert_eq!(
            b.inputs(),
            [
                info("image", ElemType::F32, &[1, 3, -1, -1]),
                info("im_size", ElemType::I32, &[1, 2]),
            ]
        );
        assert_eq!(b.output_infos(), [info("bbox", ElemType::F32, &[1, 6])]);
    }

    #[test]
    fn undeclared_outputs_are_described_from_tracts_analysis() {
        let bytes = std::fs::read(data("seg_argmax")).unwrap();
        let mut proto = onnx()
            .proto_model_for_read(&mut std::io::Cursor::new(&bytes[..]))
            .unwrap();
        let g = proto.graph.as_mut().unwrap();
        g.output[0].r#type = None;
        let b = TractBackend::from_proto(&proto, "seg_argmax", &BackendOptions::default()).unwrap();
        assert_eq!(
            b.output_infos(),
            [info("argmax_0.tmp_0", ElemType::I64, &[-1, -1, -1])]
        );
        // Without a declared shape only the shape comes from the analysis.
        let mut proto = proto.clone();
        let g = proto.graph.as_mut().unwrap();
        g.output[0] = tensor_type(pb::tensor_proto::DataType::Int64 as i32, None);
        g.output[0].name = "argmax_0.tmp_0".into();
        let b = TractBackend::from_proto(&proto, "seg_argmax", &BackendOptions::default()).unwrap();
        assert_eq!(
            b.output_infos(),
            [info("argmax_0.tmp_0", ElemType::I64, &[-1, -1, -1])]
        );
    }
}
