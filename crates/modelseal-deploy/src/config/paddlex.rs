//! PaddleX 1.x/2.x `model.yml`: `Transforms`, `_Attributes`, labels and model types.

use serde_yaml_ng::{Mapping, Value};

use super::yaml::*;
use super::*;
use crate::image::Interp;
use crate::transforms::{Norm, Op, Pipeline, SizeRule};

pub(super) fn parse(ctx: &Ctx, m: &Mapping) -> Result<ModelConfig> {
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
