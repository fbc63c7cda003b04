//! The result schema (version 1, documented in `docs/JSON.md`): one JSON object per image, with
//! the same keys on every line of a task, a failure included. Also PaddleX 3's `res` layout.

use serde_json::{json, Map, Value};

use crate::config::Task;
use crate::postprocess::{ClassScore, Prediction};

/// The schema version written in every object's `schema` key.
pub const SCHEMA_VERSION: u32 = 1;

/// Files written for one image, named in its result.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// The visualisation picture (detection, segmentation).
    pub visualization: Option<String>,
    /// The label map as a PNG (segmentation).
    pub label_map_png: Option<String>,
}

/// The task's own keys, all `null`, for a failed image.
fn task_keys(task: Task) -> &'static [&'static str] {
    match task {
        Task::Classify => &["class_id", "label", "score", "topk"],
        Task::Detect => &["boxes", "visualization"],
        Task::Segment => &[
            "width",
            "height",
            "classes",
            "label_map_png",
            "visualization",
        ],
    }
}

fn base(image: &str, task: Task) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("schema".into(), json!(SCHEMA_VERSION));
    m.insert("image".into(), json!(image));
    m.insert("task".into(), json!(task.name()));
    m.insert("error".into(), Value::Null);
    m
}

/// The result object of one image. `topk` caps the classes listed (at least one).
pub fn prediction(
    image: &str,
    task: Task,
    pred: &Prediction,
    topk: usize,
    files: &Written,
) -> Value {
    let mut m = base(image, task);
    match pred {
        Prediction::Classes(classes) => {
            let listed: Vec<&ClassScore> = classes.iter().take(topk.max(1)).collect();
            let best = listed.first();
            m.insert("class_id".into(), json!(best.map(|c| c.class_id)));
            m.insert("label".into(), json!(best.map(|c| c.label.clone())));
            m.insert("score".into(), json!(best.map(|c| c.score)));
            m.insert("topk".into(), json!(listed));
        }
        Prediction::Boxes(boxes) => {
            m.insert("boxes".into(), json!(boxes));
            m.insert("visualization".into(), json!(files.visualization));
        }
        Prediction::Segmentation(seg) => {
            let mut present = [false; 256];
            for &l in &seg.labels {
                present[l as usize] = true;
            }
            let classes: Vec<usize> = (0..256).filter(|&i| present[i]).collect();
            m.insert("width".into(), json!(seg.width));
            m.insert("height".into(), json!(seg.height));
            m.insert("classes".into(), json!(classes));
            m.insert("label_map_png".into(), json!(files.label_map_png));
            m.insert("visualization".into(), json!(files.visualization));
        }
    }
    Value::Object(m)
}

/// The result object of an image that failed: `error` holds its kind and message, the task's
/// keys are `null`.
pub fn failure(image: &str, task: Task, kind: &str, message: &str) -> Value {
    let mut m = base(image, task);
    m.insert("error".into(), json!({"kind": kind, "message": message}));
    for k in task_keys(task) {
        m.insert((*k).into(), Value::Null);
    }
    Value::Object(m)
}

/// PaddleX 3's result layout (`{"res": {...}}`, as its `save_to_json` writes): classification
/// `class_ids`/`scores`/`label_names`; detection `boxes` of `cls_id`/`label`/`score`/`coordinate`;
/// segmentation `pred` (the label map PNG's path, where PaddleX holds the array).
pub fn paddlex(image: &str, pred: &Prediction, topk: usize, files: &Written) -> Value {
    let mut res = Map::new();
    res.insert("input_path".into(), json!(image));
    res.insert("page_index".into(), Value::Null);
    match pred {
        Prediction::Classes(classes) => {
            let listed: Vec<&ClassScore> = classes.iter().take(topk.max(1)).collect();
            res.insert(
                "class_ids".into(),
                json!(listed.iter().map(|c| c.class_id).collect::<Vec<_>>()),
            );
            res.insert(
                "scores".into(),
                json!(listed.iter().map(|c| c.score).collect::<Vec<_>>()),
            );
            res.insert(
                "label_names".into(),
                json!(listed.iter().map(|c| c.label.clone()).collect::<Vec<_>>()),
            );
        }
        Prediction::Boxes(boxes) => {
            let b: Vec<Value> = boxes
                .iter()
                .map(|b| {
                    json!({"cls_id": b.class_id, "label": b.label, "score": b.score, "coordinate": b.bbox})
                })
                .collect();
            res.insert("boxes".into(), json!(b));
        }
        Prediction::Segmentation(_) => {
            res.insert("pred".into(), json!(files.label_map_png));
        }
    }
    json!({ "res": res })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postprocess::{DetBox, SegMap};

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    #[test]
    fn success_and_failure_lines_carry_the_same_keys() {
        let classes = Prediction::Classes(vec![
            ClassScore {
                class_id: 1,
                label: "180".into(),
                score: 0.9,
            },
            ClassScore {
                class_id: 0,
                label: "0".into(),
                score: 0.1,
            },
        ]);
        let boxes = Prediction::Boxes(vec![DetBox {
            class_id: 2,
            label: "figure".into(),
            score: 0.8,
            bbox: [1.0, 2.0, 3.0, 4.0],
        }]);
        let seg = Prediction::Segmentation(SegMap {
            width: 2,
            height: 1,
            labels: vec![0, 3],
        });
        for (task, pred) in [
            (Task::Classify, &classes),
            (Task::Detect, &boxes),
            (Task::Segment, &seg),
        ] {
            let ok = prediction("a.png", task, pred, 1, &Written::default());
            let bad = failure("b.png", task, "invalid_input", "truncated");
            assert_eq!(keys(&ok), keys(&bad), "{task:?}");
            assert_eq!(ok["error"], Value::Null);
            assert_eq!(bad["error"]["kind"], "invalid_input");
        }
        let top1 = prediction("a.png", Task::Classify, &classes, 1, &Written::default());
        assert_eq!(top1["topk"].as_array().unwrap().len(), 1);
        let top2 = prediction("a.png", Task::Classify, &classes, 2, &Written::default());
        assert_eq!(keys(&top1), keys(&top2));
        assert_eq!(top2["topk"][1]["class_id"], 0);
        let s = prediction("a.png", Task::Segment, &seg, 1, &Written::default());
        assert_eq!(s["classes"], json!([0, 3]));
        let p = paddlex("a.png", &boxes, 1, &Written::default());
        assert_eq!(
            p["res"]["boxes"][0]["coordinate"],
            json!([1.0, 2.0, 3.0, 4.0])
        );
        assert_eq!(p["res"]["boxes"][0]["cls_id"], 2);
    }
}
