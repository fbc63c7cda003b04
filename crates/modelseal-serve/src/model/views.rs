//! The views' tensors: metadata of the pipeline outputs, request images and raw tensors checked
//! against the model, and predictions and raw outputs turned into protocol tensors.

use base64::Engine;
use modelseal_deploy::backend::{ElemType, InputInfo, Tensor as DTensor, TensorData};
use modelseal_deploy::transforms::{Pipeline, Prepared};
use modelseal_deploy::{Prediction, Task};

use crate::error::ApiError;
use crate::protocol::{InferRequest, Params};
use crate::tensor::{Data, DataType, Tensor};

use super::TensorMeta;

/// Protocol data type of a model element type.
pub(super) fn datatype_of(e: ElemType) -> Option<DataType> {
    match e {
        ElemType::F32 => Some(DataType::F32),
        ElemType::I32 => Some(DataType::I32),
        ElemType::I64 => Some(DataType::I64),
        ElemType::Other => None,
    }
}

/// Why the raw view of a model cannot be served, if it cannot: an input or output whose element
/// type is not one the backends exchange (FP32, INT32, INT64), named with its role. Such a model
/// is still served through its pipeline view.
pub fn raw_view_refusal(inputs: &[InputInfo], outputs: &[InputInfo]) -> Option<String> {
    let odd: Vec<String> = inputs
        .iter()
        .map(|i| ("input", i))
        .chain(outputs.iter().map(|o| ("output", o)))
        .filter(|(_, t)| datatype_of(t.elem).is_none())
        .map(|(role, t)| format!("{role} {:?}", t.name))
        .collect();
    (!odd.is_empty()).then(|| {
        format!(
            "{} of an element type other than FP32, INT32 and INT64, which the inference backends \
             cannot exchange",
            odd.join(", ")
        )
    })
}

pub(super) fn task_outputs(task: Task) -> Vec<TensorMeta> {
    match task {
        Task::Classify => vec![
            TensorMeta::new("class_id", DataType::I64, &[-1]),
            TensorMeta::new("score", DataType::F32, &[-1]),
            TensorMeta::new("label", DataType::Bytes, &[-1]),
        ],
        Task::Detect => vec![
            TensorMeta::new("num_detections", DataType::I32, &[-1]),
            TensorMeta::new("boxes", DataType::F32, &[-1, -1, 4]),
            TensorMeta::new("scores", DataType::F32, &[-1, -1]),
            TensorMeta::new("class_ids", DataType::I64, &[-1, -1]),
            TensorMeta::new("labels", DataType::Bytes, &[-1, -1]),
        ],
        Task::Segment => vec![TensorMeta::new("label_map", DataType::U8, &[-1, -1, -1])],
    }
}

/// Per-request options of the pipeline view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PipelineOptions {
    /// Detection: keep boxes with a score of at least this.
    pub threshold: Option<f32>,
    /// Classification: the K best classes (outputs become `[N, K]` when K > 1).
    pub topk: usize,
}

impl PipelineOptions {
    /// Reads `threshold` and `topk`.
    pub fn from_params(p: &Params) -> Result<PipelineOptions, ApiError> {
        let threshold = p.f64("threshold")?.map(|t| t as f32);
        let topk = p.positive("topk")?.unwrap_or(1);
        Ok(PipelineOptions { threshold, topk })
    }
}

/// Builds the pipeline view's outputs for a request's predictions (one per image).
pub fn pipeline_outputs(
    task: Task,
    preds: &[Prediction],
    opts: &PipelineOptions,
) -> Result<Vec<Tensor>, ApiError> {
    let n = preds.len();
    let mismatch = || ApiError::Internal("the model's result does not match its task".into());
    match task {
        Task::Classify => {
            let k = opts.topk;
            let mut rows = Vec::with_capacity(n);
            for p in preds {
                let Prediction::Classes(c) = p else {
                    return Err(mismatch());
                };
                rows.push(&c[..k.min(c.len())]);
            }
            // Every row has the same length: min(K, classes).
            let kk = rows.iter().map(|r| r.len()).min().unwrap_or(0);
            if kk == 0 {
                return Err(ApiError::Internal(
                    "the classifier returned no class".into(),
                ));
            }
            let ids = rows
                .iter()
                .flat_map(|r| r[..kk].iter().map(|c| c.class_id as i64))
                .collect();
            let scores = rows
                .iter()
                .flat_map(|r| r[..kk].iter().map(|c| c.score))
                .collect();
            let labels = rows
                .iter()
                .flat_map(|r| r[..kk].iter().map(|c| c.label.as_bytes().to_vec()))
                .collect();
            let shape = if k > 1 { vec![n, kk] } else { vec![n] };
            Ok(vec![
                Tensor::new("class_id", shape.clone(), Data::I64(ids)),
                Tensor::new("score", shape.clone(), Data::F32(scores)),
                Tensor::new("label", shape, Data::Bytes(labels)),
            ])
        }
        Task::Detect => {
            let mut kept = Vec::with_capacity(n);
            for p in preds {
                let Prediction::Boxes(b) = p else {
                    return Err(mismatch());
                };
                let b: Vec<_> = b
                    .iter()
                    .filter(|d| opts.threshold.is_none_or(|t| d.score >= t))
                    .collect();
                kept.push(b);
            }
            let k = kept.iter().map(|b| b.len()).max().unwrap_or(0);
            let mut num = Vec::with_capacity(n);
            let mut boxes = Vec::with_capacity(n * k * 4);
            let mut scores = Vec::with_capacity(n * k);
            let mut ids = Vec::with_capacity(n * k);
            let mut labels = Vec::with_capacity(n * k);
            for b in &kept {
                num.push(b.len() as i32);
                for d in b {
                    boxes.extend_from_slice(&d.bbox);
                    scores.push(d.score);
                    ids.push(d.class_id as i64);
                    labels.push(d.label.as_bytes().to_vec());
                }
                // Padding up to the largest count of the request.
                for _ in b.len()..k {
                    boxes.extend_from_slice(&[0.0; 4]);
                    scores.push(0.0);
                    ids.push(-1);
                    labels.push(Vec::new());
                }
            }
            Ok(vec![
                Tensor::new("num_detections", vec![n], Data::I32(num)),
                Tensor::new("boxes", vec![n, k, 4], Data::F32(boxes)),
                Tensor::new("scores", vec![n, k], Data::F32(scores)),
                Tensor::new("class_ids", vec![n, k], Data::I64(ids)),
                Tensor::new("labels", vec![n, k], Data::Bytes(labels)),
            ])
        }
        Task::Segment => {
            let mut size = None;
            let mut data = Vec::new();
            for p in preds {
                let Prediction::Segmentation(s) = p else {
                    return Err(mismatch());
                };
                match size {
                    None => size = Some((s.height, s.width)),
                    Some(hw) if hw != (s.height, s.width) => {
                        return Err(ApiError::bad_request(
                            "segmentation: all images of a request must have the same size",
                        ))
                    }
                    Some(_) => {}
                }
                data.extend_from_slice(&s.labels);
            }
            let (h, w) = size.unwrap_or((0, 0));
            Ok(vec![Tensor::new(
                "label_map",
                vec![n, h, w],
                Data::U8(data),
            )])
        }
    }
}

