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

/// Threads of this process whose name starts with `prefix` (Linux names are cut at 15 bytes).
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .map(|c| c.starts_with(prefix))
                .unwrap_or(false)
        })
        .count()
}

#[test]
fn tract_thread_num_runs_on_that_many_threads_with_the_same_outputs() {
    let Some(models) = models() else { return };
    let dir = models.join("layout");
    let src = modelseal_deploy::ModelSource::open(&dir, &modelseal::OpenOptions::new()).unwrap();
    let open = |threads| {
        let o = modelseal_deploy::BackendOptions {
            threads: Some(threads),
            ..opts(BackendKind::Tract)
        };
        modelseal_deploy::Predictor::open(&src, &o).unwrap()
    };
    let img = read_image(&models.join("images").join("page.png")).unwrap();
    let mut one = open(1);
    let prep = one.preprocess(&img).unwrap();
    let want = one.run_raw(&prep).unwrap();
    let before = threads_named("modelseal-tract");
    let mut three = open(3);
    // A thread names itself once it runs: wait (bounded) for the new ones to have started.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while threads_named("modelseal-tract") - before < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        threads_named("modelseal-tract") - before,
        3,
        "--thread_num 3 must start 3 tract threads"
    );
    let got = three.run_raw(&prep).unwrap();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.shape, w.shape);
        let (g, w) = (g.to_f32(), w.to_f32());
        let max = g
            .iter()
            .zip(&w)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(max < 1e-5, "outputs differ by {max} with 3 threads");
    }
    drop(three);
}
