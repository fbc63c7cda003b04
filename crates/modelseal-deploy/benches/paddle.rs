//! Benchmark of Paddle programs run natively, side by side in one run:
//! 1. import (parse + translate into ONNX) of the real PP-OCRv4 det and rec programs next to
//!    ONNX Runtime's session creation for the same model (median of runs);
//! 2. whole-pipeline images/s of the Paddle-format directories (`cls_paddle`, `det_db_paddle`)
//!    next to the same weights' paddle2onnx export (`cls`, `det_db`), alternating, same threads;
//! 3. Paddle Inference's own Python pipeline on the same images (`scripts/bench/paddle_pipeline.py`,
//!    default CPU config and oneDNN), when `PADDLE_PYTHON` names an interpreter with
//!    paddlepaddle installed (not part of CI).
//!
//! Run: `cargo bench -p modelseal-deploy --bench paddle` after `scripts/fetch_models.sh`.
//! Env: `ORT_DYLIB_PATH` (the ONNX Runtime library, e.g. the `onnxruntime` wheel's
//! `capi/libonnxruntime.so.1.32.0`), `BENCH_THREADS` (default 1), `BENCH_LIST` (default
//! `.models/bench/list.txt`), `PADDLE_PYTHON` (e.g. a venv with `paddlepaddle==3.3.1`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use modelseal_deploy::backend::{self, BackendKind};
use modelseal_deploy::runner::{run_pipelined, Flow};
use modelseal_deploy::{BackendOptions, ModelSource, Predictor};

const RUNS: usize = 11;
const ROUNDS: usize = 3;
const MIN_PHASE: Duration = Duration::from_millis(3000);

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

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

fn import_vs_session(models: &Path, threads: usize) {
    println!("import (parse + translate) vs ONNX Runtime session creation, median of {RUNS}:");
    println!(
        "{:<6} {:>10} {:>12} {:>14} {:>10}",
        "model", "import ms", "session ms", "import/session", "ONNX MB"
    );
    for name in ["det", "rec"] {
        let dir = models.join("paddle").join(name);
        let prog = std::fs::read(dir.join("inference.pdmodel")).expect("program");
        let params = std::fs::read(dir.join("inference.pdiparams")).expect("params");
        let mut imports = Vec::new();
        let mut sessions = Vec::new();
        let mut size = 0;
        for _ in 0..RUNS {
            let (imported, t) = timed(|| {
                modelseal_deploy::model::import_paddle(&prog, &params, &dir, "inference.pdmodel")
                    .expect("import")
            });
            imports.push(t);
            size = imported.onnx.len();
            let (session, t) = timed(|| {
                backend::load(&imported.onnx, "inference.pdmodel", &opts(threads)).expect("session")
            });
            sessions.push(t);
            drop(session);
        }
        let (i, s) = (median(imports), median(sessions));
        println!(
            "{:<6} {:>10.2} {:>12.2} {:>14.3} {:>10.2}",
            name,
            ms(i),
            ms(s),
            i.as_secs_f64() / s.as_secs_f64(),
            size as f64 / 1e6
        );
    }
}

fn open(dir: &Path, threads: usize) -> Predictor {
    let src = ModelSource::open(dir, &modelseal::OpenOptions::new()).expect("open");
    Predictor::open(&src, &opts(threads)).expect("predictor")
}

fn pipeline_rate(pred: &mut Predictor, work: &[PathBuf]) -> f64 {
    let t = Instant::now();
    let mut ok = 0usize;
    run_pipelined(pred, work, 1, |_, r| {
        ok += usize::from(r.is_ok());
        Flow::Continue
    });
    assert_eq!(ok, work.len(), "every image must go through");
    ok as f64 / t.elapsed().as_secs_f64()
}

