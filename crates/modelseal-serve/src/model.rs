//! A served model and its two views: `NAME` (the whole pipeline: encoded images in, task
//! results out) and `NAME-raw` (the model's own tensors). Requests are decoded on a worker pool,
//! batched on the model's inference thread, and post-processed on the pool again.

use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use modelseal_deploy::backend::{ElemType, InputInfo, Tensor as DTensor, TensorData};
use modelseal_deploy::transforms::{Pipeline, Prepared};
use modelseal_deploy::{PostProcessor, Prediction, Predictor, RawOutput, Task};
use tokio::sync::oneshot;

use crate::batch::{Admission, BatchPolicy, BatchQueue};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::protocol::{self, InferRequest, Params};
use crate::tensor::{Data, DataType, Tensor};

/// The only model version.
pub const VERSION: &str = "1";

/// Which view of a model a name addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `NAME`: encoded images in, task results out.
    Pipeline,
    /// `NAME-raw`: the model's own inputs and outputs.
    Raw,
}

/// Metadata of one tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorMeta {
    /// Name.
    pub name: String,
    /// Protocol data type.
    pub datatype: String,
    /// Shape; `-1` for a variable dimension.
    pub shape: Vec<i64>,
}

impl TensorMeta {
    fn new(name: &str, datatype: DataType, shape: &[i64]) -> TensorMeta {
        TensorMeta {
            name: name.to_string(),
            datatype: datatype.name().to_string(),
            shape: shape.to_vec(),
        }
    }
}

/// Metadata of one view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewMeta {
    /// Platform string.
    pub platform: String,
    /// Inputs.
    pub inputs: Vec<TensorMeta>,
    /// Outputs.
    pub outputs: Vec<TensorMeta>,
}

/// The answer to a pipeline job: its images back, with their raw outputs.
pub type PipelineReply = oneshot::Sender<Result<(Vec<Prepared>, Vec<RawOutput>), String>>;

/// One unit of work for the inference thread.
pub enum Job {
    /// Pre-processed images; the answer hands them back with their raw outputs.
    Pipeline {
        /// Images.
        preps: Vec<Prepared>,
        /// Where the answer goes.
        reply: PipelineReply,
    },
    /// Tensors for the model as is.
    Raw {
        /// Inputs by name.
        inputs: Vec<(String, DTensor)>,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<Vec<DTensor>, String>>,
    },
}

