//! Every suite's pre-processing (PaddleX C++ 1.x, PaddleClas, PaddleDetection, PaddleSeg), parsed
//! from the same config text and run on real lossless images, against the independent numpy +
//! OpenCV re-implementation in `scripts/reference/goldens.py`.

mod common;

use common::*;
use modelseal_deploy::config;
use modelseal_deploy::image::read_image;

#[test]
fn every_suite_pipeline_matches_the_python_reference() {
    let Some(models) = models() else { return };
    let g = golden("transforms");
    let mut checked = 0;
    for (suite, case) in g.as_object().unwrap() {
        let file = case["file"].as_str().unwrap();
        let cfg = config::parse(file, case["config"].as_str().unwrap().as_bytes())
            .unwrap_or_else(|e| panic!("{suite}: {e}"));
        for (name, want) in case["images"].as_object().unwrap() {
            let img = read_image(&models.join("images").join(name)).unwrap();
            let p = cfg
                .pipeline
                .run(&img)
                .unwrap_or_else(|e| panic!("{suite} {name}: {e}"));
            let shape: Vec<u64> = want["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            assert_eq!(
                vec![3, p.height as u64, p.width as u64],
                shape,
                "{suite} {name}: tensor shape"
            );
            let want_s = samples_f64(&want["samples"]);
            let mut max: f64 = 0.0;
            for (k, w) in want_s.iter().enumerate() {
                max = max.max((sample(&p.chw, k) as f64 - w).abs());
            }
            assert!(max < 1e-4, "{suite} {name}: max sample difference {max}");
            let sum: f64 = p.chw.iter().map(|&v| v as f64).sum();
            let want_sum = want["sum"].as_f64().unwrap();
            assert!(
                (sum - want_sum).abs() <= 1e-5 * p.chw.len() as f64,
                "{suite} {name}: sum {sum} vs {want_sum}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 28, "seven pipelines x four images");
}
