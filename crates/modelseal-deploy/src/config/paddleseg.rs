//! PaddleSeg `deploy.yaml`: `Deploy.transforms`.

use serde_yaml_ng::Mapping;

use super::yaml::*;
use super::*;
use crate::image::Interp;
use crate::transforms::{Norm, Op, Pipeline, SizeRule};

pub(super) fn parse(ctx: &Ctx, m: &Mapping) -> Result<ModelConfig> {
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