/// A model being served.
pub struct ServedModel {
    /// Name.
    pub name: String,
    task: Task,
    pipeline: Arc<Pipeline>,
    post: PostProcessor,
    raw_inputs: Vec<InputInfo>,
    raw_outputs: Vec<InputInfo>,
    /// Metadata of `NAME`.
    pub pipeline_meta: ViewMeta,
    /// Metadata of `NAME-raw`.
    pub raw_meta: ViewMeta,
    queue: Arc<BatchQueue<Job>>,
    admission: Arc<Admission>,
    worker: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// Protocol data type of a model element type.
fn datatype_of(e: ElemType) -> Option<DataType> {
    match e {
        ElemType::F32 => Some(DataType::F32),
        ElemType::I32 => Some(DataType::I32),
        ElemType::I64 => Some(DataType::I64),
        ElemType::Other => None,
    }
}

fn task_outputs(task: Task) -> Vec<TensorMeta> {
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

fn task_name(task: Task) -> &'static str {
    match task {
        Task::Classify => "classification",
        Task::Detect => "detection",
        Task::Segment => "segmentation",
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
                "input {}: the model's element type is not one this server feeds",
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

/// Runs blocking work on the worker pool and awaits it.
pub async fn on_pool<T: Send + 'static>(
    pool: &rayon::ThreadPool,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let (tx, rx) = oneshot::channel();
    pool.spawn(move || {
        let _ = tx.send(f());
    });
    rx.await
        .map_err(|_| ApiError::Internal("a worker failed while handling the request".into()))
}

impl ServedModel {
    /// Wraps an opened predictor and starts its inference thread.
    pub fn start(
        name: &str,
        mut pred: Predictor,
        policy: BatchPolicy,
        max_queue: usize,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Arc<ServedModel>> {
        let task = pred.task();
        // All classes are ranked; each request keeps its own top-k.
        pred.set_topk(usize::MAX);
        let post = pred.postprocessor();
        let pipeline = Arc::new(pred.config().pipeline.clone());
        let raw_inputs = pred.model_inputs().to_vec();
        let raw_outputs = pred.model_outputs();
        let meta_of = |v: &[InputInfo]| {
            v.iter()
                .map(|i| TensorMeta {
                    name: i.name.clone(),
                    datatype: datatype_of(i.elem)
                        .map(|d| d.name().to_string())
                        .unwrap_or_else(|| "UNKNOWN".into()),
                    shape: i.shape.clone(),
                })
                .collect::<Vec<_>>()
        };
        let backend = pred.backend_name();
        let raw_meta = ViewMeta {
            platform: format!("{backend}_onnx"),
            inputs: meta_of(&raw_inputs),
            outputs: meta_of(&raw_outputs),
        };
        let pipeline_meta = ViewMeta {
            platform: format!("modelseal_{}", task_name(task)),
            inputs: vec![TensorMeta::new("image", DataType::Bytes, &[-1])],
            outputs: task_outputs(task),
        };
        let queue = Arc::new(BatchQueue::new());
        let q = queue.clone();
        let model_name = name.to_string();
        let worker = std::thread::Builder::new()
            .name(format!("infer-{name}"))
            .spawn(move || inference_loop(pred, &q, policy, &metrics, &model_name))?;
        Ok(Arc::new(ServedModel {
            name: name.to_string(),
            task,
            pipeline,
            post,
            raw_inputs,
            raw_outputs,
            pipeline_meta,
            raw_meta,
            queue,
            admission: Admission::new(max_queue),
            worker: std::sync::Mutex::new(Some(worker)),
        }))
    }

    /// The task.
    pub fn task(&self) -> Task {
        self.task
    }

    /// Metadata of a view.
    pub fn meta(&self, view: View) -> &ViewMeta {
        match view {
            View::Pipeline => &self.pipeline_meta,
            View::Raw => &self.raw_meta,
        }
    }

    /// Requests held now (decoding, queued, inferring).
    pub fn in_flight(&self) -> usize {
        self.admission.current()
    }

    /// Stops taking jobs; the inference thread ends once the queue is drained.
    pub fn close(&self) {
        self.queue.close();
    }

    /// Waits for the inference thread to end (after [`Self::close`]).
    pub fn join(&self) {
        let h = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = h {
            let _ = h.join();
        }
    }

    /// Runs one request on a view.
    pub async fn infer(
        self: &Arc<Self>,
        view: View,
        req: &InferRequest,
        pool: &Arc<rayon::ThreadPool>,
    ) -> Result<Vec<Tensor>, ApiError> {
        let known: Vec<&str> = self
            .meta(view)
            .outputs
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        protocol::check_requested_outputs(&req.outputs, &known)?;
        let permit = self.admission.try_admit().ok_or_else(|| {
            ApiError::Unavailable(format!(
                "model {}: too many requests queued; retry later",
                self.name
            ))
        })?;
        let out = match view {
            View::Pipeline => self.infer_pipeline(req, pool).await?,
            View::Raw => self.infer_raw(req).await?,
        };
        drop(permit);
        protocol::select_outputs(out, &req.outputs)
    }

    async fn infer_raw(&self, req: &InferRequest) -> Result<Vec<Tensor>, ApiError> {
        let inputs = raw_inputs(&self.raw_inputs, req)?;
        let (tx, rx) = oneshot::channel();
        self.queue
            .push(Job::Raw { inputs, reply: tx }, 1, true)
            .map_err(|_| ApiError::Unavailable("the server is shutting down".into()))?;
        let outs = rx
            .await
            .map_err(|_| ApiError::Internal("the inference thread stopped".into()))?
            .map_err(ApiError::Internal)?;
        Ok(raw_outputs(&self.raw_outputs, outs))
    }

    async fn infer_pipeline(
        &self,
        req: &InferRequest,
        pool: &Arc<rayon::ThreadPool>,
    ) -> Result<Vec<Tensor>, ApiError> {
        let opts = PipelineOptions::from_params(&req.params)?;
        let [input] = req.inputs.as_slice() else {
            return Err(ApiError::bad_request(format!(
                "model {} takes one input, `image` (BYTES [N]: encoded JPEG/PNG/BMP/WebP files); got {}",
                self.name,
                req.inputs.len()
            )));
        };
        if input.tensor.name != "image" {
            return Err(ApiError::bad_request(format!(
                "unknown input {:?}; model {} takes `image` (BYTES [N])",
                input.tensor.name, self.name
            )));
        }
        let Data::Bytes(images) = &input.tensor.data else {
            return Err(ApiError::bad_request(format!(
                "input image: datatype {} where BYTES (encoded image files) is expected",
                input.tensor.data.datatype().name()
            )));
        };
        if input.tensor.shape.len() != 1 || images.is_empty() {
            return Err(ApiError::bad_request(format!(
                "input image: shape {:?}; expected [N] with N >= 1",
                input.tensor.shape
            )));
        }
        let images = images.clone();
        let json = input.json;
        let pipeline = self.pipeline.clone();
        let task = self.task;
        let preps = on_pool(pool, move || {
            let preps = prepare_images(&images, json, &pipeline)?;
            if task == Task::Segment && preps.windows(2).any(|w| w[0].orig != w[1].orig) {
                return Err(ApiError::bad_request(
                    "segmentation: all images of a request must have the same size",
                ));
            }
            Ok(preps)
        })
        .await??;
        let n = preps.len();
        let (tx, rx) = oneshot::channel();
        self.queue
            .push(Job::Pipeline { preps, reply: tx }, n, false)
            .map_err(|_| ApiError::Unavailable("the server is shutting down".into()))?;
        let (preps, raws) = rx
            .await
            .map_err(|_| ApiError::Internal("the inference thread stopped".into()))?
            .map_err(ApiError::Internal)?;
        let post = self.post.clone();
        on_pool(pool, move || {
            let preds = raws
                .iter()
                .zip(&preps)
                .map(|(r, p)| post.run(r, p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            pipeline_outputs(task, &preds, &opts)
        })
        .await?
    }
}

/// The inference thread of one model: takes batches off the queue until it is closed and empty.
fn inference_loop(
    mut pred: Predictor,
    queue: &BatchQueue<Job>,
    policy: BatchPolicy,
    metrics: &Metrics,
    name: &str,
) {
    let m = metrics.model(name);
    while let Some(batch) = queue.next_batch(&policy) {
        if let Some(m) = m {
            for t in &batch {
                m.queue.observe_duration(t.waited);
            }
        }
        let start = Instant::now();
        let mut images = 0;
        let mut pipeline: Vec<(usize, oneshot::Sender<_>)> = Vec::new();
        let mut all: Vec<Prepared> = Vec::new();
        for t in batch {
            match t.job {
                Job::Raw { inputs, reply } => {
                    images += inputs
                        .first()
                        .and_then(|(_, t)| t.shape.first())
                        .copied()
                        .unwrap_or(1);
                    let r = pred.run_tensors(&inputs).map_err(|e| e.to_string());
                    let _ = reply.send(r);
                }
                Job::Pipeline { preps, reply } => {
                    pipeline.push((preps.len(), reply));
                    all.extend(preps);
                }
            }
        }
        if !all.is_empty() {
            images += all.len();
            match pred.infer_raw(&all) {
                Ok(raws) => {
                    let mut preps = all.into_iter();
                    let mut raws = raws.into_iter();
                    for (k, reply) in pipeline {
                        let p: Vec<Prepared> = preps.by_ref().take(k).collect();
                        let r: Vec<RawOutput> = raws.by_ref().take(k).collect();
                        let _ = reply.send(Ok((p, r)));
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    tracing::error!(model = name, error = %msg, "inference failed");
                    for (_, reply) in pipeline {
                        let _ = reply.send(Err(msg.clone()));
                    }
                }
            }
        }
        if let Some(m) = m {
            m.compute.observe_duration(start.elapsed());
            m.batch.observe(images as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Input;
    use modelseal_deploy::{ClassScore, DetBox, SegMap};

    fn det(id: usize, score: f32) -> DetBox {
        DetBox {
            class_id: id,
            label: format!("c{id}"),
            score,
            bbox: [1.0, 2.0, 3.0, 4.0],
        }
    }

    fn opts(threshold: Option<f32>, topk: usize) -> PipelineOptions {
        PipelineOptions { threshold, topk }
    }

    #[test]
    fn results_of_the_wrong_task_are_internal_errors() {
        let p = vec![Prediction::Boxes(vec![])];
        assert!(pipeline_outputs(Task::Classify, &p, &opts(None, 1)).is_err());
        assert!(pipeline_outputs(Task::Segment, &p, &opts(None, 1)).is_err());
        let c = vec![Prediction::Classes(vec![])];
        assert!(pipeline_outputs(Task::Detect, &c, &opts(None, 1)).is_err());
        // No class at all.
        assert!(pipeline_outputs(Task::Classify, &c, &opts(None, 1)).is_err());
    }

    #[test]
    fn segmentation_of_images_of_different_sizes_is_refused() {
        let s = |h, w| {
            Prediction::Segmentation(SegMap {
                width: w,
                height: h,
                labels: vec![0; w * h],
            })
        };
        let e = pipeline_outputs(Task::Segment, &[s(2, 3), s(3, 2)], &opts(None, 1)).unwrap_err();
        assert_eq!(e.http_status(), 400);
        let out = pipeline_outputs(Task::Segment, &[s(2, 3), s(2, 3)], &opts(None, 1)).unwrap();
        assert_eq!(out[0].shape, vec![2, 2, 3]);
        assert_eq!(out[0].data, Data::U8(vec![0; 12]));
    }

    #[test]
    fn detections_are_padded_to_the_largest_count_of_the_request() {
        let preds = vec![
            Prediction::Boxes(vec![det(2, 0.9), det(0, 0.3)]),
            Prediction::Boxes(vec![]),
            Prediction::Boxes(vec![det(1, 0.6)]),
        ];
        let out = pipeline_outputs(Task::Detect, &preds, &opts(None, 1)).unwrap();
        assert_eq!(out[0].data, Data::I32(vec![2, 0, 1]));
        assert_eq!(out[1].shape, vec![3, 2, 4]);
        assert_eq!(out[2].shape, vec![3, 2]);
        assert_eq!(out[3].data, Data::I64(vec![2, 0, -1, -1, 1, -1]));
        assert_eq!(out[2].data, Data::F32(vec![0.9, 0.3, 0.0, 0.0, 0.6, 0.0]));
        let Data::F32(b) = &out[1].data else { panic!() };
        assert_eq!(&b[8..16], &[0.0; 8]);
        assert_eq!(&b[20..24], &[0.0; 4]);
        let Data::Bytes(l) = &out[4].data else {
            panic!()
        };
        assert_eq!(l[0], b"c2");
        assert!(l[2].is_empty() && l[3].is_empty() && l[5].is_empty());
        // The threshold drops boxes before padding.
        let out = pipeline_outputs(Task::Detect, &preds, &opts(Some(0.5), 1)).unwrap();
        assert_eq!(out[0].data, Data::I32(vec![1, 0, 1]));
        assert_eq!(out[1].shape, vec![3, 1, 4]);
        // No box anywhere: K = 0.
        let out = pipeline_outputs(Task::Detect, &preds, &opts(Some(0.95), 1)).unwrap();
        assert_eq!(out[1].shape, vec![3, 0, 4]);
        assert_eq!(out[4].data, Data::Bytes(vec![]));
    }

    #[test]
    fn classification_is_n_for_top1_and_n_by_k_for_topk() {
        let cls = |ids: &[usize]| {
            Prediction::Classes(
                ids.iter()
                    .map(|&i| ClassScore {
                        class_id: i,
                        label: format!("l{i}"),
                        score: 1.0 / (i + 1) as f32,
                    })
                    .collect(),
            )
        };
        let preds = vec![cls(&[1, 0, 2]), cls(&[2, 1, 0])];
        let out = pipeline_outputs(Task::Classify, &preds, &opts(None, 1)).unwrap();
        assert_eq!(out[0].shape, vec![2]);
        assert_eq!(out[0].data, Data::I64(vec![1, 2]));
        assert_eq!(
            out[2].data,
            Data::Bytes(vec![b"l1".to_vec(), b"l2".to_vec()])
        );
        let out = pipeline_outputs(Task::Classify, &preds, &opts(None, 2)).unwrap();
        assert_eq!(out[0].shape, vec![2, 2]);
        assert_eq!(out[0].data, Data::I64(vec![1, 0, 2, 1]));
        // K beyond the classes: as many as there are.
        let out = pipeline_outputs(Task::Classify, &preds, &opts(None, 10)).unwrap();
        assert_eq!(out[1].shape, vec![2, 3]);
    }

    fn req(inputs: Vec<Tensor>) -> InferRequest {
        InferRequest {
            inputs: inputs
                .into_iter()
                .map(|tensor| Input {
                    tensor,
                    json: false,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn raw_inputs_of_the_wrong_name_type_or_shape_are_refused() {
        let model = vec![InputInfo {
            name: "x".into(),
            elem: ElemType::F32,
            shape: vec![-1, 3, 2],
        }];
        let t = |name: &str, shape: Vec<usize>, data: Data| Tensor::new(name, shape, data);
        let bad = [
            req(vec![]),
            req(vec![t("y", vec![1, 3, 2], Data::F32(vec![0.0; 6]))]),
            req(vec![t("x", vec![1, 3, 2], Data::I64(vec![0; 6]))]),
            req(vec![t("x", vec![1, 2, 3], Data::F32(vec![0.0; 6]))]),
            req(vec![t("x", vec![6], Data::F32(vec![0.0; 6]))]),
            req(vec![t("x", vec![0, 3, 2], Data::F32(vec![]))]),
            req(vec![
                t("x", vec![1, 3, 2], Data::F32(vec![0.0; 6])),
                t("z", vec![1], Data::F32(vec![0.0])),
            ]),
        ];
        for r in &bad {
            assert_eq!(
                raw_inputs(&model, r).unwrap_err().http_status(),
                400,
                "{r:?}"
            );
        }
        let ok = raw_inputs(
            &model,
            &req(vec![t("x", vec![2, 3, 2], Data::F32(vec![0.5; 12]))]),
        )
        .unwrap();
        assert_eq!(ok[0].0, "x");
        assert_eq!(ok[0].1.shape, vec![2, 3, 2]);
    }

    #[test]
    fn undecodable_images_are_bad_requests() {
        let pipeline = Pipeline {
            bgr: false,
            float_first: false,
            ops: vec![],
        };
        for (bytes, json) in [
            (b"not an image".to_vec(), false),
            (Vec::new(), false),
            (b"%%% not base64".to_vec(), true),
            (b"aGVsbG8=".to_vec(), true),
        ] {
            let e = prepare_images(&[bytes], json, &pipeline).unwrap_err();
            assert_eq!(e.http_status(), 400);
            assert!(e.message().contains("image[0]"), "{e}");
        }
    }
}
