//! The gRPC front end: `inference.GRPCInferenceService` (ServerLive, ServerReady, ModelReady,
//! ServerMetadata, ModelMetadata, ModelInfer) over tonic, with typed or raw tensor contents.

use std::collections::BTreeMap;
use std::sync::Arc;

use prost::bytes::Bytes;
use tonic::{Request, Response, Status};

use crate::app::{App, EXTENSIONS, SERVER_NAME};
use crate::error::ApiError;
use crate::model::VERSION;
use crate::pb::inference as pb;
use crate::pb::inference::grpc_inference_service_server::GrpcInferenceService;
use crate::protocol::{InferRequest, InferResponse, Input, Param, Params, RequestedOutput};
use crate::tensor::{self, Data, DataType, Tensor};

pub use crate::pb::inference::grpc_inference_service_server::GrpcInferenceServiceServer;

/// The service implementation.
pub struct Service {
    app: Arc<App>,
}

impl Service {
    /// A service over the shared state.
    pub fn new(app: Arc<App>) -> Service {
        Service { app }
    }
}

fn param_from_pb(p: &pb::InferParameter) -> Option<Param> {
    use pb::infer_parameter::ParameterChoice as C;
    Some(match p.parameter_choice.as_ref()? {
        C::BoolParam(b) => Param::Bool(*b),
        C::Int64Param(i) => Param::Int(*i),
        C::StringParam(s) => Param::Str(s.clone()),
        C::DoubleParam(d) => Param::Float(*d),
        C::Uint64Param(u) => Param::UInt(*u),
    })
}

