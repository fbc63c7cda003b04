//! PaddleDetection `infer_cfg.yml`: `Preprocess`, `arch`, `NMS`, `fpn_stride`, labels.

use serde_yaml_ng::Mapping;

use super::yaml::*;
use super::*;
use crate::image::Interp;
use crate::transforms::{Norm, Op, Pipeline, SizeRule};

pub(super) fn parse(ctx: &Ctx, m: &Mapping) -> Result<ModelConfig> {
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
