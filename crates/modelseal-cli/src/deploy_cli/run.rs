//! Running a deployment task: the images to read, the predictor opened under the open policy,
//! the pipelined run over the images, and failed images reported on stderr (and as JSON lines).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use modelseal_deploy::backend::BackendKind;
use modelseal_deploy::json;
use modelseal_deploy::runner::{run_pipelined, Flow};
use modelseal_deploy::{vis, BackendOptions, ModelSource, Predictor};

use super::output::Emit;
use super::{DeployArgs, OutputFormat, Task};

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
