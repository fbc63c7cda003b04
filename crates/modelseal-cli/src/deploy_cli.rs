//! Deployment front end shared by `modelseal classify|detect|segment` and the PaddleX-compatible
//! `classifier`, `detector` and `segmenter` binaries: PaddleX demo flags, output, visualisation.

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use clap::{ArgAction, Parser, ValueEnum};
use modelseal_deploy::backend::BackendKind;
use modelseal_deploy::image::Mat;
use modelseal_deploy::json::{self, Written};
use modelseal_deploy::runner::{run_pipelined, Flow};
use modelseal_deploy::{vis, BackendOptions, ModelSource, Prediction, Predictor};

use crate::{KeyArgs, PolicyArgs};

/// Which demo runs: the SDK's task; its PaddleX name ("classifier", ...) names the tool.
pub use modelseal_deploy::Task;

/// The help text after the flags.
pub const AFTER_HELP: &str = "Flags may be written --flag=value, --flag value, -flag value or -flag=value; \
booleans as --use_gpu, --use_gpu=true or --use_gpu=false.
The key is read from --key-file FILE ('-' = stdin), else the file named by MODELSEAL_KEY_FILE, else \
MODELSEAL_KEY, else --key (warned: argv is visible). With a key only a sealed directory runs; \
without one, a plain directory.

Exit codes:
  0  success
  1  some images failed (each reported), or an unexpected error
  2  usage error (bad flags, missing key, unsupported option such as --use_gpu without a GPU runtime)
  3  I/O error (a file could not be read or written)
  4  wrong key
  5  integrity failure (tampered, truncated, extended, swapped or foreign member; not the pinned sealing)
  6  unsupported input (not sealed, PaddleX v1 not allowed, unsupported model, layout or config)";

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// PaddleX's demo lines.
    Text,
    /// One JSON object per image, schema 1 (docs/JSON.md).
    Json,
    /// PaddleX 3's result layout, one `{"res": ...}` object per image.
    Paddlex,
}

/// The flags of the deployment commands (PaddleX's demo flags and the open policy's).
#[derive(clap::Args, Debug, Clone)]
pub struct DeployArgs {
    /// Model directory (sealed v2, PaddleX v1 `*.encrypted` with --allow-paddlex-v1, or plain without a key).
    #[arg(long = "model_dir", alias = "model-dir", value_name = "DIR")]
    pub model_dir: PathBuf,
    /// One image to predict.
    #[arg(long = "image", value_name = "FILE")]
    pub image: Option<PathBuf>,
    /// A text file with one image path per line.
    #[arg(long = "image_list", alias = "image-list", value_name = "FILE")]
    pub image_list: Option<PathBuf>,
    /// Run on the GPU (CUDA execution provider; needs onnxruntime-gpu).
    #[arg(long = "use_gpu", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "false")]
    pub use_gpu: bool,
    /// Use TensorRT (TensorRT execution provider; needs onnxruntime-gpu and TensorRT).
    #[arg(long = "use_trt", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "false")]
    pub use_trt: bool,
    /// Accepted for PaddleX compatibility (CPU kernels are always on).
    #[arg(long = "use_mkl", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "true")]
    pub use_mkl: bool,
    /// Accepted for PaddleX compatibility; sets the threads when --thread_num is not given.
    #[arg(long = "mkl_thread_num", value_name = "N")]
    pub mkl_thread_num: Option<usize>,
    /// GPU device id.
    #[arg(long = "gpu_id", default_value_t = 0, value_name = "ID")]
    pub gpu_id: i32,
    /// Where visualisations and label maps go (text output: default `output`; JSON: none unless given).
    #[arg(long = "save_dir", alias = "save-dir", value_name = "DIR")]
    pub save_dir: Option<PathBuf>,
    // Key sources (the flags document themselves).
    #[allow(missing_docs)]
    #[command(flatten)]
    pub key: KeyArgs,
    // The open policy's flags.
    #[allow(missing_docs)]
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Images per inference call.
    #[arg(long = "batch_size", default_value_t = 1, value_name = "N")]
    pub batch_size: usize,
    /// Intra-op threads of the backend (default: the backend's choice).
    #[arg(long = "thread_num", value_name = "N")]
    pub thread_num: Option<usize>,
    /// Graph optimisation.
    #[arg(long = "use_ir_optim", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "true")]
    pub use_ir_optim: bool,
    /// Detector: minimum score of a drawn box (default: the config's draw_threshold, else 0.5).
    #[arg(long = "threshold", value_name = "T")]
    pub threshold: Option<f32>,
    /// Classifier: report the K best classes.
    #[arg(long = "topk", value_name = "K")]
    pub topk: Option<usize>,
    /// Segmenter: blend the coloured label map over the image.
    #[arg(long = "blend", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "false")]
    pub blend: bool,
    /// Inference backend.
    #[arg(long = "backend", default_value = "auto", value_parser = ["auto", "onnxruntime", "tract"])]
    pub backend: String,
    /// Shorthand for --output-format json.
    #[arg(long = "json", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "false")]
    pub json: bool,
    /// How results are printed on stdout.
    #[arg(long = "output-format", value_enum, default_value = "text")]
    pub output_format: OutputFormat,
}

