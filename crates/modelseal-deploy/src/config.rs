//! Model configs parsed into typed structs at load time: PaddleX `model.yml`, PaddleClas /
//! PaddleX 3.x `inference.yml`, PaddleDetection `infer_cfg.yml` and PaddleSeg `deploy.yaml`.

use serde_yaml_ng::{Mapping, Value};

use crate::error::{config_err, Result};
use crate::image::Interp;
use crate::transforms::{Norm, Op, Pipeline, SizeRule};

/// Config file names recognised in a model directory.
pub const CONFIG_NAMES: &[&str] = &[
    "model.yml",
    "inference.yml",
    "infer_cfg.yml",
    "deploy.yaml",
    "deploy.yml",
];

/// The task a model performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Image classification.
    Classify,
    /// Object detection.
    Detect,
    /// Semantic segmentation.
    Segment,
}

impl Task {
    /// PaddleX's name of the task.
    pub fn paddlex_name(self) -> &'static str {
        match self {
            Task::Classify => "classifier",
            Task::Detect => "detector",
            Task::Segment => "segmenter",
        }
    }
}

/// The suite a config comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// PaddleX 1.x/2.x `model.yml`.
    PaddleX,
    /// PaddleClas / PaddleX 3.x classification `inference.yml`.
    PaddleClas,
    /// PaddleDetection `infer_cfg.yml` (or PaddleX 3.x detection `inference.yml`).
    PaddleDetection,
    /// PaddleSeg `deploy.yaml`.
    PaddleSeg,
}

/// NMS parameters for raw detection heads.
#[derive(Debug, Clone, PartialEq)]
pub struct Nms {
    /// Minimum score of a candidate.
    pub score_threshold: f32,
    /// IoU above which a box is suppressed.
    pub nms_threshold: f32,
    /// Candidates kept per level before NMS.
    pub nms_top_k: usize,
    /// Boxes kept per class after NMS.
    pub keep_top_k: usize,
}

/// Detection settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DetConfig {
    /// Architecture name (`arch` or `Model`).
    pub arch: String,
    /// NMS, for raw heads (PicoDet).
    pub nms: Option<Nms>,
    /// FPN strides of raw heads.
    pub fpn_stride: Vec<usize>,
    /// Default visualisation threshold.
    pub draw_threshold: f32,
}

/// A parsed model config.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// Config member name.
    pub file: String,
    /// Origin suite.
    pub suite: Suite,
    /// Task.
    pub task: Task,
    /// Model name (for messages).
    pub model_name: String,
    /// Class labels, in id order.
    pub labels: Vec<String>,
    /// Pre-processing.
    pub pipeline: Pipeline,
    /// Classification top-k from the config (default 1).
    pub topk: usize,
    /// Detection settings.
    pub det: Option<DetConfig>,
    /// Threshold for single-channel probability segmentation outputs.
    pub seg_threshold: f32,
}

struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    fn err(&self, msg: impl Into<String>) -> crate::error::Error {
        config_err(self.file, msg)
    }

    fn map<'v>(&self, v: &'v Value, key: &str) -> Result<&'v Mapping> {
        v.as_mapping()
            .ok_or_else(|| self.err(format!("`{key}` must be a mapping")))
    }

    fn f64(&self, v: &Value, key: &str) -> Result<f64> {
        match v {
            Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| self.err(format!("`{key}` is not a number"))),
            Value::String(s) => parse_num_expr(s)
                .ok_or_else(|| self.err(format!("`{key}` = {s:?} is not a number"))),
            _ => Err(self.err(format!("`{key}` must be a number"))),
        }
    }

    fn usize(&self, v: &Value, key: &str) -> Result<usize> {
        let f = self.f64(v, key)?;
        if f < 0.0 || f.fract() != 0.0 {
            return Err(self.err(format!("`{key}` must be a non-negative integer, got {f}")));
        }
        Ok(f as usize)
    }

    fn bool(&self, v: &Value, key: &str) -> Result<bool> {
        v.as_bool()
            .ok_or_else(|| self.err(format!("`{key}` must be true or false")))
    }

    fn str<'v>(&self, v: &'v Value, key: &str) -> Result<&'v str> {
        v.as_str()
            .ok_or_else(|| self.err(format!("`{key}` must be a string")))
    }

    fn f64s(&self, v: &Value, key: &str) -> Result<Vec<f64>> {
        let seq = v
            .as_sequence()
            .ok_or_else(|| self.err(format!("`{key}` must be a list of numbers")))?;
        seq.iter().map(|x| self.f64(x, key)).collect()
    }

    fn three(&self, v: &Value, key: &str) -> Result<[f64; 3]> {
        let xs = self.f64s(v, key)?;
        match xs.len() {
            1 => Ok([xs[0]; 3]),
            3 => Ok([xs[0], xs[1], xs[2]]),
            n => Err(self.err(format!("`{key}` must have 3 values, got {n}"))),
        }
    }

    /// An int or a 2-list.
    fn pair(&self, v: &Value, key: &str) -> Result<(usize, usize)> {
        if v.is_sequence() {
            let xs = self.f64s(v, key)?;
            if xs.len() != 2 || xs.iter().any(|x| *x <= 0.0 || x.fract() != 0.0) {
                return Err(self.err(format!(
                    "`{key}` must be a positive integer or a list of two"
                )));
            }
            Ok((xs[0] as usize, xs[1] as usize))
        } else {
            let n = self.usize(v, key)?;
            if n == 0 {
                return Err(self.err(format!("`{key}` must be positive")));
            }
            Ok((n, n))
        }
    }

    fn strings(&self, v: &Value, key: &str) -> Result<Vec<String>> {
        let seq = v
            .as_sequence()
            .ok_or_else(|| self.err(format!("`{key}` must be a list")))?;
        seq.iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                _ => Err(self.err(format!("`{key}` must be a list of strings"))),
            })
            .collect()
    }

    /// Checks that every key of `m` is in `known`.
    fn only(&self, m: &Mapping, known: &[&str], what: &str) -> Result<()> {
        for k in m.keys() {
            let k = k.as_str().unwrap_or("<non-string key>");
            if !known.contains(&k) {
                return Err(self.err(format!(
                    "unknown key `{k}` in {what}; accepted: {}",
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }
}

fn get<'v>(m: &'v Mapping, key: &str) -> Option<&'v Value> {
    m.get(key).filter(|v| !v.is_null())
}

/// Parses `"1./255."`-style numeric expressions (PaddleClas `scale`).
fn parse_num_expr(s: &str) -> Option<f64> {
    let mut parts = s.split('/');
    let first: f64 = parts.next()?.trim().parse().ok()?;
    let mut v = first;
    for p in parts {
        let d: f64 = p.trim().parse().ok()?;
        v /= d;
    }
    Some(v)
}

fn f32s3(a: [f64; 3]) -> [f32; 3] {
    [a[0] as f32, a[1] as f32, a[2] as f32]
}

fn interp_name(ctx: &Ctx, v: &Value, key: &str) -> Result<Interp> {
    let accepted = "NEAREST, LINEAR, CUBIC, AREA, LANCZOS4 (or 0-4)";
    match v {
        Value::Number(_) => match ctx.usize(v, key)? {
            0 => Ok(Interp::Nearest),
            1 => Ok(Interp::Linear),
            2 => Ok(Interp::Cubic),
            3 => Ok(Interp::Area),
            4 => Ok(Interp::Lanczos4),
            n => Err(ctx.err(format!(
                "`{key}` = {n} is not an interpolation; accepted: {accepted}"
            ))),
        },
        Value::String(s) => match s.to_ascii_uppercase().as_str() {
            "NEAREST" | "INTER_NEAREST" => Ok(Interp::Nearest),
            "LINEAR" | "BILINEAR" | "INTER_LINEAR" => Ok(Interp::Linear),
            "CUBIC" | "BICUBIC" | "INTER_CUBIC" => Ok(Interp::Cubic),
            "AREA" | "INTER_AREA" => Ok(Interp::Area),
            "LANCZOS4" | "LANCZOS" | "INTER_LANCZOS4" => Ok(Interp::Lanczos4),
            _ => Err(ctx.err(format!(
                "`{key}` = {s:?} is not an interpolation; accepted: {accepted}"
            ))),
        },
        _ => Err(ctx.err(format!(
            "`{key}` must be an interpolation name; accepted: {accepted}"
        ))),
    }
}

/// The largest config read (real ones are a few KiB; label lists inside them stay far below).
pub const MAX_CONFIG_LEN: usize = 4 << 20;

/// Parses a config given its member name and bytes; the suite is told by content. The YAML
/// reader bounds alias expansion (a "billion laughs" document is an error, not a hang).
pub fn parse(file: &str, bytes: &[u8]) -> Result<ModelConfig> {
    let ctx = Ctx { file };
    if bytes.len() > MAX_CONFIG_LEN {
        return Err(ctx.err(format!(
            "{} bytes; a config is at most {MAX_CONFIG_LEN} bytes",
            bytes.len()
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| ctx.err("not UTF-8 text"))?;
    let root: Value =
        serde_yaml_ng::from_str(text).map_err(|e| ctx.err(format!("invalid YAML: {e}")))?;
    let m = root
        .as_mapping()
        .ok_or_else(|| ctx.err("top level must be a mapping"))?;
    if m.contains_key("Deploy") {
        parse_seg(&ctx, m)
    } else if m.contains_key("PreProcess") {
        parse_clas(&ctx, m)
    } else if m.contains_key("Preprocess") && m.contains_key("arch") {
        parse_det(&ctx, m)
    } else if m.contains_key("Transforms") || m.contains_key("_Attributes") {
        parse_paddlex(&ctx, m)
    } else {
        Err(ctx.err(
            "not a recognised config: expected `Deploy` (PaddleSeg), `PreProcess` (PaddleClas), \
             `Preprocess` + `arch` (PaddleDetection) or `Transforms` + `_Attributes` (PaddleX)",
        ))
    }
}

fn parse_paddlex(ctx: &Ctx, m: &Mapping) -> Result<ModelConfig> {
    let version = get(m, "version")
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => serde_yaml_ng::to_string(other)
                .unwrap_or_default()
                .trim()
                .to_string(),
        })
        .unwrap_or_else(|| "1.0.0".into());
    if version.starts_with('0') {
        return Err(ctx.err(format!(
            "`version` {version}: models exported by PaddleX below 1.0.0 are not supported"
        )));
    }
    let v1 = version.starts_with('1');
    let model_name = get(m, "Model")
        .map(|v| ctx.str(v, "Model").map(str::to_string))
        .transpose()?
        .unwrap_or_default();
    let attrs = get(m, "_Attributes")
        .map(|v| ctx.map(v, "_Attributes"))
        .transpose()?
        .ok_or_else(|| ctx.err("missing `_Attributes`"))?;
    let task = match get(attrs, "model_type").map(|v| ctx.str(v, "_Attributes.model_type")) {
        Some(Ok("classifier")) => Task::Classify,
        Some(Ok("detector")) => Task::Detect,
        Some(Ok("segmenter")) => Task::Segment,
        Some(Ok(other)) => {
            return Err(ctx.err(format!(
                "`_Attributes.model_type` = {other:?}; accepted: classifier, detector, segmenter"
            )))
        }
        Some(Err(e)) => return Err(e),
        None => return Err(ctx.err("missing `_Attributes.model_type`")),
    };
    let labels = get(attrs, "labels")
        .map(|v| ctx.strings(v, "_Attributes.labels"))
        .transpose()?
        .unwrap_or_default();
    let bgr = match get(m, "TransformsMode").map(|v| ctx.str(v, "TransformsMode")) {
        None | Some(Ok("RGB")) => false,
        Some(Ok("BGR")) => true,
        Some(Ok(o)) => return Err(ctx.err(format!("`TransformsMode` = {o:?}; accepted: RGB, BGR"))),
        Some(Err(e)) => return Err(e),
    };
    let mut ops = Vec::new();
    if let Some(t) = get(m, "Transforms") {
        let seq = t
            .as_sequence()
            .ok_or_else(|| ctx.err("`Transforms` must be a list"))?;
        for item in seq {
            let im = ctx.map(item, "Transforms[]")?;
            if im.len() != 1 {
                return Err(ctx.err("each `Transforms` entry must be `{Name: {params}}`"));
            }
            let (k, v) = im.iter().next().expect("len checked");
            let name = ctx.str(k, "Transforms[] name")?.to_string();
            let empty = Mapping::new();
            let p = if v.is_null() {
                &empty
            } else {
                ctx.map(v, &name)?
            };
            let key = |k: &str| format!("{name}.{k}");
            match name.as_str() {
                n if n.starts_with("Arrange") => continue,
                "Normalize" => {
                    ctx.only(p, &["mean", "std", "min_val", "max_val", "is_scale"], &name)?;
                    let mean = get(p, "mean").map(|v| ctx.three(v, &key("mean"))).transpose()?;
                    let std = get(p, "std").map(|v| ctx.three(v, &key("std"))).transpose()?;
                    let min = get(p, "min_val").map(|v| ctx.three(v, &key("min_val"))).transpose()?;
                    let max = get(p, "max_val").map(|v| ctx.three(v, &key("max_val"))).transpose()?;
                    let is_scale = get(p, "is_scale")
                        .map(|v| ctx.bool(v, &key("is_scale")))
                        .transpose()?
                        .unwrap_or(true);
                    ops.push(Op::Normalize {
                        name: name.clone(),
                        norm: Norm::PaddleX {
                            mean: f32s3(mean.unwrap_or([0.5; 3])),
                            std: f32s3(std.unwrap_or([0.5; 3])),
                            min: f32s3(min.unwrap_or([0.0; 3])),
                            max: f32s3(max.unwrap_or([255.0; 3])),
                            is_scale,
                        },
                    });
                }
                "ResizeByShort" => {
                    ctx.only(p, &["short_size", "max_size"], &name)?;
                    let short = ctx.usize(
                        get(p, "short_size").ok_or_else(|| ctx.err(format!("missing `{}`", key("short_size"))))?,
                        &key("short_size"),
                    )?;
                    let max_size = match get(p, "max_size") {
                        Some(v) => {
                            let f = ctx.f64(v, &key("max_size"))?;
                            (f > 0.0).then_some(f as usize)
                        }
                        None => None,
                    };
                    ops.push(Op::Resize {
                        name: name.clone(),
                        rule: SizeRule::Short { short, max_size, half_even: false },
                        interp: Interp::Linear,
                    });
                }
                "ResizeByLong" => {
                    ctx.only(p, &["long_size"], &name)?;
                    let long = ctx.usize(
                        get(p, "long_size").ok_or_else(|| ctx.err(format!("missing `{}`", key("long_size"))))?,
                        &key("long_size"),
                    )?;
                    // PaddleX C++ resizes by long side with INTER_NEAREST (kept for compatibility).
                    ops.push(Op::Resize {
                        name: name.clone(),
                        rule: SizeRule::Long { long, by_factor: true },
                        interp: Interp::Nearest,
                    });
                }
                "Resize" => {
                    ctx.only(p, &["target_size", "interp", "keep_ratio"], &name)?;
                    let ts = get(p, "target_size")
                        .ok_or_else(|| ctx.err(format!("missing `{}`", key("target_size"))))?;
                    let (a, b) = ctx.pair(ts, &key("target_size"))?;
                    // 1.x: [w, h]; 2.x: [h, w].
                    let (w, h) = if v1 { (a, b) } else { (b, a) };
                    let interp = match get(p, "interp") {
                        Some(v) => interp_name(ctx, v, &key("interp"))?,
                        None if v1 => {
                            return Err(ctx.err(format!("missing `{}` (no default in PaddleX)", key("interp"))))
                        }
                        None => Interp::Linear,
                    };
                    let keep_ratio = get(p, "keep_ratio")
                        .map(|v| ctx.bool(v, &key("keep_ratio")))
                        .transpose()?
                        .unwrap_or(false);
                    let rule = if keep_ratio {
                        SizeRule::DetScale { h, w, keep_ratio: true }
                    } else {
                        SizeRule::Fixed { w, h }
                    };
                    ops.push(Op::Resize { name: name.clone(), rule, interp });
                }
                "CenterCrop" => {
                    ctx.only(p, &["crop_size"], &name)?;
                    let cs = get(p, "crop_size")
                        .ok_or_else(|| ctx.err(format!("missing `{}`", key("crop_size"))))?;
                    let (w, h) = ctx.pair(cs, &key("crop_size"))?;
                    ops.push(Op::CenterCrop { name: name.clone(), w, h });
                }
                "Padding" => {
                    ctx.only(
                        p,
                        &["coarsest_stride", "target_size", "im_padding_value", "label_padding_value"],
                        &name,
                    )?;
                    let stride = get(p, "coarsest_stride")
                        .map(|v| ctx.usize(v, &key("coarsest_stride")))
                        .transpose()?;
                    let target = match get(p, "target_size") {
                        Some(v) => {
                            let (w, h) = ctx.pair(v, &key("target_size"))?;
                            (w > 1 || h > 1).then_some((w, h))
                        }
                        None => None,
                    };
                    let value = get(p, "im_padding_value")
                        .map(|v| ctx.three(v, &key("im_padding_value")))
                        .transpose()?
                        .unwrap_or([0.0; 3]);
                    ops.push(Op::Pad {
                        name: name.clone(),
                        target,
                        stride,
                        value: f32s3(value),
                        to_f32: true,
                    });
                }
                "Clip" => {
                    ctx.only(p, &["min_val", "max_val"], &name)?;
                    let min = get(p, "min_val").map(|v| ctx.three(v, &key("min_val"))).transpose()?;
                    let max = get(p, "max_val").map(|v| ctx.three(v, &key("max_val"))).transpose()?;
                    ops.push(Op::Clip {
                        name: name.clone(),
                        min: f32s3(min.unwrap_or([0.0; 3])),
                        max: f32s3(max.unwrap_or([255.0; 3])),
                    });
                }
                other => {
                    return Err(ctx.err(format!(
                        "unknown transform `{other}` in `Transforms`; accepted: Normalize, ResizeByShort, \
                         ResizeByLong, Resize, CenterCrop, Padding, Clip, Arrange*"
                    )))
                }
            }
        }
    }
    let det = (task == Task::Detect).then(|| DetConfig {
        arch: model_name.clone(),
        nms: None,
        fpn_stride: Vec::new(),
        draw_threshold: 0.5,
    });
    Ok(ModelConfig {
        file: ctx.file.to_string(),
        suite: Suite::PaddleX,
        task,
        model_name,
        labels,
        pipeline: Pipeline {
            bgr,
            float_first: true,
            ops,
        },
        topk: 1,
        det,
        seg_threshold: 0.5,
    })
}

fn parse_clas(ctx: &Ctx, m: &Mapping) -> Result<ModelConfig> {
    ctx.only(m, &["Global", "PreProcess", "PostProcess"], "the top level")?;
    let model_name = get(m, "Global")
        .and_then(|g| g.as_mapping())
        .and_then(|g| get(g, "model_name"))
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let pre = ctx.map(
        get(m, "PreProcess").ok_or_else(|| ctx.err("missing `PreProcess`"))?,
        "PreProcess",
    )?;
    ctx.only(pre, &["transform_ops"], "PreProcess")?;
    let seq = get(pre, "transform_ops")
        .and_then(|v| v.as_sequence())
        .ok_or_else(|| ctx.err("`PreProcess.transform_ops` must be a list"))?;
    let mut bgr = false;
    let mut ops = Vec::new();
    for item in seq {
        let (name, p) = match item {
            Value::String(s) => (s.clone(), Mapping::new()),
            Value::Mapping(im) if im.len() == 1 => {
                let (k, v) = im.iter().next().expect("len checked");
                let name = ctx.str(k, "transform_ops[] name")?.to_string();
                let p = if v.is_null() {
                    Mapping::new()
                } else {
                    ctx.map(v, &name)?.clone()
                };
                (name, p)
            }
            _ => return Err(ctx.err("each `transform_ops` entry must be `{Name: {params}}`")),
        };
        let key = |k: &str| format!("PreProcess.transform_ops.{name}.{k}");
        match name.as_str() {
            "DecodeImage" => {
                ctx.only(&p, &["to_rgb", "channel_first", "to_np", "mode"], &name)?;
                let to_rgb = get(&p, "to_rgb").map(|v| ctx.bool(v, &key("to_rgb"))).transpose()?.unwrap_or(true);
                if get(&p, "channel_first").map(|v| ctx.bool(v, &key("channel_first"))).transpose()? == Some(true) {
                    return Err(ctx.err(format!("`{}` = true is not supported; accepted: false", key("channel_first"))));
                }
                bgr = !to_rgb;
            }
            "ResizeImage" => {
                ctx.only(&p, &["size", "resize_short", "interpolation", "backend", "return_numpy"], &name)?;
                if let Some(b) = get(&p, "backend") {
                    let b = ctx.str(b, &key("backend"))?;
                    if b != "cv2" {
                        return Err(ctx.err(format!("`{}` = {b:?}; accepted: cv2", key("backend"))));
                    }
                }
                let interp = match get(&p, "interpolation") {
                    Some(v) => interp_name(ctx, v, &key("interpolation"))?,
                    None => Interp::Linear,
                };
                let rule = match (get(&p, "size"), get(&p, "resize_short")) {
                    (Some(s), None) => {
                        let (w, h) = ctx.pair(s, &key("size"))?;
                        SizeRule::Fixed { w, h }
                    }
                    (None, Some(s)) => SizeRule::Short {
                        short: ctx.usize(s, &key("resize_short"))?,
                        max_size: None,
                        half_even: true,
                    },
                    _ => return Err(ctx.err(format!("`{name}` needs exactly one of `size` and `resize_short`"))),
                };
                ops.push(Op::Resize { name: name.clone(), rule, interp });
            }
            "CropImage" => {
                ctx.only(&p, &["size"], &name)?;
                let (w, h) = ctx.pair(get(&p, "size").ok_or_else(|| ctx.err(format!("missing `{}`", key("size"))))?, &key("size"))?;
                ops.push(Op::CenterCrop { name: name.clone(), w, h });
            }
            "NormalizeImage" => {
                ctx.only(&p, &["scale", "mean", "std", "order", "channel_num", "output_fp16"], &name)?;
                if let Some(o) = get(&p, "order") {
                    let o = ctx.str(o, &key("order"))?;
                    if !(o.is_empty() || o == "hwc") {
                        return Err(ctx.err(format!("`{}` = {o:?}; accepted: hwc", key("order"))));
                    }
                }
                if let Some(c) = get(&p, "channel_num") {
                    if ctx.usize(c, &key("channel_num"))? != 3 {
                        return Err(ctx.err(format!("`{}` must be 3", key("channel_num"))));
                    }
                }
                let scale = get(&p, "scale").map(|v| ctx.f64(v, &key("scale"))).transpose()?.unwrap_or(1.0 / 255.0);
                let mean = get(&p, "mean").map(|v| ctx.three(v, &key("mean"))).transpose()?.unwrap_or([0.485, 0.456, 0.406]);
                let std = get(&p, "std").map(|v| ctx.three(v, &key("std"))).transpose()?.unwrap_or([0.229, 0.224, 0.225]);
                ops.push(Op::Normalize {
                    name: name.clone(),
                    norm: Norm::Clas { scale: scale as f32, mean: f32s3(mean), std: f32s3(std) },
                });
            }
            "ToCHWImage" => {}
            other => {
                return Err(ctx.err(format!(
                    "unknown transform `{other}` in `PreProcess.transform_ops`; accepted: DecodeImage, \
                     ResizeImage, CropImage, NormalizeImage, ToCHWImage"
                )))
            }
        }
    }
    let mut labels = Vec::new();
    let mut topk = 1;
    if let Some(post) = get(m, "PostProcess") {
        let post = ctx.map(post, "PostProcess")?;
        for (k, v) in post {
            let k = ctx.str(k, "PostProcess key")?;
            match k {
                "Topk" => {
                    let t = ctx.map(v, "PostProcess.Topk")?;
                    ctx.only(
                        t,
                        &["topk", "label_list", "class_id_map_file"],
                        "PostProcess.Topk",
                    )?;
                    if let Some(v) = get(t, "topk") {
                        topk = ctx.usize(v, "PostProcess.Topk.topk")?.max(1);
                    }
                    if let Some(v) = get(t, "label_list") {
                        labels = ctx.strings(v, "PostProcess.Topk.label_list")?;
                    }
                }
                "main_indicator" | "SavePreLabel" => {}
                other => {
                    return Err(ctx.err(format!(
                        "unknown post-process `{other}` in `PostProcess`; accepted: Topk"
                    )))
                }
            }
        }
    }
    Ok(ModelConfig {
        file: ctx.file.to_string(),
        suite: Suite::PaddleClas,
        task: Task::Classify,
        model_name,
        labels,
        pipeline: Pipeline {
            bgr,
            float_first: false,
            ops,
        },
        topk,
        det: None,
        seg_threshold: 0.5,
    })
}

fn parse_det(ctx: &Ctx, m: &Mapping) -> Result<ModelConfig> {
    ctx.only(
        m,
        &[
            "mode",
            "draw_threshold",
            "metric",
            "use_dynamic_shape",
            "arch",
            "min_subgraph_size",
            "Preprocess",
            "label_list",
            "NMS",
            "fpn_stride",
            "tracker",
            "mask",
            "Global",
            "export_onnx",
            "export_eb",
            "Hpi",
            "uniform_output_enabled",
            "tensor_rt",
            "pdx_model_name",
        ],
        "the top level",
    )?;
    let arch = ctx
        .str(
            get(m, "arch").ok_or_else(|| ctx.err("missing `arch`"))?,
            "arch",
        )?
        .to_string();
    let labels = get(m, "label_list")
        .map(|v| ctx.strings(v, "label_list"))
        .transpose()?
        .unwrap_or_default();
    let draw_threshold = get(m, "draw_threshold")
        .map(|v| ctx.f64(v, "draw_threshold"))
        .transpose()?
        .unwrap_or(0.5) as f32;
    let seq = get(m, "Preprocess")
        .and_then(|v| v.as_sequence())
        .ok_or_else(|| ctx.err("`Preprocess` must be a list"))?;
    let mut ops = Vec::new();
    for item in seq {
        let p = ctx.map(item, "Preprocess[]")?;
        let name = ctx
            .str(
                get(p, "type").ok_or_else(|| ctx.err("a `Preprocess` entry has no `type`"))?,
                "Preprocess[].type",
            )?
            .to_string();
        let key = |k: &str| format!("Preprocess.{name}.{k}");
        match name.as_str() {
            "Resize" => {
                ctx.only(p, &["type", "target_size", "keep_ratio", "interp"], &name)?;
                let (h, w) = ctx.pair(get(p, "target_size").ok_or_else(|| ctx.err(format!("missing `{}`", key("target_size"))))?, &key("target_size"))?;
                let keep_ratio = get(p, "keep_ratio").map(|v| ctx.bool(v, &key("keep_ratio"))).transpose()?.unwrap_or(true);
                let interp = get(p, "interp").map(|v| interp_name(ctx, v, &key("interp"))).transpose()?.unwrap_or(Interp::Linear);
                ops.push(Op::Resize { name: name.clone(), rule: SizeRule::DetScale { h, w, keep_ratio }, interp });
            }
            "NormalizeImage" => {
                ctx.only(p, &["type", "mean", "std", "is_scale", "norm_type"], &name)?;
                let is_scale = get(p, "is_scale").map(|v| ctx.bool(v, &key("is_scale"))).transpose()?.unwrap_or(true);
                let norm_type = get(p, "norm_type").map(|v| ctx.str(v, &key("norm_type"))).transpose()?.unwrap_or("mean_std");
                let (mean, std) = match norm_type {
                    "mean_std" => (
                        ctx.three(get(p, "mean").ok_or_else(|| ctx.err(format!("missing `{}`", key("mean"))))?, &key("mean"))?,
                        ctx.three(get(p, "std").ok_or_else(|| ctx.err(format!("missing `{}`", key("std"))))?, &key("std"))?,
                    ),
                    "none" => ([0.0; 3], [1.0; 3]),
                    o => return Err(ctx.err(format!("`{}` = {o:?}; accepted: mean_std, none", key("norm_type")))),
                };
                ops.push(Op::Normalize {
                    name: name.clone(),
                    norm: Norm::MeanStd64 { scale_mul: is_scale.then_some(true), mean, std },
                });
            }
            "Permute" => ctx.only(p, &["type"], &name)?,
            "Pad" => {
                ctx.only(p, &["type", "size", "fill_value"], &name)?;
                let (h, w) = ctx.pair(get(p, "size").ok_or_else(|| ctx.err(format!("missing `{}`", key("size"))))?, &key("size"))?;
                let value = get(p, "fill_value").map(|v| ctx.three(v, &key("fill_value"))).transpose()?.unwrap_or([114.0; 3]);
                ops.push(Op::Pad { name: name.clone(), target: Some((w, h)), stride: None, value: f32s3(value), to_f32: true });
            }
            "PadStride" => {
                ctx.only(p, &["type", "stride"], &name)?;
                let stride = get(p, "stride").map(|v| ctx.usize(v, &key("stride"))).transpose()?.unwrap_or(0);
                ops.push(Op::Pad { name: name.clone(), target: None, stride: Some(stride), value: [0.0; 3], to_f32: true });
            }
            other => {
                return Err(ctx.err(format!(
                    "unknown transform `{other}` in `Preprocess`; accepted: Resize, NormalizeImage, Permute, Pad, PadStride"
                )))
            }
        }
    }
    let nms = match get(m, "NMS") {
        Some(v) => {
            let n = ctx.map(v, "NMS")?;
            ctx.only(
                n,
                &[
                    "name",
                    "keep_top_k",
                    "nms_threshold",
                    "nms_top_k",
                    "score_threshold",
                    "nms_eta",
                    "normalized",
                    "background_label",
                    "return_index",
                ],
                "NMS",
            )?;
            // `nms_eta`, `normalized`, `background_label` and `return_index` configure the NMS
            // op inside exported graphs; PaddleDetection's post-process for raw PicoDet heads
            // (deploy/python `PicoDetPostProcess`) uses only the four values read here.
            let f = |k: &str, d: f64| -> Result<f64> {
                get(n, k)
                    .map(|v| ctx.f64(v, &format!("NMS.{k}")))
                    .transpose()
                    .map(|o| o.unwrap_or(d))
            };
            Some(Nms {
                score_threshold: f("score_threshold", 0.3)? as f32,
                nms_threshold: f("nms_threshold", 0.5)? as f32,
                nms_top_k: f("nms_top_k", 1000.0)? as usize,
                keep_top_k: f("keep_top_k", 100.0)? as usize,
            })
        }
        None => None,
    };
    let fpn_stride = match get(m, "fpn_stride") {
        Some(v) => ctx
            .f64s(v, "fpn_stride")?
            .into_iter()
            .map(|x| x as usize)
            .collect(),
        None => Vec::new(),
    };
    Ok(ModelConfig {
        file: ctx.file.to_string(),
        suite: Suite::PaddleDetection,
        task: Task::Detect,
        model_name: arch.clone(),
        labels,
        pipeline: Pipeline {
            bgr: false,
            float_first: false,
            ops,
        },
        topk: 1,
        det: Some(DetConfig {
            arch,
            nms,
            fpn_stride,
            draw_threshold,
        }),
        seg_threshold: 0.5,
    })
}

fn parse_seg(ctx: &Ctx, m: &Mapping) -> Result<ModelConfig> {
    let d = ctx.map(
        get(m, "Deploy").ok_or_else(|| ctx.err("missing `Deploy`"))?,
        "Deploy",
    )?;
    ctx.only(
        d,
        &[
            "model",
            "params",
            "transforms",
            "input_shape",
            "output_op",
            "output_dtype",
            "threshold",
            "labels",
        ],
        "Deploy",
    )?;
    let seq = get(d, "transforms")
        .and_then(|v| v.as_sequence())
        .ok_or_else(|| ctx.err("`Deploy.transforms` must be a list"))?;
    let mut ops = Vec::new();
    for item in seq {
        let p = ctx.map(item, "Deploy.transforms[]")?;
        let name = ctx
            .str(
                get(p, "type")
                    .ok_or_else(|| ctx.err("a `Deploy.transforms` entry has no `type`"))?,
                "type",
            )?
            .to_string();
        let key = |k: &str| format!("Deploy.transforms.{name}.{k}");
        match name.as_str() {
            "Resize" => {
                ctx.only(p, &["type", "target_size", "keep_ratio", "interp", "size_divisor"], &name)?;
                let (w, h) = match get(p, "target_size") {
                    Some(v) => ctx.pair(v, &key("target_size"))?,
                    None => (512, 512),
                };
                let interp = get(p, "interp").map(|v| interp_name(ctx, v, &key("interp"))).transpose()?.unwrap_or(Interp::Linear);
                let keep_ratio = get(p, "keep_ratio").map(|v| ctx.bool(v, &key("keep_ratio"))).transpose()?.unwrap_or(false);
                let size_divisor = match get(p, "size_divisor") {
                    None => None,
                    Some(serde_yaml_ng::Value::Null) => None,
                    Some(v) => match ctx.usize(v, &key("size_divisor"))? {
                        0 => return Err(ctx.err(format!("`{}` must be a positive integer", key("size_divisor")))),
                        d => Some(d),
                    },
                };
                ops.push(Op::Resize { name: name.clone(), rule: SizeRule::SegFit { w, h, keep_ratio, size_divisor }, interp });
            }
            "ResizeByLong" => {
                ctx.only(p, &["type", "long_size"], &name)?;
                let long = ctx.usize(get(p, "long_size").ok_or_else(|| ctx.err(format!("missing `{}`", key("long_size"))))?, &key("long_size"))?;
                ops.push(Op::Resize { name: name.clone(), rule: SizeRule::Long { long, by_factor: false }, interp: Interp::Linear });
            }
            "ResizeByShort" => {
                ctx.only(p, &["type", "short_size"], &name)?;
                let short = ctx.usize(get(p, "short_size").ok_or_else(|| ctx.err(format!("missing `{}`", key("short_size"))))?, &key("short_size"))?;
                ops.push(Op::Resize { name: name.clone(), rule: SizeRule::Short { short, max_size: None, half_even: true }, interp: Interp::Linear });
            }
            "Normalize" => {
                ctx.only(p, &["type", "mean", "std"], &name)?;
                let mean = get(p, "mean").map(|v| ctx.three(v, &key("mean"))).transpose()?.unwrap_or([0.5; 3]);
                let std = get(p, "std").map(|v| ctx.three(v, &key("std"))).transpose()?.unwrap_or([0.5; 3]);
                ops.push(Op::Normalize { name: name.clone(), norm: Norm::MeanStd64 { scale_mul: Some(false), mean, std } });
            }
            "Padding" => {
                ctx.only(p, &["type", "target_size", "im_padding_value", "label_padding_value"], &name)?;
                let (w, h) = ctx.pair(get(p, "target_size").ok_or_else(|| ctx.err(format!("missing `{}`", key("target_size"))))?, &key("target_size"))?;
                let value = get(p, "im_padding_value").map(|v| ctx.three(v, &key("im_padding_value"))).transpose()?.unwrap_or([127.5; 3]);
                ops.push(Op::Pad { name: name.clone(), target: Some((w, h)), stride: None, value: f32s3(value), to_f32: true });
            }
            other => {
                return Err(ctx.err(format!(
                    "unknown transform `{other}` in `Deploy.transforms`; accepted: Resize, ResizeByLong, ResizeByShort, Normalize, Padding"
                )))
            }
        }
    }
    let seg_threshold = get(d, "threshold")
        .map(|v| ctx.f64(v, "Deploy.threshold"))
        .transpose()?
        .unwrap_or(0.5) as f32;
    let labels = get(d, "labels")
        .map(|v| ctx.strings(v, "Deploy.labels"))
        .transpose()?
        .unwrap_or_default();
    Ok(ModelConfig {
        file: ctx.file.to_string(),
        suite: Suite::PaddleSeg,
        task: Task::Segment,
        model_name: String::new(),
        labels,
        pipeline: Pipeline {
            bgr: false,
            float_first: true,
            ops,
        },
        topk: 1,
        det: None,
        seg_threshold,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_expressions_parse() {
        assert_eq!(parse_num_expr("1./255."), Some(1.0 / 255.0));
        assert_eq!(parse_num_expr("0.5"), Some(0.5));
        assert_eq!(parse_num_expr("abc"), None);
    }

    #[test]
    fn unknown_transform_is_named() {
        let y = b"Model: X\n_Attributes: {model_type: classifier, labels: [a]}\nTransforms:\n- Foo: {}\n";
        let e = parse("model.yml", y).unwrap_err().to_string();
        assert!(
            e.contains("model.yml") && e.contains("Foo") && e.contains("accepted"),
            "{e}"
        );
    }

    #[test]
    fn bad_model_type_lists_accepted_values() {
        let y = b"Model: X\n_Attributes: {model_type: tracker}\nTransforms: []\n";
        let e = parse("model.yml", y).unwrap_err().to_string();
        assert!(
            e.contains("tracker") && e.contains("classifier, detector, segmenter"),
            "{e}"
        );
    }

    #[test]
    fn paddlex_resize_without_interp_is_an_error_in_1x() {
        let y = b"version: 1.3.0\nModel: X\n_Attributes: {model_type: classifier}\nTransforms:\n- Resize: {target_size: 224}\n";
        let e = parse("model.yml", y).unwrap_err().to_string();
        assert!(e.contains("Resize.interp"), "{e}");
    }

    #[test]
    fn paddlex_classifier_parses_ops_in_order() {
        let y = b"version: 1.3.0\nModel: ResNet50\nTransformsMode: BGR\n_Attributes: {model_type: classifier, labels: [cat, dog]}\nTransforms:\n- ResizeByShort: {short_size: 256, max_size: -1}\n- CenterCrop: {crop_size: 224}\n- Normalize: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}\n- ArrangeClassifier: {mode: test}\n";
        let c = parse("model.yml", y).unwrap();
        assert_eq!(c.task, Task::Classify);
        assert_eq!(c.labels, vec!["cat", "dog"]);
        assert!(c.pipeline.bgr);
        assert_eq!(c.pipeline.ops.len(), 3);
        assert!(matches!(
            c.pipeline.ops[1],
            Op::CenterCrop { w: 224, h: 224, .. }
        ));
    }

    #[test]
    fn unknown_detection_key_and_bad_interp() {
        let y =
            b"arch: PicoDet\nPreprocess:\n- type: Resize\n  target_size: [800, 608]\n  interp: 9\n";
        let e = parse("infer_cfg.yml", y).unwrap_err().to_string();
        assert!(e.contains("interp") && e.contains("accepted"), "{e}");
        let y = b"arch: PicoDet\nbogus: 1\nPreprocess: []\n";
        let e = parse("infer_cfg.yml", y).unwrap_err().to_string();
        assert!(e.contains("bogus"), "{e}");
    }

    #[test]
    fn unrecognised_and_invalid_yaml() {
        let e = parse("deploy.yaml", b"foo: 1\n").unwrap_err().to_string();
        assert!(e.contains("not a recognised config"), "{e}");
        let e = parse("deploy.yaml", b"Deploy: [unclosed\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid YAML"), "{e}");
        let e = parse("deploy.yaml", &[0xff, 0xfe]).unwrap_err().to_string();
        assert!(e.contains("UTF-8"), "{e}");
    }
}
