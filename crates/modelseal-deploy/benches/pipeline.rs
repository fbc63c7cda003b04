//! Benchmark: images/s of the whole pipeline (decode + pre-process overlapped with inference +
//! post-process) next to the backend's pure inference rate on pre-made tensors and an equivalent
//! Python OpenCV + onnxruntime pipeline with the same thread count; plus sealed vs plain start-up.
//!
//! Run: `cargo bench -p modelseal-deploy --bench pipeline` after `scripts/fetch_models.sh` and
//! `pip install -r scripts/ci/requirements-test.txt`. Env: `BENCH_THREADS` (default 1),
//! `BENCH_MODELS` (default `cls,layout,det_db,cls-lines`), `BENCH_LIST` (default
//! `.models/bench/list.txt`). `cls-lines` runs the text-line classifier on its real input, text
//! lines cut out of the text images by the DB detector (`scripts/bench/crops.py`, run on first
//! use), instead of whole photos.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use modelseal::{Key, SealOptions};
use modelseal_deploy::backend::BackendKind;
use modelseal_deploy::image::read_image;
use modelseal_deploy::runner::{run_pipelined, Flow};
use modelseal_deploy::{BackendOptions, Predictor};

/// The least time each throughput phase runs for (the list is repeated to reach it).
const MIN_PHASE: Duration = Duration::from_millis(1500);

/// Start-up measurements per model and variant.
const STARTUP_RUNS: usize = 41;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

fn opts(threads: usize) -> BackendOptions {
    BackendOptions {
        kind: BackendKind::OnnxRuntime,
        threads: Some(threads),
        ir_optim: true,
        ..Default::default()
    }
}

/// The Python interpreter: `PYTHON`, else `python3`.
fn python() -> std::process::Command {
    std::process::Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
}

