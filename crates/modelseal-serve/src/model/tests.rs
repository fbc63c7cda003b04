use super::*;
use crate::protocol::Input;
use modelseal_deploy::backend::ElemType;
use modelseal_deploy::{ClassScore, DetBox, Prediction, SegMap};

fn det(id: usize, score: f32) -> DetBox {
    DetBox {
        class_id: id,
        label: format!("c{id}"),
        score,
        bbox: [1.0, 2.0, 3.0, 4.0],
    }
}

fn opts(threshold: Option<f32>, topk: usize) -> PipelineOptions {
    PipelineOptions { threshold, topk }
}

#[test]
fn results_of_the_wrong_task_are_internal_errors() {
    let p = vec![Prediction::Boxes(vec![])];
    assert!(pipeline_outputs(Task::Classify, &p, &opts(None, 1)).is_err());
    assert!(pipeline_outputs(Task::Segment, &p, &opts(None, 1)).is_err());
    let c = vec![Prediction::Classes(vec![])];
    assert!(pipeline_outputs(Task::Detect, &c, &opts(None, 1)).is_err());
    // No class at all.
    assert!(pipeline_outputs(Task::Classify, &c, &opts(None, 1)).is_err());
}

#[test]
fn segmentation_of_images_of_different_sizes_is_refused() {
    let s = |h, w| {
        Prediction::Segmentation(SegMap {
            width: w,
            height: h,
            labels: vec![0; w * h],
        })
    };
    let e = pipeline_outputs(Task::Segment, &[s(2, 3), s(3, 2)], &opts(None, 1)).unwrap_err();
    assert_eq!(e.http_status(), 400);
    let out = pipeline_outputs(Task::Segment, &[s(2, 3), s(2, 3)], &opts(None, 1)).unwrap();
    assert_eq!(out[0].shape, vec![2, 2, 3]);
    assert_eq!(out[0].data, Data::U8(vec![0; 12]));
}

#[test]
fn detections_are_padded_to_the_largest_count_of_the_request() {
    let preds = vec![
        Prediction::Boxes(vec![det(2, 0.9), det(0, 0.3)]),
        Prediction::Boxes(vec![]),
        Prediction::Boxes(vec![det(1, 0.6)]),
    ];
    let out = pipeline_outputs(Task::Detect, &preds, &opts(None, 1)).unwrap();
    assert_eq!(out[0].data, Data::I32(vec![2, 0, 1]));
    assert_eq!(out[1].shape, vec![3, 2, 4]);
    assert_eq!(out[2].shape, vec![3, 2]);
    assert_eq!(out[3].data, Data::I64(vec![2, 0, -1, -1, 1, -1]));
    assert_eq!(out[2].data, Data::F32(vec![0.9, 0.3, 0.0, 0.0, 0.6, 0.0]));
    let Data::F32(b) = &out[1].data else { panic!() };
    assert_eq!(&b[8..16], &[0.0; 8]);
    assert_eq!(&b[20..24], &[0.0; 4]);
    let Data::Bytes(l) = &out[4].data else {
        panic!()
    };
    assert_eq!(l[0], b"c2");
    assert!(l[2].is_empty() && l[3].is_empty() && l[5].is_empty());
    // The threshold drops boxes before padding.
    let out = pipeline_outputs(Task::Detect, &preds, &opts(Some(0.5), 1)).unwrap();
    assert_eq!(out[0].data, Data::I32(vec![1, 0, 1]));
    assert_eq!(out[1].shape, vec![3, 1, 4]);
    // No box anywhere: K = 0.
    let out = pipeline_outputs(Task::Detect, &preds, &opts(Some(0.95), 1)).unwrap();
    assert_eq!(out[1].shape, vec![3, 0, 4]);
    assert_eq!(out[4].data, Data::Bytes(vec![]));
}

