//! The pipelined runner returns every image, in input order, with the same predictions as
//! one-by-one prediction, whatever the number of decode workers and the batch size; bad images
//! are reported in place and do not stop the run.

mod common;

use std::path::PathBuf;

use common::*;
use modelseal_deploy::backend::BackendKind;
use modelseal_deploy::image::read_image;
use modelseal_deploy::runner::{run_pipelined_with, Flow};

#[test]
fn results_come_in_input_order_with_errors_in_place() {
    let Some(models) = models_and_ort() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.png");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\n truncated").unwrap();
    let names = [
        "astronaut.png",
        "dog.jpg",
        "page.png",
        "chelsea.png",
        "horses.jpg",
        "logo.png",
        "camera.png",
        "coffee.png",
    ];
    let mut paths: Vec<PathBuf> = names
        .iter()
        .map(|n| models.join("images").join(n))
        .collect();
    paths.insert(3, bad.clone());
    paths.push(tmp.path().join("missing.jpg"));
    let mut p = open_plain(&models.join("cls"), BackendKind::OnnxRuntime);
    let want: Vec<Option<_>> = paths
        .iter()
        .map(|x| read_image(x).ok().map(|img| p.predict(&img).unwrap()))
        .collect();
    for (threads, batch) in [(1, 1), (3, 4), (4, 3)] {
        let mut seen = Vec::new();
        run_pipelined_with(&mut p, &paths, batch, threads, |path, r| {
            seen.push((path.to_path_buf(), r.ok().map(|(_, pr)| pr)));
            Flow::Continue
        });
        assert_eq!(
            seen.iter().map(|s| s.0.clone()).collect::<Vec<_>>(),
            paths,
            "order with {threads} workers, batch {batch}"
        );
        for ((path, got), w) in seen.iter().zip(&want) {
            assert_eq!(got.is_some(), w.is_some(), "{}", path.display());
            if let (
                Some(modelseal_deploy::Prediction::Classes(a)),
                Some(modelseal_deploy::Prediction::Classes(b)),
            ) = (got, w)
            {
                assert_eq!(a[0].class_id, b[0].class_id);
                assert!((a[0].score - b[0].score).abs() < 1e-5);
            }
        }
    }
    // Stopping early stops the run.
    let mut n = 0;
    run_pipelined_with(&mut p, &paths, 2, 2, |_, _| {
        n += 1;
        if n == 2 {
            Flow::Stop
        } else {
            Flow::Continue
        }
    });
    assert_eq!(n, 2);
}
