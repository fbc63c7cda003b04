//! Deployment front end shared by `modelseal classify|detect|segment` and the PaddleX-compatible
//! `classifier`, `detector` and `segmenter` binaries: PaddleX demo flags, output, visualisation.

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use clap::{ArgAction, Parser};
use modelseal_deploy::backend::BackendKind;
use modelseal_deploy::image::Mat;
use modelseal_deploy::runner::{run_pipelined, Flow};
use modelseal_deploy::{vis, BackendOptions, Prediction, Predictor, SealedSource};

/// Which demo runs: the SDK's task; its PaddleX name ("classifier", ...) names the tool.
pub use modelseal_deploy::Task;

const AFTER_HELP: &str = "Flags may be written --flag=value, --flag value, -flag value or -flag=value; \
booleans as --use_gpu, --use_gpu=true or --use_gpu=false.
The key is read from --key-file FILE ('-' = stdin), else MODELSEAL_KEY, else --key (warned: argv is visible).

Exit codes:
  0  success
  1  some images failed (each reported), or an unexpected error
  2  usage error (bad flags, missing key, unsupported option such as --use_gpu without a GPU runtime)
  3  I/O error (a file could not be read or written)
  4  wrong key
  5  integrity failure (tampered, truncated, extended, swapped or foreign member)
  6  unsupported input (not sealed, unknown format version, unsupported model)";

#[derive(Parser, Debug)]
#[command(after_help = AFTER_HELP, disable_version_flag = true)]
struct Flags {
    /// Model directory (sealed v2, PaddleX v1 `*.encrypted`, or plain).
    #[arg(long = "model_dir", alias = "model-dir", value_name = "DIR")]
    model_dir: PathBuf,
    /// One image to predict.
    #[arg(long = "image", value_name = "FILE")]
    image: Option<PathBuf>,
    /// A text file with one image path per line.
    #[arg(long = "image_list", alias = "image-list", value_name = "FILE")]
    image_list: Option<PathBuf>,
    /// Run on the GPU (CUDA execution provider; needs onnxruntime-gpu).
    #[arg(long = "use_gpu", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "false")]
    use_gpu: bool,
    /// Use TensorRT (TensorRT execution provider; needs onnxruntime-gpu and TensorRT).
    #[arg(long = "use_trt", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "false")]
    use_trt: bool,
    /// Accepted for PaddleX compatibility (CPU kernels are always on).
    #[arg(long = "use_mkl", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "true")]
    use_mkl: bool,
    /// Accepted for PaddleX compatibility; sets the threads when --thread_num is not given.
    #[arg(long = "mkl_thread_num", value_name = "N")]
    mkl_thread_num: Option<usize>,
    /// GPU device id.
    #[arg(long = "gpu_id", default_value_t = 0, value_name = "ID")]
    gpu_id: i32,
    /// Where visualisations and label maps go.
    #[arg(long = "save_dir", default_value = "output", value_name = "DIR")]
    save_dir: PathBuf,
    /// Read the base64 key from FILE ('-' = standard input).
    #[arg(long = "key-file", alias = "key_file", value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// The base64 key itself (visible to other users; prefer --key-file or MODELSEAL_KEY). Empty: plain model.
    #[arg(long = "key", value_name = "KEY")]
    key: Option<String>,
    /// Images per inference call.
    #[arg(long = "batch_size", default_value_t = 1, value_name = "N")]
    batch_size: usize,
    /// Intra-op threads of the backend (default: the backend's choice).
    #[arg(long = "thread_num", value_name = "N")]
    thread_num: Option<usize>,
    /// Graph optimisation.
    #[arg(long = "use_ir_optim", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "true")]
    use_ir_optim: bool,
    /// Detector: minimum score of a drawn box (default: the config's draw_threshold, else 0.5).
    #[arg(long = "threshold", value_name = "T")]
    threshold: Option<f32>,
    /// Classifier: print the K best classes.
    #[arg(long = "topk", value_name = "K")]
    topk: Option<usize>,
    /// Segmenter: blend the coloured label map over the image.
    #[arg(long = "blend", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "false")]
    blend: bool,
    /// Inference backend.
    #[arg(long = "backend", default_value = "auto", value_parser = ["auto", "onnxruntime", "tract"])]
    backend: String,
    /// One JSON object per image on stdout instead of PaddleX-style lines.
    #[arg(long = "json", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "false")]
    json: bool,
}