fn python_rate(kind: &str, dir: &Path, list: &Path, threads: usize) -> Option<f64> {
    let out = python()
        .arg(root().join("scripts/bench/python_pipeline.py"))
        .args([
            kind,
            &dir.display().to_string(),
            &list.display().to_string(),
            &threads.to_string(),
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find_map(|w| w.strip_prefix("images_per_s="))
        .and_then(|v| v.parse().ok())
}

/// The text-line crops list, made by `scripts/bench/crops.py` when missing.
fn lines_list(models: &Path) -> PathBuf {
    let list = models.join("bench/lines/list.txt");
    if !list.is_file() {
        let ok = python()
            .arg(root().join("scripts/bench/crops.py"))
            .arg(models)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "scripts/bench/crops.py failed");
    }
    list
}

fn read_list(list: &Path) -> Vec<PathBuf> {
    std::fs::read_to_string(list)
        .expect("bench list")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(PathBuf::from)
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let models = std::env::var_os("MODELSEAL_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".models"));
    if !models.join("cls/model.onnx").is_file() {
        eprintln!(
            "bench: models not found at {} (run scripts/fetch_models.sh)",
            models.display()
        );
        return;
    }
    let threads: usize = std::env::var("BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let list = std::env::var_os("BENCH_LIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| models.join("bench/list.txt"));
    let paths = read_list(&list);
    let which =
        std::env::var("BENCH_MODELS").unwrap_or_else(|_| "cls,layout,det_db,cls-lines".into());
    println!(
        "images: {} from {} (cls-lines: text-line crops), repeated to run each phase >= {:?}; threads: {threads}; backend: onnxruntime",
        paths.len(),
        list.display(),
        MIN_PHASE
    );
    println!(
        "{:<9} {:>12} {:>12} {:>12} {:>12} {:>10} {:>10}",
        "model", "pipeline/s", "infer/s", "infer+post/s", "python/s", "pipe/inf", "pipe/py"
    );
    for name in which.split(',') {
        let (kind, paths) = if name == "cls-lines" {
            ("cls", read_list(&lines_list(&models)))
        } else {
            (name, paths.clone())
        };
        let dir = models.join(kind);
        let src = modelseal_deploy::ModelSource::open(&dir, &modelseal::OpenOptions::new())
            .expect("open model");
        let mut pred = Predictor::open(&src, &opts(threads)).expect("predictor");
        // Pure inference on pre-made tensors.
        let preps: Vec<_> = paths
            .iter()
            .map(|p| {
                pred.preprocess(&read_image(p).expect("image"))
                    .expect("prep")
            })
            .collect();
        pred.run_raw(&preps[0]).expect("warm-up");
        let t = Instant::now();
        for p in &preps {
            std::hint::black_box(pred.run_raw(p).expect("infer"));
        }
        // Fast models go over the list several times, so that every rate is measured over at
        // least MIN_PHASE of work rather than a few milliseconds of a noisy machine.
        let reps = (MIN_PHASE.as_secs_f64() / t.elapsed().as_secs_f64())
            .ceil()
            .max(1.0) as usize;
        let t = Instant::now();
        for _ in 0..reps {
            for p in &preps {
                std::hint::black_box(pred.run_raw(p).expect("infer"));
            }
        }
        let infer_rate = (reps * preps.len()) as f64 / t.elapsed().as_secs_f64();
        // Inference plus post-processing, still on pre-made tensors (no decoding).
        let t = Instant::now();
        for _ in 0..reps {
            for p in &preps {
                std::hint::black_box(pred.infer(std::slice::from_ref(p)).expect("infer"));
            }
        }
        let post_rate = (reps * preps.len()) as f64 / t.elapsed().as_secs_f64();
        drop(preps);
        // Whole pipeline, and the Python one, over the same list repeated `reps` times.
        let work: Vec<PathBuf> = (0..reps).flat_map(|_| paths.iter().cloned()).collect();
        let t = Instant::now();
        let mut ok = 0usize;
        run_pipelined(&mut pred, &work, 1, |_, r| {
            ok += usize::from(r.is_ok());
            Flow::Continue
        });
        let pipe_rate = ok as f64 / t.elapsed().as_secs_f64();
        assert_eq!(ok, work.len(), "every image must go through");
        let py_list =
            std::env::temp_dir().join(format!("modelseal-bench-{}.txt", std::process::id()));
        let text: String = work.iter().map(|p| format!("{}\n", p.display())).collect();
        std::fs::write(&py_list, text).expect("write list");
        let py = python_rate(kind, &dir, &py_list, threads);
        let _ = std::fs::remove_file(&py_list);
        println!(
            "{:<9} {:>12.2} {:>12.2} {:>12.2} {:>12} {:>10.3} {:>10}",
            name,
            pipe_rate,
            infer_rate,
            post_rate,
            py.map(|v| format!("{v:.2}"))
                .unwrap_or_else(|| "n/a".into()),
            pipe_rate / infer_rate,
            py.map(|v| format!("{:.3}", pipe_rate / v))
                .unwrap_or_else(|| "n/a".into())
        );
    }
    // Start-up: open + decrypt + session, sealed (v2) vs plain, medians of alternating runs.
    let key = Key::generate().expect("key");
    let tmp = std::env::temp_dir().join(format!("modelseal-bench-{}", std::process::id()));
    println!("\nstart-up (open + decrypt + session), median of {STARTUP_RUNS}, order alternating:");
    println!(
        "{:<8} {:>12} {:>12} {:>10}",
        "model", "plain ms", "sealed ms", "ratio"
    );
    // `cls-lines` is the cls model again.
    for kind in which.split(',').filter(|k| *k != "cls-lines") {
        let dir = models.join(kind);
        let sealed = tmp.join(kind);
        let plain_dir = modelseal::OpenOptions::new().open(&dir).expect("plain");
        modelseal::seal_dir(&key, &plain_dir, &sealed, &SealOptions::default(), &|_| {})
            .expect("seal");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        // Alternate which of the two goes first, so that neither always runs on a warmer or colder machine.
        for i in 0..STARTUP_RUNS {
            let plain = |a: &mut Vec<Duration>| {
                let t = Instant::now();
                let s = modelseal_deploy::ModelSource::open(&dir, &modelseal::OpenOptions::new())
                    .expect("open");
                std::hint::black_box(Predictor::open(&s, &opts(threads)).expect("plain"));
                a.push(t.elapsed());
            };
            let sealed_run = |b: &mut Vec<Duration>| {
                let t = Instant::now();
                let s = modelseal_deploy::ModelSource::open(
                    &sealed,
                    &modelseal::OpenOptions::new().key(key.clone()),
                )
                .expect("open sealed");
                std::hint::black_box(Predictor::open(&s, &opts(threads)).expect("sealed"));
                b.push(t.elapsed());
            };
            if i % 2 == 0 {
                plain(&mut a);
                sealed_run(&mut b);
            } else {
                sealed_run(&mut b);
                plain(&mut a);
            }
        }
        let (a, b) = (median(a), median(b));
        println!(
            "{:<8} {:>12.2} {:>12.2} {:>10.3}",
            kind,
            a.as_secs_f64() * 1e3,
            b.as_secs_f64() * 1e3,
            b.as_secs_f64() / a.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