/// A PaddleX demo binary: `classifier`, `detector` or `segmenter`.
#[derive(Parser, Debug)]
#[command(version, after_help = AFTER_HELP)]
struct Demo {
    #[command(flatten)]
    args: DeployArgs,
}

/// Whether `arg` is one of `modelseal`'s global flags (`-v`, `-vv`..., `-q`, `--verbose`,
/// `--quiet`), which may stand before the subcommand and after it.
pub fn is_global_flag(arg: &str) -> bool {
    match arg.strip_prefix('-') {
        Some("-verbose" | "-quiet") => true,
        Some(letters) if !letters.is_empty() && !letters.starts_with('-') => {
            letters.bytes().all(|b| b == b'v') || letters == "q"
        }
        _ => false,
    }
}

/// The position of the subcommand in `modelseal`'s `argv`: the first argument after the global
/// flags; `None` when another flag (such as `--help`) or nothing comes first.
pub fn subcommand_index(argv: &[OsString]) -> Option<usize> {
    for (i, a) in argv.iter().enumerate().skip(1) {
        let s = a.to_str()?;
        if is_global_flag(s) {
            continue;
        }
        return (!s.starts_with('-')).then_some(i);
    }
    None
}

/// Rewrites gflags-style `-flag` / `-flag=value` into `--flag` / `--flag=value` (from `start` on),
/// leaving the global flags (`-v`, `-vv`, `-q`) as they are. A rewritten argument's original
/// (it may be `-key=...`) is wiped.
pub fn normalise(argv: Vec<OsString>, start: usize) -> Vec<OsString> {
    argv.into_iter()
        .enumerate()
        .map(|(i, a)| {
            if i < start {
                return a;
            }
            match a.to_str() {
                Some(s)
                    if s.starts_with('-')
                        && !s.starts_with("--")
                        && s.len() > 2
                        && s.as_bytes()[1].is_ascii_alphabetic()
                        && !is_global_flag(s) =>
                {
                    let long = OsString::from(format!("-{s}"));
                    wipe(a);
                    long
                }
                _ => a,
            }
        })
        .collect()
}

/// Wipes an argument's bytes before its memory is freed (it may hold `--key`'s value).
pub fn wipe(arg: OsString) {
    use zeroize::Zeroize;
    arg.into_encoded_bytes().zeroize();
}

/// Wipes every argument of `argv` (after parsing: the parsed values are separate copies).
pub fn wipe_all(argv: Vec<OsString>) {
    argv.into_iter().for_each(wipe);
}