fn params_from_pb(m: &std::collections::HashMap<String, pb::InferParameter>) -> Params {
    Params(
        m.iter()
            .filter_map(|(k, v)| param_from_pb(v).map(|p| (k.clone(), p)))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn narrow<S: Copy + std::fmt::Display, T: TryFrom<S>>(
    name: &str,
    dt: DataType,
    v: &[S],
) -> Result<Vec<T>, ApiError> {
    v.iter()
        .map(|&x| {
            T::try_from(x).map_err(|_| {
                ApiError::bad_request(format!(
                    "input {name}: {x} is out of range for {}",
                    dt.name()
                ))
            })
        })
        .collect()
}

/// Reads typed gRPC contents for a tensor of data type `dt` and shape `shape`.
pub fn data_from_contents(
    name: &str,
    dt: DataType,
    shape: &[usize],
    c: Option<&pb::InferTensorContents>,
) -> Result<Data, ApiError> {
    let empty = pb::InferTensorContents::default();
    let c = c.unwrap_or(&empty);
    let data = match dt {
        DataType::Bool => Data::Bool(c.bool_contents.clone()),
        DataType::I8 => Data::I8(narrow(name, dt, &c.int_contents)?),
        DataType::I16 => Data::I16(narrow(name, dt, &c.int_contents)?),
        DataType::I32 => Data::I32(c.int_contents.clone()),
        DataType::I64 => Data::I64(c.int64_contents.clone()),
        DataType::U8 => Data::U8(narrow(name, dt, &c.uint_contents)?),
        DataType::U16 => Data::U16(narrow(name, dt, &c.uint_contents)?),
        DataType::U32 => Data::U32(c.uint_contents.clone()),
        DataType::U64 => Data::U64(c.uint64_contents.clone()),
        DataType::F32 => Data::F32(c.fp32_contents.clone()),
        DataType::F64 => Data::F64(c.fp64_contents.clone()),
        DataType::Bytes => Data::Bytes(c.bytes_contents.iter().map(|b| b.to_vec()).collect()),
    };
    let want: usize = shape.iter().product();
    if data.len() != want {
        return Err(ApiError::bad_request(format!(
            "input {name}: shape {shape:?} needs {want} elements, the {} contents have {}",
            dt.name(),
            data.len()
        )));
    }
    Ok(data)
}

/// Reads a gRPC inference request.
pub fn request_from_pb(r: &pb::ModelInferRequest) -> Result<InferRequest, ApiError> {
    let raw = !r.raw_input_contents.is_empty();
    if raw && r.raw_input_contents.len() != r.inputs.len() {
        return Err(ApiError::bad_request(format!(
            "raw_input_contents has {} entries for {} inputs",
            r.raw_input_contents.len(),
            r.inputs.len()
        )));
    }
    let mut inputs: Vec<Input> = Vec::with_capacity(r.inputs.len());
    for (i, inp) in r.inputs.iter().enumerate() {
        let name = inp.name.clone();
        let dt = DataType::parse(&inp.datatype)
            .map_err(|e| ApiError::bad_request(format!("input {name}: {e}")))?;
        let (shape, _) = tensor::shape_from_request(&name, &inp.shape)?;
        let data = if raw {
            if inp.contents.is_some() {
                return Err(ApiError::bad_request(format!(
                    "input {name}: contents given together with raw_input_contents"
                )));
            }
            tensor::data_from_raw(&name, dt, &shape, &r.raw_input_contents[i])?
        } else {
            data_from_contents(&name, dt, &shape, inp.contents.as_ref())?
        };
        if inputs.iter().any(|x| x.tensor.name == name) {
            return Err(ApiError::bad_request(format!(
                "input {name} is given twice"
            )));
        }
        inputs.push(Input {
            tensor: Tensor::new(name, shape, data),
            json: false,
        });
    }
    Ok(InferRequest {
        id: (!r.id.is_empty()).then(|| r.id.clone()),
        params: params_from_pb(&r.parameters),
        inputs,
        outputs: r
            .outputs
            .iter()
            .map(|o| RequestedOutput {
                name: o.name.clone(),
                binary: None,
            })
            .collect(),
    })
}

/// Writes a gRPC inference answer; tensor data goes in `raw_output_contents`, as Triton does.
pub fn response_to_pb(resp: InferResponse) -> pb::ModelInferResponse {
    let mut outputs = Vec::with_capacity(resp.outputs.len());
    let mut raw = Vec::with_capacity(resp.outputs.len());
    for t in resp.outputs {
        outputs.push(pb::model_infer_response::InferOutputTensor {
            name: t.name,
            datatype: t.data.datatype().name().to_string(),
            shape: t.shape.iter().map(|&d| d as i64).collect(),
            parameters: Default::default(),
            contents: None,
        });
        raw.push(Bytes::from(tensor::data_to_raw(&t.data)));
    }
    pb::ModelInferResponse {
        model_name: resp.model_name,
        model_version: resp.model_version,
        id: resp.id.unwrap_or_default(),
        parameters: Default::default(),
        outputs,
        raw_output_contents: raw,
    }
}

fn version(v: &str) -> Option<&str> {
    (!v.is_empty()).then_some(v)
}

#[tonic::async_trait]
impl GrpcInferenceService for Service {
    async fn server_live(
        &self,
        _: Request<pb::ServerLiveRequest>,
    ) -> Result<Response<pb::ServerLiveResponse>, Status> {
        Ok(Response::new(pb::ServerLiveResponse { live: true }))
    }

    async fn server_ready(
        &self,
        _: Request<pb::ServerReadyRequest>,
    ) -> Result<Response<pb::ServerReadyResponse>, Status> {
        Ok(Response::new(pb::ServerReadyResponse {
            ready: !self.app.shutting_down(),
        }))
    }

    async fn model_ready(
        &self,
        req: Request<pb::ModelReadyRequest>,
    ) -> Result<Response<pb::ModelReadyResponse>, Status> {
        let r = req.into_inner();
        let ready = self.app.model_ready(&r.name, version(&r.version))?;
        Ok(Response::new(pb::ModelReadyResponse { ready }))
    }

    async fn server_metadata(
        &self,
        _: Request<pb::ServerMetadataRequest>,
    ) -> Result<Response<pb::ServerMetadataResponse>, Status> {
        Ok(Response::new(pb::ServerMetadataResponse {
            name: SERVER_NAME.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            extensions: EXTENSIONS.iter().map(|s| s.to_string()).collect(),
        }))
    }

    async fn model_metadata(
        &self,
        req: Request<pb::ModelMetadataRequest>,
    ) -> Result<Response<pb::ModelMetadataResponse>, Status> {
        let r = req.into_inner();
        let (m, view) = self.app.lookup(&r.name, version(&r.version))?;
        let meta = m.meta(view);
        let tensors = |v: &[crate::model::TensorMeta]| {
            v.iter()
                .map(|t| pb::model_metadata_response::TensorMetadata {
                    name: t.name.clone(),
                    datatype: t.datatype.clone(),
                    shape: t.shape.clone(),
                })
                .collect()
        };
        Ok(Response::new(pb::ModelMetadataResponse {
            name: r.name,
            versions: vec![VERSION.to_string()],
            platform: meta.platform.clone(),
            inputs: tensors(&meta.inputs),
            outputs: tensors(&meta.outputs),
        }))
    }

    async fn model_infer(
        &self,
        req: Request<pb::ModelInferRequest>,
    ) -> Result<Response<pb::ModelInferResponse>, Status> {
        let r = req.into_inner();
        let parsed = match request_from_pb(&r) {
            Ok(p) => p,
            Err(e) => {
                self.app.count_refused("grpc", &r.model_name, &e);
                return Err(e.into());
            }
        };
        drop(r.raw_input_contents);
        let resp = self
            .app
            .infer("grpc", &r.model_name, version(&r.model_version), &parsed)
            .await?;
        Ok(Response::new(response_to_pb(resp)))
    }
}

/// Turns tonic's answer to a message over the size limit (`OUT_OF_RANGE`, sent before the
/// service runs) into the protocol's `RESOURCE_EXHAUSTED`.
pub fn limit_status_to_resource_exhausted<B>(mut r: http::Response<B>) -> http::Response<B> {
    let h = r.headers();
    let out_of_range = h.get("grpc-status").is_some_and(|v| v.as_bytes() == b"11");
    let too_large = h.get("grpc-message").is_some_and(|m| {
        let m = String::from_utf8_lossy(m.as_bytes()).replace("%20", " ");
        m.contains("message length too large")
    });
    if out_of_range && too_large {
        r.headers_mut()
            .insert("grpc-status", http::HeaderValue::from_static("8"));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, dt: &str, shape: Vec<i64>) -> pb::model_infer_request::InferInputTensor {
        pb::model_infer_request::InferInputTensor {
            name: name.into(),
            datatype: dt.into(),
            shape,
            parameters: Default::default(),
            contents: None,
        }
    }

    #[test]
    fn malformed_grpc_requests_are_invalid_arguments() {
        let req = |inputs: Vec<pb::model_infer_request::InferInputTensor>, raw: Vec<Bytes>| {
            pb::ModelInferRequest {
                inputs,
                raw_input_contents: raw,
                ..Default::default()
            }
        };
        let with = |mut i: pb::model_infer_request::InferInputTensor,
                    c: pb::InferTensorContents| {
            i.contents = Some(c);
            i
        };
        let four = || vec![Bytes::from_static(&[0; 4])];
        let bad = vec![
            // Raw contents for fewer inputs than declared.
            req(
                vec![input("a", "FP32", vec![1]), input("b", "FP32", vec![1])],
                four(),
            ),
            // Typed contents of the wrong count.
            req(
                vec![with(
                    input("a", "FP32", vec![2]),
                    pb::InferTensorContents {
                        fp32_contents: vec![1.0],
                        ..Default::default()
                    },
                )],
                vec![],
            ),
            // Contents in the field of another type.
            req(
                vec![with(
                    input("a", "FP32", vec![1]),
                    pb::InferTensorContents {
                        int64_contents: vec![1],
                        ..Default::default()
                    },
                )],
                vec![],
            ),
            // Out of range for UINT8.
            req(
                vec![with(
                    input("a", "UINT8", vec![1]),
                    pb::InferTensorContents {
                        uint_contents: vec![300],
                        ..Default::default()
                    },
                )],
                vec![],
            ),
            // Unknown datatype, negative shape, raw bytes of the wrong size, both forms at once.
            req(vec![input("a", "FLOAT", vec![1])], vec![]),
            req(vec![input("a", "FP32", vec![-1])], vec![]),
            req(vec![input("a", "FP32", vec![2])], four()),
            req(
                vec![with(
                    input("a", "FP32", vec![1]),
                    pb::InferTensorContents::default(),
                )],
                four(),
            ),
        ];
        for r in bad {
            let e = request_from_pb(&r).unwrap_err();
            assert_eq!(e.grpc_code(), tonic::Code::InvalidArgument, "{r:?}");
        }
    }

    #[test]
    fn raw_and_typed_requests_read_alike() {
        let img = vec![b"abc".to_vec(), b"de".to_vec()];
        let mut r = pb::ModelInferRequest {
            model_name: "m".into(),
            id: "7".into(),
            inputs: vec![input("image", "BYTES", vec![2])],
            raw_input_contents: vec![Bytes::from(tensor::encode_bytes_elements(&img))],
            ..Default::default()
        };
        r.parameters.insert(
            "topk".into(),
            pb::InferParameter {
                parameter_choice: Some(pb::infer_parameter::ParameterChoice::Int64Param(2)),
            },
        );
        let a = request_from_pb(&r).unwrap();
        let mut t = r.clone();
        t.raw_input_contents.clear();
        t.inputs[0].contents = Some(pb::InferTensorContents {
            bytes_contents: img.iter().map(|b| Bytes::from(b.clone())).collect(),
            ..Default::default()
        });
        let b = request_from_pb(&t).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.id.as_deref(), Some("7"));
        assert_eq!(a.params.positive("topk").unwrap(), Some(2));
        assert_eq!(a.inputs[0].tensor.data, Data::Bytes(img));
        assert!(!a.inputs[0].json);
    }

    #[test]
    fn answers_carry_raw_contents_in_output_order() {
        let resp = InferResponse {
            model_name: "m".into(),
            model_version: "1".into(),
            id: None,
            outputs: vec![
                Tensor::new("a", vec![1, 2], Data::F32(vec![1.0, 2.0])),
                Tensor::new("b", vec![1], Data::Bytes(vec![b"x".to_vec()])),
            ],
        };
        let p = response_to_pb(resp);
        assert_eq!(p.outputs[0].datatype, "FP32");
        assert_eq!(p.outputs[0].shape, vec![1, 2]);
        assert_eq!(p.raw_output_contents[0].len(), 8);
        assert_eq!(&p.raw_output_contents[1][..], &[1, 0, 0, 0, b'x']);
        assert!(p.id.is_empty());
    }

    #[test]
    fn only_the_size_limit_status_becomes_resource_exhausted() {
        let mk = |status: &'static str, msg: &'static str| {
            let mut r = http::Response::new(());
            r.headers_mut()
                .insert("grpc-status", http::HeaderValue::from_static(status));
            r.headers_mut()
                .insert("grpc-message", http::HeaderValue::from_static(msg));
            limit_status_to_resource_exhausted(r)
        };
        let r = mk(
            "11",
            "Error,%20decoded%20message%20length%20too%20large:%20found%20x",
        );
        assert_eq!(r.headers()["grpc-status"], "8");
        let r = mk("11", "something else");
        assert_eq!(r.headers()["grpc-status"], "11");
        let r = mk("3", "message length too large");
        assert_eq!(r.headers()["grpc-status"], "3");
    }
}
