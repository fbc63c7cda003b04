//! A model opened from a (sealed or plain) directory: config, backend session, and the
//! per-image pipeline decode -> transforms -> infer -> post-process.

use std::sync::Arc;

use crate::backend::{Backend, BackendOptions, ElemType, Tensor, TensorData};
use crate::config::{self, ModelConfig, Task};
use crate::error::{Error, Result};
use crate::image::Mat;
use crate::model::ModelFiles;
use crate::postprocess::{self, Prediction};
use crate::source::ModelSource;
use crate::transforms::Prepared;

/// How the model's outputs are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    Classify,
    /// Rows `[class, score, x1, y1, x2, y2]` (+ optional count output).
    NmsRows {
        rows: usize,
        count: Option<usize>,
    },
    /// Raw PicoDet heads: first half scores, second half distributions.
    PicoDet,
    Segment {
        output: usize,
    },
}

/// A loaded model.
pub struct Predictor {
    post: Post,
    backend: Box<dyn Backend>,
    image_input: String,
    batchable: bool,
    sealed: bool,
    intra_threads: Option<usize>,
}

/// What post-processing needs: everything but the backend session.
#[derive(Clone)]
struct Post {
    config: ModelConfig,
    model_member: String,
    head: Head,
    output_names: Vec<String>,
}

/// The raw outputs of one inference call, and which image of its batch this is.
#[derive(Clone)]
pub struct RawOutput {
    outputs: Arc<Vec<Tensor>>,
    index: usize,
}

impl RawOutput {
    /// The model's outputs for the whole batch this image was in.
    pub fn outputs(&self) -> &[Tensor] {
        &self.outputs
    }
    /// This image's position in that batch.
    pub fn index(&self) -> usize {
        self.index
    }
}

/// Turns [`RawOutput`]s into predictions, on any thread: a snapshot of a [`Predictor`]'s
/// config and output layout, without the backend session.
#[derive(Clone)]
pub struct PostProcessor(Arc<Post>);

impl PostProcessor {
    /// Post-processes one image's raw outputs (`p` is its pre-processing record).
    pub fn run(&self, raw: &RawOutput, p: &Prepared) -> Result<Prediction> {
        self.0.run(&raw.outputs, raw.index, p)
    }
}