/// Decodes and pre-processes the images of a request (on a worker thread).
pub fn prepare_images(
    images: &[Vec<u8>],
    base64_text: bool,
    pipeline: &Pipeline,
) -> Result<Vec<Prepared>, ApiError> {
    let mut out = Vec::with_capacity(images.len());
    for (i, raw) in images.iter().enumerate() {
        let origin = format!("image[{i}]");
        let decoded;
        let bytes: &[u8] = if base64_text {
            let text: Vec<u8> = raw
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            decoded = base64::engine::general_purpose::STANDARD
                .decode(&text)
                .map_err(|e| {
                    ApiError::bad_request(format!(
                        "{origin}: not base64 text of an image file ({e}); JSON requests carry images as base64"
                    ))
                })?;
            &decoded
        } else {
            raw
        };
        let mat = modelseal_deploy::image::decode(bytes, &origin)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let prep = pipeline
            .run(&mat)
            .map_err(|e| ApiError::bad_request(format!("{origin}: {e}")))?;
        out.push(prep);
    }
    Ok(out)
}

/// Checks raw-view inputs against the model's and converts them.
pub fn raw_inputs(
    model_inputs: &[InputInfo],
    req: &InferRequest,
) -> Result<Vec<(String, DTensor)>, ApiError> {
    for i in &req.inputs {
        if !model_inputs.iter().any(|m| m.name == i.tensor.name) {
            return Err(ApiError::bad_request(format!(
                "unknown input {:?}; the model's inputs are {:?}",
                i.tensor.name,
                model_inputs.iter().map(|m| &m.name).collect::<Vec<_>>()
            )));
        }
    }
    let mut out = Vec::with_capacity(model_inputs.len());
    for m in model_inputs {
        let i = req
            .inputs
            .iter()
            .find(|i| i.tensor.name == m.name)
            .ok_or_else(|| ApiError::bad_request(format!("missing input {:?}", m.name)))?;
        let want = datatype_of(m.elem).ok_or_else(|| {
            ApiError::bad_request(format!(
                "input {}: the model's element type is not FP32, INT32 or INT64, the types the inference backends take",
                m.name
            ))
        })?;
        let t = &i.tensor;
        if t.data.datatype() != want {
            return Err(ApiError::bad_request(format!(
                "input {}: datatype {} where the model takes {}",
                m.name,
                t.data.datatype().name(),
                want.name()
            )));
        }
        let fits = t.shape.len() == m.shape.len()
            && t.shape
                .iter()
                .zip(&m.shape)
                .all(|(&d, &md)| d > 0 && (md < 0 || d as i64 == md));
        if !fits {
            return Err(ApiError::bad_request(format!(
                "input {}: shape {:?} does not fit the model's {:?} (-1: any size)",
                m.name, t.shape, m.shape
            )));
        }
        let data = match &t.data {
            Data::F32(v) => TensorData::F32(v.clone()),
            Data::I32(v) => TensorData::I32(v.clone()),
            Data::I64(v) => TensorData::I64(v.clone()),
            _ => unreachable!("checked against the model's type"),
        };
        out.push((
            m.name.clone(),
            DTensor {
                shape: t.shape.clone(),
                data,
            },
        ));
    }
    Ok(out)
}

/// Converts the model's raw outputs to protocol tensors.
pub fn raw_outputs(names: &[InputInfo], outs: Vec<DTensor>) -> Vec<Tensor> {
    names
        .iter()
        .zip(outs)
        .map(|(info, t)| {
            let data = match t.data {
                TensorData::F32(v) => Data::F32(v),
                TensorData::I32(v) => Data::I32(v),
                TensorData::I64(v) => Data::I64(v),
            };
            Tensor::new(info.name.clone(), t.shape, data)
        })
        .collect()
}
