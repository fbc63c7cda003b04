//! `Predictor`: the SDK's predictor (`modelseal_deploy::Predictor`) for Python, opened through
//! the one open policy. Results are the CLI's JSON objects (`modelseal_deploy::json`) as dicts.
//! Decoding and pre-processing run without the GIL and outside the session lock; inference
//! takes the lock, so that one Predictor serves several threads.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use modelseal_deploy::backend::BackendKind;
use modelseal_deploy::json::{self, Written};
use modelseal_deploy::runner::{run_pipelined, Flow};
use modelseal_deploy::transforms::{Pipeline, Prepared};
use modelseal_deploy::{
    BackendOptions, Error, ModelSource, PostProcessor, Prediction, Predictor as SdkPredictor, Task,
};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::dir::policy;
use crate::errors::{message, value, Failure};
use crate::inputs::{self, Source};
use crate::sealing::warn_if_paddlex_v1;
use crate::values::{label_map, to_py};

/// A model opened for classification, detection or segmentation from a sealed (or, without a
/// key, plain) model directory: its config and model are decrypted into memory, the inference
/// session is built from memory, and the decrypted bytes are wiped.
///
/// The directory opens under the same rules as `open_dir` (key or key_file, allow_paddlex_v1,
/// seal_id). `backend` is "auto" (ONNX Runtime when its library is found, else tract),
/// "onnxruntime" or "tract". ONNX Runtime is looked for in `ORT_DYLIB_PATH`, then in the
/// `onnxruntime` package this interpreter can import, then in the loader's search path.
/// `threads` sets the backend's intra-op threads (default: the backend's choice); `use_gpu`,
/// `gpu_id` and `use_trt` select ONNX Runtime's CUDA or TensorRT execution provider (with
/// onnxruntime-gpu).
///
/// Attributes: `task` ("classification", "detection" or "segmentation"), `labels`, `backend`
/// ("onnxruntime" or "tract"), `model_dir`, `sealed`. One Predictor may be shared by threads;
/// the GIL is released while images are decoded and the model runs.
#[pyclass(module = "modelseal", name = "Predictor", frozen)]
pub struct Predictor {
    inner: Mutex<SdkPredictor>,
    pipeline: Pipeline,
    post: PostProcessor,
    task: Task,
    labels: Vec<String>,
    backend: &'static str,
    model_dir: PathBuf,
    sealed: bool,
}

/// One prediction, or why its image failed.
type Outcome = Result<Prediction, Error>;

