//! State shared by the REST and gRPC front ends: the served models and their views, the worker
//! pool, metrics, the shutdown flag and the accepted/answered request counts.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::model::{ServedModel, View, VERSION};
use crate::protocol::{InferRequest, InferResponse};

/// Server name in `GET /v2` and `ServerMetadata`.
pub const SERVER_NAME: &str = "modelseal";

/// Protocol extensions supported.
pub const EXTENSIONS: &[&str] = &["binary_tensor_data"];

/// The shared state.
pub struct App {
    models: BTreeMap<String, Arc<ServedModel>>,
    /// Worker pool for decoding, pre- and post-processing.
    pub pool: Arc<rayon::ThreadPool>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Largest request body / message.
    pub max_body: usize,
    shutting_down: AtomicBool,
    accepted: AtomicU64,
    answered: AtomicU64,
    succeeded: AtomicU64,
}

/// Counts an inference request as answered when dropped, whatever the way out.
struct Answered<'a>(&'a App);

impl Drop for Answered<'_> {
    fn drop(&mut self) {
        self.0.answered.fetch_add(1, Ordering::SeqCst);
    }
}

impl App {
    /// State for `models`.
    pub fn new(
        models: Vec<Arc<ServedModel>>,
        pool: Arc<rayon::ThreadPool>,
        metrics: Arc<Metrics>,
        max_body: usize,
    ) -> App {
        App {
            models: models.into_iter().map(|m| (m.name.clone(), m)).collect(),
            pool,
            metrics,
            max_body,
            shutting_down: AtomicBool::new(false),
            accepted: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            succeeded: AtomicU64::new(0),
        }
    }

    /// The served models.
    pub fn models(&self) -> impl Iterator<Item = &Arc<ServedModel>> {
        self.models.values()
    }

    /// Marks the server as stopping: readiness turns false, new inference requests get 503.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether the server is stopping.
    pub fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Inference requests accepted, answered, and answered with success.
    pub fn counts(&self) -> (u64, u64, u64) {
        (
            self.accepted.load(Ordering::SeqCst),
            self.answered.load(Ordering::SeqCst),
            self.succeeded.load(Ordering::SeqCst),
        )
    }

    /// The model and view a name (and version) addresses: `NAME` or `NAME-raw`, version `1` or none.
    pub fn lookup(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<(Arc<ServedModel>, View), ApiError> {
        let found = match self.models.get(name) {
            Some(m) => Some((m.clone(), View::Pipeline)),
            None => name
                .strip_suffix("-raw")
                .and_then(|base| self.models.get(base))
                .map(|m| (m.clone(), View::Raw)),
        };
        let (m, v) = found.ok_or_else(|| ApiError::not_found(format!("unknown model {name:?}")))?;
        if let (View::Raw, Some(why)) = (v, m.raw_refusal()) {
            return Err(ApiError::not_found(format!(
                "model {name:?} is not served: {why}; use the pipeline view {:?}",
                m.name
            )));
        }
        match version {
            None | Some("") | Some(VERSION) => Ok((m, v)),
            Some(other) => Err(ApiError::not_found(format!(
                "model {name:?} has no version {other:?}; its only version is {VERSION}"
            ))),
        }
    }

    /// Whether a model (and version) is ready; `NotFound` for an unknown one.
    pub fn model_ready(&self, name: &str, version: Option<&str>) -> Result<bool, ApiError> {
        self.lookup(name, version)?;
        Ok(!self.shutting_down())
    }

    /// Runs an inference request (both protocols); counts it and records its outcome.
    pub async fn infer(
        &self,
        protocol: &'static str,
        name: &str,
        version: Option<&str>,
        req: &InferRequest,
    ) -> Result<InferResponse, ApiError> {
        let start = Instant::now();
        self.accepted.fetch_add(1, Ordering::SeqCst);
        let _answered = Answered(self);
        let r = self.infer_inner(name, version, req).await;
        let model_label = match &r {
            Err(ApiError::NotFound(_)) => "",
            _ => name,
        };
        match &r {
            Ok(_) => {
                self.succeeded.fetch_add(1, Ordering::SeqCst);
                self.metrics.count_request(model_label, protocol, "success");
            }
            Err(e) => {
                self.metrics
                    .count_request(model_label, protocol, e.outcome());
                tracing::debug!(model = name, protocol, status = e.http_status(), error = %e, "request refused");
            }
        }
        if let Ok((m, _)) = self.lookup(name, version) {
            if let Some(mm) = self.metrics.model(&m.name) {
                mm.request.observe_duration(start.elapsed());
            }
        }
        r
    }

    async fn infer_inner(
        &self,
        name: &str,
        version: Option<&str>,
        req: &InferRequest,
    ) -> Result<InferResponse, ApiError> {
        let (model, view) = self.lookup(name, version)?;
        if self.shutting_down() {
            return Err(ApiError::Unavailable("the server is shutting down".into()));
        }
        let outputs = model.infer(view, req, &self.pool).await?;
        Ok(InferResponse {
            model_name: name.to_string(),
            model_version: VERSION.to_string(),
            id: req.id.clone(),
            outputs,
        })
    }

    /// Counts a request refused before it reached [`Self::infer`] (e.g. a body too large).
    pub fn count_refused(&self, protocol: &'static str, name: &str, e: &ApiError) {
        let label = if self.lookup(name, None).is_ok() {
            name
        } else {
            ""
        };
        self.metrics.count_request(label, protocol, e.outcome());
    }

    /// The REST metadata object of a model view.
    pub fn metadata_json(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<serde_json::Value, ApiError> {
        let (m, view) = self.lookup(name, version)?;
        let meta = m.meta(view);
        let tensors = |v: &[crate::model::TensorMeta]| {
            v.iter()
                .map(|t| serde_json::json!({"name": t.name, "datatype": t.datatype, "shape": t.shape}))
                .collect::<Vec<_>>()
        };
        Ok(serde_json::json!({
            "name": name,
            "versions": [VERSION],
            "platform": meta.platform,
            "inputs": tensors(&meta.inputs),
            "outputs": tensors(&meta.outputs),
        }))
    }
}