fn paddle_rate(
    python: &str,
    kind: &str,
    dir: &Path,
    list: &Path,
    threads: usize,
    mode: &str,
) -> Option<f64> {
    let out = std::process::Command::new(python)
        .arg(root().join("scripts/bench/paddle_pipeline.py"))
        .args([
            kind,
            &dir.display().to_string(),
            &list.display().to_string(),
            &threads.to_string(),
            mode,
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find_map(|w| w.strip_prefix("images_per_s="))
        .and_then(|v| v.parse().ok())
}

fn main() {
    let models = std::env::var_os("MODELSEAL_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".models"));
    if !models.join("det_db_paddle/inference.pdmodel").is_file() {
        eprintln!(
            "bench: Paddle-format models not found under {} (run scripts/fetch_models.sh)",
            models.display()
        );
        return;
    }
    if backend::onnxruntime::find_library().is_none() {
        eprintln!("bench: ONNX Runtime library not found: set ORT_DYLIB_PATH");
        return;
    }
    let threads: usize = std::env::var("BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let list = std::env::var_os("BENCH_LIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| models.join("bench/list.txt"));
    let paths: Vec<PathBuf> = std::fs::read_to_string(&list)
        .expect("bench list")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(PathBuf::from)
        .collect();
    println!(
        "threads: {threads}; backend: onnxruntime; images: {} from {}\n",
        paths.len(),
        list.display()
    );
    import_vs_session(&models, threads);

    let python = std::env::var("PADDLE_PYTHON").ok();
    println!(
        "\npipeline images/s (median of {ROUNDS} alternating rounds, list repeated to >= {MIN_PHASE:?}):"
    );
    println!(
        "{:<7} {:>14} {:>14} {:>10} {:>14} {:>14} {:>12}",
        "model",
        "imported/s",
        "paddle2onnx/s",
        "imp/p2o",
        "paddle-py/s",
        "paddle-dnn/s",
        "imp/paddle"
    );
    for (kind, onnx_dir, paddle_dir, paddle_src) in [
        ("cls", "cls", "cls_paddle", "paddle/cls"),
        ("det_db", "det_db", "det_db_paddle", "paddle/det"),
    ] {
        let mut imported = open(&models.join(paddle_dir), threads);
        let mut exported = open(&models.join(onnx_dir), threads);
        // Warm both, then size the work so each phase runs at least MIN_PHASE.
        let (_, t) = timed(|| pipeline_rate(&mut exported, &paths));
        let reps = (MIN_PHASE.as_secs_f64() / t.as_secs_f64()).ceil().max(1.0) as usize;
        let work: Vec<PathBuf> = (0..reps).flat_map(|_| paths.iter().cloned()).collect();
        pipeline_rate(&mut imported, &paths);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            if round % 2 == 0 {
                a.push(pipeline_rate(&mut imported, &work));
                b.push(pipeline_rate(&mut exported, &work));
            } else {
                b.push(pipeline_rate(&mut exported, &work));
                a.push(pipeline_rate(&mut imported, &work));
            }
        }
        let med = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (a, b) = (med(a), med(b));
        let (py, dnn) = match &python {
            Some(p) => {
                let tmp = std::env::temp_dir()
                    .join(format!("modelseal-paddle-bench-{}.txt", std::process::id()));
                let text: String = work.iter().map(|p| format!("{}\n", p.display())).collect();
                std::fs::write(&tmp, text).expect("list");
                let src = models.join(paddle_src);
                let r = (
                    paddle_rate(p, kind, &src, &tmp, threads, "default"),
                    paddle_rate(p, kind, &src, &tmp, threads, "mkldnn"),
                );
                let _ = std::fs::remove_file(&tmp);
                r
            }
            None => (None, None),
        };
        let show = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "n/a".into());
        let best = py
            .into_iter()
            .chain(dnn)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        println!(
            "{:<7} {:>14.2} {:>14.2} {:>10.3} {:>14} {:>14} {:>12}",
            kind,
            a,
            b,
            a / b,
            show(py),
            show(dnn),
            best.map(|v| format!("{:.3}", a / v))
                .unwrap_or_else(|| "n/a".into())
        );
    }
    if python.is_none() {
        println!("(Paddle Inference columns: set PADDLE_PYTHON to an interpreter with paddlepaddle==3.3.1)");
    }
}