/// Rewrites gflags-style `-flag` / `-flag=value` into `--flag` / `--flag=value`.
fn normalise(argv: Vec<OsString>) -> Vec<OsString> {
    argv.into_iter()
        .enumerate()
        .map(|(i, a)| {
            if i == 0 {
                return a;
            }
            match a.to_str() {
                Some(s)
                    if s.starts_with('-')
                        && !s.starts_with("--")
                        && s.len() > 2
                        && s.as_bytes()[1].is_ascii_alphabetic() =>
                {
                    OsString::from(format!("-{s}"))
                }
                _ => a,
            }
        })
        .collect()
}

/// Parses PaddleX-style flags for `task` and runs it; `argv[0]` is the program name (a
/// following `classify`/`detect`/`segment` subcommand word is skipped).
pub fn run_task(task: Task, argv: Vec<OsString>) -> ExitCode {
    let tool = task.paddlex_name();
    // `modelseal classify ...` may hand over its whole command line: drop the subcommand word.
    let mut argv = argv;
    let sub = match task {
        Task::Classify => "classify",
        Task::Detect => "detect",
        Task::Segment => "segment",
    };
    if argv.get(1).and_then(|a| a.to_str()) == Some(sub) {
        argv.remove(1);
    }
    let argv = normalise(argv);
    let flags = match Flags::try_parse_from(&argv) {
        Ok(f) => f,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                crate::exit::USAGE
            } else {
                crate::exit::OK
            });
        }
    };
    match run(task, &flags) {
        Ok(0) => ExitCode::from(crate::exit::OK),
        Ok(_) => ExitCode::from(crate::exit::FAILURE),
        Err(e) => crate::report(tool, &e),
    }
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    crate::UsageError(msg.into()).into()
}

fn image_paths(flags: &Flags) -> anyhow::Result<Vec<PathBuf>> {
    match (&flags.image, &flags.image_list) {
        (Some(i), None) => Ok(vec![i.clone()]),
        (None, Some(list)) => {
            let f = std::fs::File::open(list)
                .with_context(|| format!("image list {}", list.display()))?;
            let mut out = Vec::new();
            for line in std::io::BufReader::new(f).lines() {
                let line = line.with_context(|| format!("image list {}", list.display()))?;
                let t = line.trim();
                if !t.is_empty() {
                    out.push(PathBuf::from(t));
                }
            }
            if out.is_empty() {
                return Err(usage(format!(
                    "image list {} has no image paths",
                    list.display()
                )));
            }
            Ok(out)
        }
        (Some(_), Some(_)) => Err(usage("give either --image or --image_list, not both")),
        (None, None) => Err(usage("give --image FILE or --image_list FILE")),
    }
}

/// Output path for an image's visualisation, refusing to overwrite the input itself.
fn save_path(save_dir: &Path, image: &Path, suffix: Option<&str>) -> anyhow::Result<PathBuf> {
    let name = image
        .file_name()
        .ok_or_else(|| anyhow!("image path {} has no file name", image.display()))?;
    let out = match suffix {
        None => save_dir.join(name),
        Some(s) => {
            let stem = image
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("image");
            save_dir.join(format!("{stem}{s}"))
        }
    };
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(&out), std::fs::canonicalize(image)) {
        if a == b {
            bail!(
                "refusing to overwrite the input image {} (choose another --save_dir)",
                image.display()
            );
        }
    }
    Ok(out)
}