impl Predictor {
    /// Opens the model in `src`: reads the config and the model (an ONNX file, or a Paddle
    /// program and its parameters imported into ONNX in memory) into zeroize-on-drop memory,
    /// builds the backend session, and wipes the bytes.
    ///
    /// ```no_run
    /// use modelseal::{Key, OpenOptions};
    /// use modelseal_deploy::image::read_image;
    /// use modelseal_deploy::{BackendOptions, ModelSource, Prediction, Predictor};
    /// let key = Key::read_file("model.key".as_ref())?;
    /// let src = ModelSource::open("sealed/".as_ref(), &OpenOptions::new().key(key))?;
    /// let mut predictor = Predictor::open(&src, &BackendOptions::default())?;
    /// match predictor.predict(&read_image("page.png".as_ref())?)? {
    ///     Prediction::Classes(top) => println!("{:?}", top.first()),
    ///     Prediction::Boxes(boxes) => println!("{} boxes", boxes.len()),
    ///     Prediction::Segmentation(map) => println!("{}x{} label map", map.width, map.height),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(src: &ModelSource, opts: &BackendOptions) -> Result<Predictor> {
        let names = src.names();
        let files = ModelFiles::pick(&names, src.dir())?;
        let cfg_member = config::pick(&names, src.dir())?;
        let config = {
            let bytes = src.read(&cfg_member)?;
            config::parse(&cfg_member, &bytes)?
        };
        // The decrypted model bytes are wiped once the session exists.
        let backend = files.load(src, opts)?;
        let mut p = Self::with_backend(config, files.name().to_string(), backend, src.is_sealed())?;
        p.intra_threads = opts.threads;
        Ok(p)
    }

    /// Builds a predictor from a parsed config and a backend.
    pub fn with_backend(
        config: ModelConfig,
        model_member: String,
        backend: Box<dyn Backend>,
        sealed: bool,
    ) -> Result<Predictor> {
        let merr = |m: String| Error::Model {
            model: model_member.clone(),
            message: m,
        };
        let inputs = backend.inputs();
        let image_input = inputs
            .iter()
            .find(|i| i.name == "image" || i.name == "x")
            .or_else(|| {
                inputs
                    .iter()
                    .find(|i| i.elem == ElemType::F32 && i.shape.len() == 4)
            })
            .map(|i| i.name.clone())
            .ok_or_else(|| {
                merr(format!(
                    "no image input (`image`, `x` or a 4-D float input) among {:?}",
                    inputs.iter().map(|i| &i.name).collect::<Vec<_>>()
                ))
            })?;
        for i in inputs {
            if i.name != image_input
                && !["im_shape", "scale_factor", "im_size", "im_info"].contains(&i.name.as_str())
            {
                return Err(merr(format!("input `{}` is not one this deployer can feed; accepted: image/x, im_shape, scale_factor, im_size, im_info", i.name)));
            }
        }
        let batchable = inputs
            .iter()
            .find(|i| i.name == image_input)
            .map(|i| i.shape.first().copied().unwrap_or(-1) != 1)
            .unwrap_or(false)
            && inputs.len() == 1;
        let outs = backend.output_names().to_vec();
        let head = match config.task {
            Task::Classify => Head::Classify,
            Task::Segment => Head::Segment { output: 0 },
            Task::Detect => {
                let det = config
                    .det
                    .as_ref()
                    .expect("detection config has det settings");
                if !det.fpn_stride.is_empty() && outs.len() == 2 * det.fpn_stride.len() {
                    if det.nms.is_none() {
                        return Err(Error::Config {
                            file: config.file.clone(),
                            message: "raw PicoDet heads need an `NMS` section".into(),
                        });
                    }
                    Head::PicoDet
                } else {
                    let rows = outs
                        .iter()
                        .position(|n| {
                            n.contains("multiclass_nms")
                                || n == "bbox"
                                || n.starts_with("save_infer_model/scale_0")
                        })
                        .unwrap_or(0);
                    let count = if outs.len() > 1 {
                        (0..outs.len()).find(|&i| i != rows)
                    } else {
                        None
                    };
                    Head::NmsRows { rows, count }
                }
            }
        };
        Ok(Predictor {
            post: Post {
                config,
                model_member,
                head,
                output_names: outs,
            },
            backend,
            image_input,
            batchable,
            sealed,
            intra_threads: None,
        })
    }

    /// Sets how many classes a classification returns (overrides the config's `topk`).
    pub fn set_topk(&mut self, k: usize) {
        self.post.config.topk = k.max(1);
    }

    /// The parsed config.
    pub fn config(&self) -> &ModelConfig {
        &self.post.config
    }
    /// The task.
    pub fn task(&self) -> Task {
        self.post.config.task
    }
    /// Class labels.
    pub fn labels(&self) -> &[String] {
        &self.post.config.labels
    }
    /// The backend's name.
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }
    /// The intra-op threads the backend was asked for (`None`: the backend's default, which for
    /// ONNX Runtime is every core).
    pub fn intra_threads(&self) -> Option<usize> {
        self.intra_threads
    }
    /// Whether the model came from a sealed directory.
    pub fn is_sealed(&self) -> bool {
        self.sealed
    }
    /// The model member name.
    pub fn model_member(&self) -> &str {
        &self.post.model_member
    }

    /// Runs the pre-processing on a decoded RGB image.
    pub fn preprocess(&self, img: &Mat) -> Result<Prepared> {
        self.post.config.pipeline.run(img)
    }

    fn feed(&self, batch: &[&Prepared]) -> Result<Vec<(String, Tensor)>> {
        let n = batch.len();
        let p0 = batch[0];
        let mut chw = Vec::with_capacity(p0.chw.len() * n);
        for p in batch {
            chw.extend_from_slice(&p.chw);
        }
        let mut feeds = vec![(
            self.image_input.clone(),
            Tensor::f32(vec![n, 3, p0.height, p0.width], chw),
        )];
        for i in self.backend.inputs() {
            let per = |f: &dyn Fn(&Prepared) -> Vec<f32>| -> Vec<f32> {
                batch.iter().flat_map(|p| f(p)).collect()
            };
            let t = match i.name.as_str() {
                "im_shape" if i.shape.last() == Some(&3) => Tensor::f32(
                    vec![n, 3],
                    per(&|p| vec![p.orig.0 as f32, p.orig.1 as f32, 1.0]),
                ),
                "im_shape" => Tensor::f32(
                    vec![n, 2],
                    per(&|p| vec![p.resized.0 as f32, p.resized.1 as f32]),
                ),
                "scale_factor" => Tensor::f32(vec![n, 2], per(&|p| vec![p.scale.0, p.scale.1])),
                "im_info" => Tensor::f32(
                    vec![n, 3],
                    per(&|p| vec![p.resized.0 as f32, p.resized.1 as f32, p.scale.0]),
                ),
                "im_size" => Tensor {
                    shape: vec![n, 2],
                    data: TensorData::I32(
                        batch
                            .iter()
                            .flat_map(|p| [p.orig.0 as i32, p.orig.1 as i32])
                            .collect(),
                    ),
                },
                _ => continue,
            };
            let t = match (i.elem, t.data) {
                (ElemType::I64, TensorData::F32(d)) => Tensor {
                    shape: t.shape,
                    data: TensorData::I64(d.iter().map(|&x| x as i64).collect()),
                },
                (ElemType::I64, TensorData::I32(d)) => Tensor {
                    shape: t.shape,
                    data: TensorData::I64(d.iter().map(|&x| x as i64).collect()),
                },
                (ElemType::I32, TensorData::F32(d)) => Tensor {
                    shape: t.shape,
                    data: TensorData::I32(d.iter().map(|&x| x as i32).collect()),
                },
                (ElemType::F32, TensorData::I32(d)) => Tensor {
                    shape: t.shape,
                    data: TensorData::F32(d.iter().map(|&x| x as f32).collect()),
                },
                (_, data) => Tensor {
                    shape: t.shape,
                    data,
                },
            };
            feeds.push((i.name.clone(), t));
        }
        Ok(feeds)
    }

    /// Runs the model on prepared inputs and post-processes; images of one shape are batched
    /// when the model allows it.
    pub fn infer(&mut self, batch: &[Prepared]) -> Result<Vec<Prediction>> {
        let raw = self.infer_raw(batch)?;
        raw.iter()
            .zip(batch)
            .map(|(r, p)| self.post.run(&r.outputs, r.index, p))
            .collect()
    }

    /// Runs the model on prepared inputs without post-processing (see [`Self::postprocessor`]),
    /// one [`RawOutput`] per input; images of one shape are batched when the model allows it.
    pub fn infer_raw(&mut self, batch: &[Prepared]) -> Result<Vec<RawOutput>> {
        let mut out = Vec::with_capacity(batch.len());
        let mut i = 0;
        while i < batch.len() {
            let mut j = i + 1;
            if self.batchable {
                while j < batch.len()
                    && batch[j].height == batch[i].height
                    && batch[j].width == batch[i].width
                {
                    j += 1;
                }
            }
            let group: Vec<&Prepared> = batch[i..j].iter().collect();
            let feeds = self.feed(&group)?;
            let outputs = Arc::new(self.backend.run(&feeds)?);
            out.extend((0..group.len()).map(|index| RawOutput {
                outputs: outputs.clone(),
                index,
            }));
            i = j;
        }
        Ok(out)
    }

    /// A post-processor for this model's raw outputs, usable on another thread.
    pub fn postprocessor(&self) -> PostProcessor {
        PostProcessor(Arc::new(self.post.clone()))
    }

    /// Pre-processes, infers and post-processes one decoded image.
    pub fn predict(&mut self, img: &Mat) -> Result<Prediction> {
        let p = self.preprocess(img)?;
        Ok(self.infer(std::slice::from_ref(&p))?.remove(0))
    }

    /// The model's own inputs (names, element types, declared shapes with `-1` for dynamic
    /// dimensions), as the backend reports them.
    pub fn model_inputs(&self) -> &[crate::backend::InputInfo] {
        self.backend.inputs()
    }

    /// The model's own outputs, in model order (element type and shape as far as the backend
    /// knows them).
    pub fn model_outputs(&self) -> Vec<crate::backend::InputInfo> {
        self.backend.output_infos()
    }

    /// Runs the model on tensors given by input name, without pre- or post-processing; the
    /// outputs come back in model order (see [`Self::model_outputs`]). For serving a model's raw
    /// view; the caller checks names, types and shapes against [`Self::model_inputs`].
    pub fn run_tensors(&mut self, inputs: &[(String, Tensor)]) -> Result<Vec<Tensor>> {
        self.backend.run(inputs)
    }

    /// Raw model outputs for prepared inputs (for benchmarks and tests).
    pub fn run_raw(&mut self, p: &Prepared) -> Result<Vec<Tensor>> {
        let feeds = self.feed(&[p])?;
        self.backend.run(&feeds)
    }
}