/// `main` of the PaddleX demo binaries: hardens the process, parses PaddleX-style flags and runs.
pub fn demo_main(task: Task) -> ExitCode {
    let tool = task.paddlex_name();
    if let Err(e) = crate::process::harden() {
        eprintln!("{tool}: error: cannot make the process non-dumpable: {e}");
        return ExitCode::from(crate::exit::FAILURE);
    }
    crate::process::quiet_onnxruntime();
    crate::init_logging(0, false);
    crate::process::log_dumpable();
    let argv = normalise(std::env::args_os().collect(), 1);
    let parsed = Demo::command_for(tool).try_get_matches_from(&argv);
    wipe_all(argv);
    let demo = match parsed {
        Ok(mut m) => match <Demo as clap::FromArgMatches>::from_arg_matches_mut(&mut m) {
            Ok(d) => d,
            Err(e) => return clap_exit(e),
        },
        Err(e) => return clap_exit(e),
    };
    run_task(task, &demo.args)
}

impl Demo {
    fn command_for(name: &'static str) -> clap::Command {
        <Demo as clap::CommandFactory>::command().name(name)
    }
}

/// Prints a clap error or help and returns its exit code (0 for help and version).
pub fn clap_exit(e: clap::Error) -> ExitCode {
    let _ = e.print();
    ExitCode::from(if e.use_stderr() {
        crate::exit::USAGE
    } else {
        crate::exit::OK
    })
}

/// Runs `task` with parsed flags; the exit code says how it went.
pub fn run_task(task: Task, args: &DeployArgs) -> ExitCode {
    match run(task, args) {
        Ok(0) => ExitCode::from(crate::exit::OK),
        Ok(_) => ExitCode::from(crate::exit::FAILURE),
        Err(e) => crate::report(task.paddlex_name(), &e),
    }
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    crate::UsageError(msg.into()).into()
}

