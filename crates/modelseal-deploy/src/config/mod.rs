//! Model configs parsed into typed structs at load time: PaddleX `model.yml`, PaddleClas /
//! PaddleX 3.x `inference.yml`, PaddleDetection `infer_cfg.yml` and PaddleSeg `deploy.yaml`.

use serde_yaml_ng::Value;

use crate::error::{Error, Result};
use crate::transforms::Pipeline;

mod paddleclas;
mod paddledet;
mod paddleseg;
mod paddlex;
mod yaml;

use yaml::Ctx;

/// Config file names recognised in a model directory.
pub const CONFIG_NAMES: &[&str] = &[
    "model.yml",
    "inference.yml",
    "infer_cfg.yml",
    "deploy.yaml",
    "deploy.yml",
];

/// The config among a directory's member `names`: exactly one of [`CONFIG_NAMES`] (`dir` names
/// the directory in errors).
pub fn pick(names: &[String], dir: &std::path::Path) -> Result<String> {
    let found: Vec<&String> = names
        .iter()
        .filter(|n| CONFIG_NAMES.contains(&n.as_str()))
        .collect();
    match found.len() {
        1 => Ok(found[0].clone()),
        0 => Err(Error::Layout {
            dir: dir.to_path_buf(),
            message: format!("no config; expected one of {}", CONFIG_NAMES.join(", ")),
        }),
        _ => Err(Error::Layout {
            dir: dir.to_path_buf(),
            message: format!("several configs {found:?}; keep one"),
        }),
    }
}

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
    /// The task's name in results (the JSON schema's `task`, the server's and the Python
    /// package's): `classification`, `detection` or `segmentation`.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classify => "classification",
            Task::Detect => "detection",
            Task::Segment => "segmentation",
        }
    }

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
        paddleseg::parse(&ctx, m)
    } else if m.contains_key("PreProcess") {
        paddleclas::parse(&ctx, m)
    } else if m.contains_key("Preprocess") && m.contains_key("arch") {
        paddledet::parse(&ctx, m)
    } else if m.contains_key("Transforms") || m.contains_key("_Attributes") {
        paddlex::parse(&ctx, m)
    } else {
        Err(ctx.err(
            "not a recognised config: expected `Deploy` (PaddleSeg), `PreProcess` (PaddleClas), \
             `Preprocess` + `arch` (PaddleDetection) or `Transforms` + `_Attributes` (PaddleX)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::yaml::parse_num_expr;
    use super::*;
    use crate::transforms::Op;

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