impl Post {
    fn run(&self, outputs: &[Tensor], n: usize, p: &Prepared) -> Result<Prediction> {
        let merr = |m: String| Error::Model {
            model: self.model_member.clone(),
            message: m,
        };
        for (t, name) in outputs.iter().zip(&self.output_names) {
            if let TensorData::F32(v) = &t.data {
                if v.iter().any(|x| x.is_nan()) {
                    return Err(merr(format!(
                        "output {name} holds NaN (not a number); the model or its input is broken"
                    )));
                }
            }
        }
        let labels = &self.config.labels;
        match self.head {
            Head::Classify => {
                let t = outputs.first().ok_or_else(|| merr("no output".into()))?;
                let v = t.to_f32();
                let classes = *t.shape.last().unwrap_or(&0);
                if classes == 0 || t.shape.len() != 2 || v.len() < (n + 1) * classes {
                    return Err(merr(format!(
                        "classifier output of shape {:?} is not [N, classes]",
                        t.shape
                    )));
                }
                Ok(Prediction::Classes(postprocess::topk(
                    &v[n * classes..(n + 1) * classes],
                    self.config.topk,
                    labels,
                )))
            }
            Head::NmsRows { rows, count } => {
                let t = outputs
                    .get(rows)
                    .ok_or_else(|| merr("no detection output".into()))?;
                if t.shape.last() != Some(&6) {
                    return Err(merr(format!("detection output {:?} has shape {:?}, not [K, 6] rows class, score, x1, y1, x2, y2", self.output_names.get(rows), t.shape)));
                }
                let v = t.to_f32();
                let counts = count.and_then(|c| outputs.get(c)).map(|c| c.to_f32());
                let (start, cnt) = match &counts {
                    Some(c) if c.len() > n => (
                        c[..n].iter().map(|&x| x as usize).sum::<usize>(),
                        Some(c[n] as usize),
                    ),
                    _ => (0, None),
                };
                let rows = v.get(start * 6..).unwrap_or(&[]);
                Ok(Prediction::Boxes(postprocess::nms_rows(rows, cnt, labels)))
            }
            Head::PicoDet => {
                let det = self.config.det.as_ref().expect("checked at open");
                let half = outputs.len() / 2;
                let scores: Vec<&Tensor> = outputs[..half].iter().collect();
                let dists: Vec<&Tensor> = outputs[half..].iter().collect();
                if n != 0 {
                    return Err(merr("PicoDet heads are decoded one image at a time".into()));
                }
                postprocess::picodet(
                    &scores,
                    &dists,
                    &det.fpn_stride,
                    det.nms.as_ref().expect("checked"),
                    p,
                    labels,
                )
                .map(Prediction::Boxes)
                .map_err(merr)
            }
            Head::Segment { output } => {
                let t = outputs
                    .get(output)
                    .ok_or_else(|| merr("no output".into()))?;
                postprocess::segmentation(t, n, self.config.seg_threshold, p)
                    .map(Prediction::Segmentation)
                    .map_err(merr)
            }
        }
    }
}
