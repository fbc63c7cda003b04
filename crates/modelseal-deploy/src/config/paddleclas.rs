//! PaddleClas and PaddleX 3.x classification `inference.yml`: `PreProcess.transform_ops`, `PostProcess.Topk`.

use serde_yaml_ng::{Mapping, Value};

use super::yaml::*;
use super::*;
use crate::image::Interp;
use crate::transforms::{Norm, Op, Pipeline, SizeRule};

pub(super) fn parse(ctx: &Ctx, m: &Mapping) -> Result<ModelConfig> {
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