fn run(task: Task, flags: &Flags) -> anyhow::Result<usize> {
    let paths = image_paths(flags)?;
    if flags.batch_size == 0 {
        return Err(usage("--batch_size must be at least 1"));
    }
    if flags.thread_num == Some(0) {
        return Err(usage("--thread_num must be at least 1"));
    }
    let kind: BackendKind = flags.backend.parse().map_err(usage)?;
    let opts = BackendOptions {
        kind,
        threads: flags.thread_num.or(flags.mkl_thread_num),
        use_gpu: flags.use_gpu || flags.use_trt,
        use_trt: flags.use_trt,
        gpu_id: flags.gpu_id,
        ir_optim: flags.use_ir_optim,
    };
    // An empty --key means a plain model, as in PaddleX.
    let key_arg = flags.key.as_deref().filter(|k| !k.is_empty());
    let key = modelseal::read_key(flags.key_file.as_deref(), key_arg)?;
    let source = SealedSource::open(&flags.model_dir, key.as_ref())?;
    let mut pred = Predictor::open(&source, &opts).map_err(|e| match &e {
        modelseal_deploy::Error::Backend { .. } if flags.use_gpu || flags.use_trt => {
            usage(format!("GPU inference is not available: {e}"))
        }
        _ => anyhow::Error::new(e),
    })?;
    drop(source);
    if pred.task() != task {
        bail!(
            "model in {} is a {} (config {}), not a {}",
            flags.model_dir.display(),
            pred.task().paddlex_name(),
            pred.config().file,
            task.paddlex_name()
        );
    }
    let needs_dir = task != Task::Classify;
    if needs_dir {
        std::fs::create_dir_all(&flags.save_dir)
            .with_context(|| format!("cannot create save_dir {}", flags.save_dir.display()))?;
    }
    let font = if task == Task::Detect {
        vis::load_font()
    } else {
        None
    };
    if task == Task::Detect && font.is_none() {
        eprintln!("{}: warning: no TrueType font found (set MODELSEAL_FONT or install fonts-dejavu-core); boxes are drawn without captions", task.paddlex_name());
    }
    let threshold = flags.threshold.unwrap_or_else(|| {
        pred.config()
            .det
            .as_ref()
            .map(|d| d.draw_threshold)
            .unwrap_or(0.5)
    });
    match flags.topk {
        Some(0) => return Err(usage("--topk must be at least 1")),
        Some(k) => pred.set_topk(k),
        None => {}
    }
    let list_mode = flags.image_list.is_some();
    let bar = if list_mode {
        progress(paths.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let stdout = std::io::stdout();
    let mut failed = 0usize;
    let num_labels = pred.labels().len();
    run_pipelined(&mut pred, &paths, flags.batch_size, |p, r| {
        let r = r.map_err(anyhow::Error::new).and_then(|(m, pr)| {
            emit(
                task,
                flags,
                p,
                &m,
                pr,
                num_labels,
                threshold,
                font.as_ref(),
                list_mode,
                &mut stdout.lock(),
            )
        });
        bar.inc(1);
        match r {
            Ok(()) => Flow::Continue,
            // The reader of stdout went away (e.g. `| head`): stop quietly.
            Err(e) if is_broken_pipe(&e) => Flow::Stop,
            Err(e) => {
                failed += 1;
                let shown = p.display().to_string();
                let text = format!("{e:#}");
                if text.contains(&shown) {
                    bar.suspend(|| eprintln!("{}: error: {text}", task.paddlex_name()));
                } else {
                    bar.suspend(|| eprintln!("{}: error: {shown}: {text}", task.paddlex_name()));
                }
                Flow::Continue
            }
        }
    });
    bar.finish_and_clear();
    if failed > 0 {
        eprintln!(
            "{}: {failed} of {} images failed",
            task.paddlex_name(),
            paths.len()
        );
    }
    Ok(failed)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .map(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            .unwrap_or(false)
    })
}

fn progress(total: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} images {per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

#[allow(clippy::too_many_arguments)]
fn emit(
    task: Task,
    flags: &Flags,
    path: &Path,
    img: &Mat,
    pred: Prediction,
    num_labels: usize,
    threshold: f32,
    font: Option<&vis::FontVec>,
    list_mode: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let shown = path.display().to_string();
    match (task, pred) {
        (Task::Classify, Prediction::Classes(mut classes)) => {
            classes.truncate(flags.topk.unwrap_or(1).max(1));
            let best = classes.first().ok_or_else(|| anyhow!("no class scores"))?;
            if flags.json {
                let mut v = serde_json::json!({"image": shown, "class_id": best.class_id, "label": best.label, "score": best.score});
                if classes.len() > 1 {
                    v["topk"] = serde_json::to_value(&classes)?;
                }
                writeln!(out, "{v}")?;
            } else {
                for c in &classes {
                    if list_mode {
                        writeln!(
                            out,
                            "Path:{shown}, predict label: {}, label_id:{}, score: {:.6}",
                            c.label, c.class_id, c.score
                        )?;
                    } else {
                        writeln!(
                            out,
                            "Predict label: {}, label_id:{}, score: {:.6}",
                            c.label, c.class_id, c.score
                        )?;
                    }
                }
            }
        }
        (Task::Detect, Prediction::Boxes(boxes)) => {
            let vis_path = save_path(&flags.save_dir, path, None)?;
            let canvas = vis::draw_boxes(img, &boxes, threshold, num_labels, font);
            canvas.save(&vis_path)?;
            if flags.json {
                let v = serde_json::json!({"image": shown, "boxes": boxes, "visualization": vis_path.display().to_string()});
                writeln!(out, "{v}")?;
            } else {
                if boxes.is_empty() {
                    writeln!(out, "[WARNING] There's no object detected.")?;
                }
                // PaddleX reports boxes as [xmin, ymin, xmax - xmin + 1, ymax - ymin + 1].
                for b in &boxes {
                    writeln!(
                        out,
                        "image file: {shown}, predict label: {}, label_id:{}, score: {:.6}, box(xmin, ymin, w, h):({:.6}, {:.6}, {:.6}, {:.6})",
                        b.label,
                        b.class_id,
                        b.score,
                        b.bbox[0],
                        b.bbox[1],
                        b.bbox[2] - b.bbox[0] + 1.0,
                        b.bbox[3] - b.bbox[1] + 1.0
                    )?;
                }
                writeln!(out, "Visualized output saved as {}", vis_path.display())?;
            }
        }
        (Task::Segment, Prediction::Segmentation(seg)) => {
            let label_path = save_path(&flags.save_dir, path, Some("_label.png"))?;
            vis::save_label_png(&seg, &label_path)?;
            let vis_path = save_path(&flags.save_dir, path, None)?;
            let canvas = vis::color_segmentation(flags.blend.then_some(img), &seg, num_labels);
            canvas.save(&vis_path)?;
            if flags.json {
                let v = serde_json::json!({"image": shown, "label_map_png": label_path.display().to_string(), "visualization": vis_path.display().to_string()});
                writeln!(out, "{v}")?;
            } else {
                writeln!(out, "Visualized output saved as {}", vis_path.display())?;
            }
        }
        _ => bail!(
            "the model's output does not match the {} task",
            task.paddlex_name()
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gflags_spellings_become_long_flags() {
        let a: Vec<OsString> = [
            "classifier",
            "-model_dir",
            "m",
            "-image=x.jpg",
            "--json",
            "-h",
            "-5",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let n: Vec<String> = normalise(a)
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect();
        assert_eq!(
            n,
            [
                "classifier",
                "--model_dir",
                "m",
                "--image=x.jpg",
                "--json",
                "-h",
                "-5"
            ]
        );
    }
}
