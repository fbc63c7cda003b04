//! ONNX Runtime and tract agree on the real models (classification scores, PicoDet boxes, DB
//! label maps).

mod common;

use common::*;
use modelseal_deploy::backend::BackendKind;
use modelseal_deploy::image::read_image;
use modelseal_deploy::Prediction;

#[test]
fn tract_agrees_with_onnxruntime() {
    let Some(models) = models_and_ort() else {
        return;
    };
    for (model, images) in [
        ("cls", &["chelsea.png", "coffee.png", "dog.jpg"][..]),
        ("layout", &["page.png", "chelsea.png"][..]),
        ("det_db", &["page.png"][..]),
    ] {
        let mut ort = open_plain(&models.join(model), BackendKind::OnnxRuntime);
        let mut tr = open_plain(&models.join(model), BackendKind::Tract);
        assert_eq!(ort.backend_name(), "onnxruntime");
        assert_eq!(tr.backend_name(), "tract");
        for name in images {
            let img = read_image(&models.join("images").join(name)).unwrap();
            let a = ort.predict(&img).unwrap();
            let b = tr.predict(&img).unwrap();
            match (a, b) {
                (Prediction::Classes(a), Prediction::Classes(b)) => {
                    assert_eq!(a[0].class_id, b[0].class_id, "{model} {name}");
                    assert!(
                        (a[0].score - b[0].score).abs() < 1e-3,
                        "{model} {name}: {a:?} vs {b:?}"
                    );
                }
                (Prediction::Boxes(a), Prediction::Boxes(b)) => {
                    assert_eq!(a.len(), b.len(), "{model} {name}: {a:?} vs {b:?}");
                    for (x, y) in a.iter().zip(&b) {
                        assert_eq!(x.class_id, y.class_id);
                        assert!((x.score - y.score).abs() < 1e-3);
                        for k in 0..4 {
                            assert!(
                                (x.bbox[k] - y.bbox[k]).abs() < 0.5,
                                "{model} {name}: {x:?} vs {y:?}"
                            );
                        }
                    }
                }
                (Prediction::Segmentation(a), Prediction::Segmentation(b)) => {
                    assert_eq!((a.width, a.height), (b.width, b.height));
                    let diff = a
                        .labels
                        .iter()
                        .zip(&b.labels)
                        .filter(|(x, y)| x != y)
                        .count();
                    assert!(
                        diff * 1000 <= a.labels.len(),
                        "{model} {name}: {diff} pixels differ"
                    );
                }
                (a, b) => panic!("{model} {name}: different kinds {a:?} {b:?}"),
            }
        }
    }
}
