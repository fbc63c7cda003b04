//! Tiny committed models built by `scripts/reference/make_test_models.py` for the output kinds the real
//! models do not cover: PaddleDetection NMS rows (`image`, `im_shape`, `scale_factor` fed by
//! name), PaddleX 1.x YOLOv3 (`model.yml`, `im_size` int32) and a PaddleSeg int64 label map,
//! each on both backends, results in original-image pixels.

mod common;

use std::path::Path;

use modelseal_deploy::backend::BackendKind;
use modelseal_deploy::image::Mat;
use modelseal_deploy::{BackendOptions, Prediction, Predictor};

fn image() -> Mat {
    let (w, h) = (200usize, 100usize);
    let mut d = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            d.extend_from_slice(&[(x % 256) as u8, (y * 2 % 256) as u8, ((x + y) % 256) as u8]);
        }
    }
    Mat::from_u8(w, h, d)
}

/// The committed test model `tests/data/<name>` on tract and, when its library is found, on
/// ONNX Runtime (required under CI).
fn predictors(name: &str) -> Vec<(BackendKind, Predictor)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let mut kinds = vec![BackendKind::Tract];
    if common::ort_found() {
        kinds.push(BackendKind::OnnxRuntime);
    } else if std::env::var_os("CI").is_some() {
        panic!("ONNX Runtime is required under CI");
    } else {
        eprintln!("SKIP (onnxruntime part): ONNX Runtime library not found");
    }
    let src = modelseal_deploy::ModelSource::open(&dir, &modelseal::OpenOptions::new()).unwrap();
    kinds
        .into_iter()
        .map(|kind| {
            let opts = BackendOptions {
                kind,
                threads: Some(1),
                ir_optim: true,
                ..Default::default()
            };
            (kind, Predictor::open(&src, &opts).unwrap())
        })
        .collect()
}

#[test]
fn nms_rows_come_back_in_original_pixels_on_both_backends() {
    let img = image();
    for (kind, mut p) in predictors("nms_det") {
        let prep = p.preprocess(&img).unwrap();
        assert_eq!((prep.height, prep.width), (320, 320));
        assert_eq!(prep.scale, (3.2, 1.6));
        let mean = prep.chw.iter().map(|&v| v as f64).sum::<f64>() / prep.chw.len() as f64;
        let Prediction::Boxes(b) = p.infer(&[prep]).unwrap().remove(0) else {
            panic!("boxes")
        };
        assert_eq!(b.len(), 2, "{kind:?}: {b:?}");
        assert_eq!((b[0].class_id, b[0].label.as_str()), (1, "bicycle"));
        assert_eq!((b[1].class_id, b[1].label.as_str()), (0, "person"));
        assert!(
            (b[0].score as f64 - (0.5 + mean / 1000.0)).abs() < 1e-5,
            "{kind:?}: score {} vs mean {mean}",
            b[0].score
        );
        assert!((b[1].score as f64 - (0.25 + mean / 1000.0)).abs() < 1e-5);
        let want = [
            [10.0 / 1.6, 20.0 / 3.2, 110.0 / 1.6, 220.0 / 3.2],
            [150.0 / 1.6, 40.0 / 3.2, 300.0 / 1.6, 90.0 / 3.2],
        ];
        for (got, want) in b.iter().zip(want) {
            for k in 0..4 {
                assert!(
                    (got.bbox[k] - want[k] as f32).abs() < 1e-3,
                    "{kind:?}: {:?} vs {want:?}",
                    got.bbox
                );
            }
        }
    }
}

#[test]
fn paddlex_yolo_gets_im_size_and_bbox_rows() {
    let img = image();
    for (kind, mut p) in predictors("paddlex_yolo") {
        assert_eq!(p.config().model_name, "YOLOv3");
        let prep = p.preprocess(&img).unwrap();
        assert_eq!((prep.height, prep.width), (256, 256));
        let max = prep.chw.iter().cloned().fold(f32::MIN, f32::max);
        let Prediction::Boxes(b) = p.infer(&[prep]).unwrap().remove(0) else {
            panic!("boxes")
        };
        assert_eq!(b.len(), 1, "{kind:?}: {b:?}");
        assert_eq!((b[0].class_id, b[0].label.as_str()), (2, "bird"));
        assert!((b[0].score - max).abs() < 1e-6);
        // im_size is the original [h, w] = [100, 200]; the model returns fractions of it.
        let want = [0.1 * 200.0, 0.2 * 100.0, 0.5 * 200.0, 0.9 * 100.0];
        for k in 0..4 {
            assert!(
                (b[0].bbox[k] - want[k]).abs() < 1e-3,
                "{kind:?}: {:?} vs {want:?}",
                b[0].bbox
            );
        }
    }
}

#[test]
fn paddleseg_int64_label_map_is_mapped_back_to_the_original_size() {
    let img = image();
    for (kind, mut p) in predictors("seg_argmax") {
        let prep = p.preprocess(&img).unwrap();
        assert_eq!((prep.height, prep.width), (48, 64));
        // Independent expectation: argmax over the prepared channels, nearest back to 200x100.
        let plane = 48 * 64;
        let arg = |i: usize| -> u8 {
            let v = [prep.chw[i], prep.chw[plane + i], prep.chw[2 * plane + i]];
            let mut b = 0;
            for c in 1..3 {
                if v[c] > v[b] {
                    b = c;
                }
            }
            b as u8
        };
        let expected: Vec<u8> = (0..100usize)
            .flat_map(|y| (0..200usize).map(move |x| (x, y)))
            .map(|(x, y)| arg((y * 48 / 100) * 64 + x * 64 / 200))
            .collect();
        let Prediction::Segmentation(s) = p.infer(&[prep]).unwrap().remove(0) else {
            panic!("seg")
        };
        assert_eq!((s.width, s.height), (200, 100));
        assert_eq!(s.labels, expected, "{kind:?}");
        assert!(
            s.labels.iter().any(|&l| l != s.labels[0]),
            "a non-trivial label map"
        );
    }
}