impl Predictor {
    fn lock(&self) -> MutexGuard<'_, SdkPredictor> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Predicts every input, in input order. A list of paths runs through the SDK's pipelined
    /// runner (decoding overlapped with inference, as in the CLI); otherwise each input is
    /// decoded and pre-processed here and inferred in batches of `batch_size`.
    fn run(&self, sources: &[Source<'_>], batch_size: usize) -> Vec<Outcome> {
        let paths: Option<Vec<PathBuf>> = sources
            .iter()
            .map(|s| match s {
                Source::Path(p) => Some(p.clone()),
                Source::Array { .. } => None,
            })
            .collect();
        if let Some(paths) = paths.filter(|p| p.len() > 1) {
            let mut out = Vec::with_capacity(paths.len());
            run_pipelined(&mut self.lock(), &paths, batch_size, |_, r| {
                out.push(r.map(|(_, pred)| pred));
                Flow::Continue
            });
            return out;
        }
        let mut results: Vec<Option<Outcome>> = sources.iter().map(|_| None).collect();
        let mut batch: Vec<(usize, Prepared)> = Vec::with_capacity(batch_size);
        for (i, s) in sources.iter().enumerate() {
            match s.image().and_then(|m| self.pipeline.run(&m)) {
                Ok(p) => {
                    batch.push((i, p));
                    if batch.len() >= batch_size {
                        self.flush(&mut batch, &mut results);
                    }
                }
                // As the runner does: the images before a failed one are inferred first.
                Err(e) => {
                    self.flush(&mut batch, &mut results);
                    results[i] = Some(Err(e));
                }
            }
        }
        self.flush(&mut batch, &mut results);
        results
            .into_iter()
            .map(|r| r.expect("every input has an outcome"))
            .collect()
    }

    /// Infers a batch under the session lock and post-processes it outside.
    fn flush(&self, batch: &mut Vec<(usize, Prepared)>, results: &mut [Option<Outcome>]) {
        if batch.is_empty() {
            return;
        }
        let (idx, preps): (Vec<usize>, Vec<Prepared>) = batch.drain(..).unzip();
        let raw = self.lock().infer_raw(&preps);
        match raw {
            Ok(raw) => {
                for ((i, r), p) in idx.iter().zip(&raw).zip(&preps) {
                    results[*i] = Some(self.post.run(r, p));
                }
            }
            Err(e) => {
                let text = e.to_string();
                for i in idx {
                    results[i] = Some(Err(Error::Backend {
                        backend: self.backend,
                        message: text.clone(),
                    }));
                }
            }
        }
    }

    /// The result object of one image: the JSON schema's object as a dict (`label_map` added
    /// for segmentation), boxes under `threshold` left out.
    fn result<'py>(
        &self,
        py: Python<'py>,
        shown: &str,
        outcome: &Outcome,
        topk: usize,
        threshold: Option<f32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let pred = match outcome {
            Ok(p) => p,
            Err(e) => {
                let v = json::failure(shown, self.task, e.kind().name(), &message(e));
                return to_py(py, &v);
            }
        };
        let kept;
        let pred = match (pred, threshold) {
            (Prediction::Boxes(boxes), Some(t)) => {
                kept = Prediction::Boxes(boxes.iter().filter(|b| b.score >= t).cloned().collect());
                &kept
            }
            _ => pred,
        };
        let obj = to_py(
            py,
            &json::prediction(shown, self.task, pred, topk, &Written::default()),
        )?;
        if let Prediction::Segmentation(seg) = pred {
            obj.set_item(
                "label_map",
                label_map(py, &seg.labels, seg.height, seg.width)?,
            )?;
        }
        Ok(obj)
    }
}

fn check(ok: bool, what: &str) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(value(what))
    }
}

