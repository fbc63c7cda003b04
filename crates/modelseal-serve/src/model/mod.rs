//! A served model and its two views: `NAME` (the whole pipeline: encoded images in, task
//! results out) and `NAME-raw` (the model's own tensors). Requests are decoded on a worker pool,
//! batched on the model's inference thread, and post-processed on the pool again.

use std::sync::Arc;
use std::time::Instant;

use modelseal_deploy::backend::{InputInfo, Tensor as DTensor};
use modelseal_deploy::transforms::{Pipeline, Prepared};
use modelseal_deploy::{PostProcessor, Predictor, RawOutput, Task};
use tokio::sync::oneshot;

use crate::batch::{Admission, BatchPolicy, BatchQueue};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::protocol::{self, InferRequest};
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
    /// Why `NAME-raw` is not served, when it is not (see [`raw_view_refusal`]).
    raw_refusal: Option<String>,
    queue: Arc<BatchQueue<Job>>,
    admission: Arc<Admission>,
    worker: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

#[cfg(test)]
mod tests;
mod views;

use views::{datatype_of, task_outputs};
pub use views::{
    pipeline_outputs, prepare_images, raw_inputs, raw_outputs, raw_view_refusal, PipelineOptions,
};

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
        let raw_refusal = raw_view_refusal(&raw_inputs, &raw_outputs);
        if let Some(why) = &raw_refusal {
            tracing::warn!(model = name, reason = %why, "the raw view {name}-raw is not served");
        }
        let backend = pred.backend_name();
        let raw_meta = ViewMeta {
            platform: format!("{backend}_onnx"),
            inputs: meta_of(&raw_inputs),
            outputs: meta_of(&raw_outputs),
        };
        let pipeline_meta = ViewMeta {
            platform: format!("modelseal_{}", task.name()),
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
            raw_refusal,
            queue,
            admission: Admission::new(max_queue),
            worker: std::sync::Mutex::new(Some(worker)),
        }))
    }

    /// The task.
    pub fn task(&self) -> Task {
        self.task
    }

    /// Why the raw view is not served, when it is not.
    pub fn raw_refusal(&self) -> Option<&str> {
        self.raw_refusal.as_deref()
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