#[test]
fn classification_is_n_for_top1_and_n_by_k_for_topk() {
    let cls = |ids: &[usize]| {
        Prediction::Classes(
            ids.iter()
                .map(|&i| ClassScore {
                    class_id: i,
                    label: format!("l{i}"),
                    score: 1.0 / (i + 1) as f32,
                })
                .collect(),
        )
    };
    let preds = vec![cls(&[1, 0, 2]), cls(&[2, 1, 0])];
    let out = pipeline_outputs(Task::Classify, &preds, &opts(None, 1)).unwrap();
    assert_eq!(out[0].shape, vec![2]);
    assert_eq!(out[0].data, Data::I64(vec![1, 2]));
    assert_eq!(
        out[2].data,
        Data::Bytes(vec![b"l1".to_vec(), b"l2".to_vec()])
    );
    let out = pipeline_outputs(Task::Classify, &preds, &opts(None, 2)).unwrap();
    assert_eq!(out[0].shape, vec![2, 2]);
    assert_eq!(out[0].data, Data::I64(vec![1, 0, 2, 1]));
    // K beyond the classes: as many as there are.
    let out = pipeline_outputs(Task::Classify, &preds, &opts(None, 10)).unwrap();
    assert_eq!(out[1].shape, vec![2, 3]);
}

fn req(inputs: Vec<Tensor>) -> InferRequest {
    InferRequest {
        inputs: inputs
            .into_iter()
            .map(|tensor| Input {
                tensor,
                json: false,
            })
            .collect(),
        ..Default::default()
    }
}

#[test]
fn raw_inputs_of_the_wrong_name_type_or_shape_are_refused() {
    let model = vec![InputInfo {
        name: "x".into(),
        elem: ElemType::F32,
        shape: vec![-1, 3, 2],
    }];
    let t = |name: &str, shape: Vec<usize>, data: Data| Tensor::new(name, shape, data);
    let bad = [
        req(vec![]),
        req(vec![t("y", vec![1, 3, 2], Data::F32(vec![0.0; 6]))]),
        req(vec![t("x", vec![1, 3, 2], Data::I64(vec![0; 6]))]),
        req(vec![t("x", vec![1, 2, 3], Data::F32(vec![0.0; 6]))]),
        req(vec![t("x", vec![6], Data::F32(vec![0.0; 6]))]),
        req(vec![t("x", vec![0, 3, 2], Data::F32(vec![]))]),
        req(vec![
            t("x", vec![1, 3, 2], Data::F32(vec![0.0; 6])),
            t("z", vec![1], Data::F32(vec![0.0])),
        ]),
    ];
    for r in &bad {
        assert_eq!(
            raw_inputs(&model, r).unwrap_err().http_status(),
            400,
            "{r:?}"
        );
    }
    let ok = raw_inputs(
        &model,
        &req(vec![t("x", vec![2, 3, 2], Data::F32(vec![0.5; 12]))]),
    )
    .unwrap();
    assert_eq!(ok[0].0, "x");
    assert_eq!(ok[0].1.shape, vec![2, 3, 2]);
}

#[test]
fn undecodable_images_are_bad_requests() {
    let pipeline = Pipeline {
        bgr: false,
        float_first: false,
        ops: vec![],
    };
    for (bytes, json) in [
        (b"not an image".to_vec(), false),
        (Vec::new(), false),
        (b"%%% not base64".to_vec(), true),
        (b"aGVsbG8=".to_vec(), true),
    ] {
        let e = prepare_images(&[bytes], json, &pipeline).unwrap_err();
        assert_eq!(e.http_status(), 400);
        assert!(e.message().contains("image[0]"), "{e}");
    }
}

#[test]
fn a_raw_view_with_tensors_the_backends_cannot_exchange_is_refused_naming_them() {
    let t = |name: &str, elem: ElemType| InputInfo {
        name: name.into(),
        elem,
        shape: vec![-1, 2],
    };
    let ok = [
        t("x", ElemType::F32),
        t("n", ElemType::I32),
        t("i", ElemType::I64),
    ];
    assert_eq!(raw_view_refusal(&ok, &ok), None);
    let why = raw_view_refusal(&[t("x", ElemType::F32), t("mask", ElemType::Other)], &ok).unwrap();
    assert!(why.contains("input \"mask\""), "{why}");
    assert!(why.contains("FP32, INT32 and INT64"), "{why}");
    let why = raw_view_refusal(&ok, &[t("y", ElemType::F32), t("flags", ElemType::Other)]).unwrap();
    assert!(
        why.contains("output \"flags\"") && !why.contains("\"y\""),
        "{why}"
    );
}