#[pymethods]
impl Predictor {
    #[new]
    #[pyo3(
        signature = (model_dir, key = None, *, key_file = None, backend = "auto".to_string(), threads = None, use_gpu = false, gpu_id = 0, use_trt = false, allow_paddlex_v1 = false, seal_id = None),
        text_signature = "(model_dir, key=None, *, key_file=None, backend='auto', threads=None, use_gpu=False, gpu_id=0, use_trt=False, allow_paddlex_v1=False, seal_id=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        model_dir: PathBuf,
        key: Option<&Bound<'_, PyAny>>,
        key_file: Option<PathBuf>,
        backend: String,
        threads: Option<usize>,
        use_gpu: bool,
        gpu_id: i32,
        use_trt: bool,
        allow_paddlex_v1: bool,
        seal_id: Option<String>,
    ) -> PyResult<Predictor> {
        let open = || -> Result<Predictor, Failure> {
            let kind: BackendKind = backend.parse().map_err(value)?;
            check(threads != Some(0), "threads must be at least 1")?;
            let policy = policy(key, key_file, allow_paddlex_v1, seal_id.as_deref())?;
            if kind != BackendKind::Tract {
                crate::ort::prepare(py);
            }
            let opts = BackendOptions {
                kind,
                threads,
                use_gpu: use_gpu || use_trt,
                use_trt,
                gpu_id,
                ir_optim: true,
            };
            let (pred, storage) = py.detach(|| -> Result<_, Failure> {
                let source = ModelSource::open(&model_dir, &policy)?;
                let storage = source.storage();
                let mut pred = SdkPredictor::open(&source, &opts)?;
                // The decrypted members were wiped when the session was built; the source only
                // held the key, wiped here.
                drop(source);
                // Every class is kept; each call lists its own top-k (the JSON's `topk`).
                pred.set_topk(usize::MAX);
                Ok((pred, storage))
            })?;
            warn_if_paddlex_v1(py, storage)?;
            Ok(Predictor {
                pipeline: pred.config().pipeline.clone(),
                post: pred.postprocessor(),
                task: pred.task(),
                labels: pred.labels().to_vec(),
                backend: pred.backend_name(),
                sealed: pred.is_sealed(),
                inner: Mutex::new(pred),
                model_dir,
            })
        };
        open().map_err(|f| f.into_pyerr(py))
    }

    /// The task: "classification", "detection" or "segmentation".
    #[getter]
    fn task(&self) -> &'static str {
        self.task.name()
    }

    /// Class labels, in class-id order (empty when the config has none).
    #[getter]
    fn labels(&self) -> Vec<String> {
        self.labels.clone()
    }

    /// The inference backend in use: "onnxruntime" or "tract".
    #[getter]
    fn backend(&self) -> &'static str {
        self.backend
    }

    /// The model directory this was opened from.
    #[getter]
    fn model_dir(&self) -> PathBuf {
        self.model_dir.clone()
    }

    /// Whether the model came from a sealed directory.
    #[getter]
    fn sealed(&self) -> bool {
        self.sealed
    }

    /// Predicts one image or a list of images.
    ///
    /// `x` is a path (str or os.PathLike), a numpy uint8 array of shape (H, W, 3) in BGR order
    /// (as cv2.imread returns it), or a list of these. Returns one dict for one image, a list
    /// of dicts (in input order) for a list: the objects of the CLI's `--json` output (schema 1,
    /// docs/JSON.md): `schema`, `image` (the path as given, "<array>" for an array), `task`,
    /// `error`, and per task: classification `class_id`, `label`, `score`, `topk` (the `topk`
    /// best); detection `boxes` (each `class_id`, `label`, `score`, `bbox` [x1, y1, x2, y2]
    /// in image pixels) and `visualization` (None); segmentation `width`, `height`,
    /// `classes`, `label_map_png` and `visualization` (None) and `label_map`, a numpy uint8
    /// array of shape (height, width).
    ///
    /// `batch_size` images go through the model at once where the model allows it. `threshold`
    /// (detection only) leaves out boxes scoring under it; None keeps every box, as the CLI's
    /// JSON does. A single image that fails raises `modelseal.Error` (kind "invalid_input" for
    /// an unreadable image); in a list, a failed image gets the schema's failure object (its
    /// `error` holds `kind` and `message`) and the others their results. The GIL is released
    /// while images are decoded and the model runs.
    #[pyo3(signature = (x, *, batch_size = 1, topk = 1, threshold = None))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        batch_size: usize,
        topk: usize,
        threshold: Option<f32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let checked = check(batch_size >= 1, "batch_size must be at least 1")
            .and_then(|_| check(topk >= 1, "topk must be at least 1"))
            .and_then(|_| {
                check(
                    threshold.is_none() || self.task == Task::Detect,
                    "threshold applies to detection models only",
                )
            })
            .and_then(|_| {
                check(
                    threshold.is_none_or(|t| t.is_finite()),
                    "threshold must be a finite number",
                )
            })
            .and_then(|_| inputs::parse(x));
        let (raws, single) = checked.map_err(|f| f.into_pyerr(py))?;
        let sources: Vec<Source<'_>> = raws.iter().map(|r| r.source()).collect();
        let outcomes = py.detach(|| self.run(&sources, batch_size));
        if single {
            let outcome = outcomes.into_iter().next().expect("one input, one outcome");
            return match outcome {
                Ok(_) => self.result(py, &raws[0].shown(), &outcome, topk, threshold),
                Err(e) => Err(Failure::from(e).into_pyerr(py)),
            };
        }
        let out = PyList::empty(py);
        for (raw, outcome) in raws.iter().zip(&outcomes) {
            out.append(self.result(py, &raw.shown(), outcome, topk, threshold)?)?;
        }
        Ok(out.into_any())
    }

    fn __repr__(&self) -> String {
        format!(
            "<modelseal.Predictor {} {:?} on {}, {} labels>",
            self.task.name(),
            self.model_dir.display().to_string(),
            self.backend,
            self.labels.len()
        )
    }
}