fn image_paths(args: &DeployArgs) -> anyhow::Result<Vec<PathBuf>> {
    match (&args.image, &args.image_list) {
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

/// What every image's output needs.
struct Emit<'a> {
    task: Task,
    args: &'a DeployArgs,
    format: OutputFormat,
    save_dir: Option<PathBuf>,
    num_labels: usize,
    threshold: f32,
    topk: usize,
    font: Option<vis::FontVec>,
    list_mode: bool,
}

fn open_predictor(args: &DeployArgs, tool: &str) -> anyhow::Result<Predictor> {
    if args.batch_size == 0 {
        return Err(usage("--batch_size must be at least 1"));
    }
    if args.thread_num == Some(0) {
        return Err(usage("--thread_num must be at least 1"));
    }
    let kind: BackendKind = args.backend.parse().map_err(usage)?;
    if kind != BackendKind::Tract {
        crate::process::find_onnxruntime();
    }
    let opts = BackendOptions {
        kind,
        threads: args.thread_num.or(args.mkl_thread_num),
        use_gpu: args.use_gpu || args.use_trt,
        use_trt: args.use_trt,
        gpu_id: args.gpu_id,
        ir_optim: args.use_ir_optim,
    };
    let key = args.key.resolve()?;
    let source = ModelSource::open(&args.model_dir, &args.policy.options(key))?;
    crate::warn_if_paddlex_v1(tool, source.storage());
    let pred = Predictor::open(&source, &opts)?;
    drop(source);
    Ok(pred)
}

fn run(task: Task, args: &DeployArgs) -> anyhow::Result<usize> {
    let tool = task.paddlex_name();
    let paths = image_paths(args)?;
    let mut pred = open_predictor(args, tool)?;
    if pred.task() != task {
        return Err(anyhow::Error::new(modelseal_deploy::Error::Model {
            model: pred.model_member().to_string(),
            message: format!(
                "the model in {} is a {} (config {}), not a {}",
                args.model_dir.display(),
                pred.task().paddlex_name(),
                pred.config().file,
                task.paddlex_name()
            ),
        }));
    }
    let format = if args.json {
        OutputFormat::Json
    } else {
        args.output_format
    };
    // PaddleX's demos always write pictures (to `output` by default); JSON output only on request.
    let save_dir = match (&args.save_dir, format) {
        (Some(d), _) => Some(d.clone()),
        (None, OutputFormat::Text) if task != Task::Classify => Some(PathBuf::from("output")),
        (None, _) => None,
    };
    if let Some(d) = save_dir.as_ref().filter(|_| task != Task::Classify) {
        std::fs::create_dir_all(d)
            .with_context(|| format!("cannot create save_dir {}", d.display()))?;
    }
    let font = (task == Task::Detect && save_dir.is_some()).then(vis::load_font);
    let threshold = args.threshold.unwrap_or_else(|| {
        pred.config()
            .det
            .as_ref()
            .map(|d| d.draw_threshold)
            .unwrap_or(0.5)
    });
    let topk = match args.topk {
        Some(0) => return Err(usage("--topk must be at least 1")),
        Some(k) => {
            pred.set_topk(k);
            k
        }
        None => 1,
    };
    let emit = Emit {
        task,
        args,
        format,
        save_dir,
        num_labels: pred.labels().len(),
        threshold,
        topk,
        font,
        list_mode: args.image_list.is_some(),
    };
    let bar = if emit.list_mode {
        progress(paths.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let stdout = std::io::stdout();
    let mut failed = 0usize;
    run_pipelined(&mut pred, &paths, args.batch_size, |p, r| {
        let r = r
            .map_err(anyhow::Error::new)
            .and_then(|(m, pr)| emit.result(p, &m, pr, &mut stdout.lock()));
        bar.inc(1);
        match r {
            Ok(()) => Flow::Continue,
            // The reader of stdout went away (e.g. `| head`): stop quietly.
            Err(e) if is_broken_pipe(&e) => Flow::Stop,
            Err(e) => {
                failed += 1;
                let shown = p.display().to_string();
                let text = format!("{e:#}");
                let line = if text.contains(&shown) {
                    format!("{tool}: error: {text}")
                } else {
                    format!("{tool}: error: {shown}: {text}")
                };
                bar.suspend(|| eprintln!("{line}"));
                if emit.format == OutputFormat::Json {
                    let kind = error_kind(&e);
                    let v = json::failure(&shown, task, kind, &text);
                    if writeln!(stdout.lock(), "{v}").is_err() {
                        return Flow::Stop;
                    }
                }
                Flow::Continue
            }
        }
    });
    bar.finish_and_clear();
    if failed > 0 {
        eprintln!("{tool}: {failed} of {} images failed", paths.len());
    }
    Ok(failed)
}

/// The kind name of a failed image's error (the SDK's, else `io` or `failure`).
fn error_kind(e: &anyhow::Error) -> &'static str {
    for c in e.chain() {
        if let Some(d) = c.downcast_ref::<modelseal_deploy::Error>() {
            return d.kind().name();
        }
        if c.downcast_ref::<std::io::Error>().is_some() {
            return "io";
        }
    }
    "failure"
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

impl Emit<'_> {
    /// Writes the pictures asked for, then the result in the chosen format.
    fn result(
        &self,
        path: &Path,
        img: &Mat,
        pred: Prediction,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let shown = path.display().to_string();
        let written = self.pictures(path, img, &pred)?;
        match self.format {
            OutputFormat::Json => {
                let v = json::prediction(&shown, self.task, &pred, self.topk, &written);
                writeln!(out, "{v}")?;
            }
            OutputFormat::Paddlex => {
                writeln!(out, "{}", json::paddlex(&shown, &pred, self.topk, &written))?;
            }
            OutputFormat::Text => self.text(&shown, &pred, &written, out)?,
        }
        Ok(())
    }

    fn pictures(&self, path: &Path, img: &Mat, pred: &Prediction) -> anyhow::Result<Written> {
        let mut w = Written::default();
        let Some(dir) = &self.save_dir else {
            return Ok(w);
        };
        match (self.task, pred) {
            (Task::Detect, Prediction::Boxes(boxes)) => {
                let vis_path = save_path(dir, path, None)?;
                let canvas = vis::draw_boxes(
                    img,
                    boxes,
                    self.threshold,
                    self.num_labels,
                    self.font.as_ref(),
                );
                canvas.save(&vis_path)?;
                w.visualization = Some(vis_path.display().to_string());
            }
            (Task::Segment, Prediction::Segmentation(seg)) => {
                let label_path = save_path(dir, path, Some("_label.png"))?;
                vis::save_label_png(seg, &label_path)?;
                let vis_path = save_path(dir, path, None)?;
                let canvas =
                    vis::color_segmentation(self.args.blend.then_some(img), seg, self.num_labels);
                canvas.save(&vis_path)?;
                w.label_map_png = Some(label_path.display().to_string());
                w.visualization = Some(vis_path.display().to_string());
            }
            (Task::Classify, Prediction::Classes(_)) => {}
            _ => bail!(
                "the model's output does not match the {} task",
                self.task.paddlex_name()
            ),
        }
        Ok(w)
    }

    fn text(
        &self,
        shown: &str,
        pred: &Prediction,
        written: &Written,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        match pred {
            Prediction::Classes(classes) => {
                for c in classes.iter().take(self.topk) {
                    if self.list_mode {
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
            Prediction::Boxes(boxes) => {
                if boxes.is_empty() {
                    writeln!(out, "[WARNING] There's no object detected.")?;
                }
                // PaddleX reports boxes as [xmin, ymin, xmax - xmin + 1, ymax - ymin + 1].
                for b in boxes {
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
            }
            Prediction::Segmentation(_) => {}
        }
        if let Some(v) = &written.visualization {
            writeln!(out, "Visualized output saved as {v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_subcommand_is_found_after_the_global_flags() {
        for (argv, want) in [
            (&["modelseal", "classify", "-model_dir", "m"][..], Some(1)),
            (&["modelseal", "-v", "classify"][..], Some(2)),
            (&["modelseal", "-vvv", "-q", "detect"][..], Some(3)),
            (
                &["modelseal", "--verbose", "--quiet", "segment"][..],
                Some(3),
            ),
            (&["modelseal", "-q", "keygen"][..], Some(2)),
            (&["modelseal", "--help"][..], None),
            (&["modelseal", "-v"][..], None),
            (&["modelseal"][..], None),
        ] {
            assert_eq!(subcommand_index(&os(argv)), want, "{argv:?}");
        }
        for flag in ["-v", "-vv", "-vvv", "-q", "--verbose", "--quiet"] {
            assert!(is_global_flag(flag), "{flag}");
        }
        for other in [
            "-",
            "--",
            "-h",
            "-qq",
            "-vq",
            "-model_dir",
            "--key",
            "classify",
        ] {
            assert!(!is_global_flag(other), "{other}");
        }
    }

    #[test]
    fn deploy_args_never_show_the_key() {
        let key = "MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2Nzg=";
        let argv = normalise(
            os(&[
                "classifier",
                "-model_dir",
                "m",
                "-image",
                "x.png",
                "-key",
                key,
            ]),
            1,
        );
        let demo = Demo::command_for("classifier")
            .try_get_matches_from(&argv)
            .and_then(|m| <Demo as clap::FromArgMatches>::from_arg_matches(&m))
            .unwrap();
        assert_eq!(demo.args.key.key.as_deref().map(String::as_str), Some(key));
        let text = format!("{:?}", demo.args);
        assert!(!text.contains("MTIz"), "{text}");
        assert!(
            text.contains("<redacted>") && text.contains("model_dir"),
            "{text}"
        );
    }

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
            "-vv",
            "-q",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let n: Vec<String> = normalise(a, 1)
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
                "-5",
                "-vv",
                "-q"
            ]
        );
    }
}
