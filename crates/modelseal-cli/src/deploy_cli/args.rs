//! The flags of the deployment commands and how a command line becomes them: PaddleX's gflags
//! spellings made long flags, `modelseal`'s global flags found, arguments wiped after parsing.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser, ValueEnum};

use super::{run_task, Task};
use crate::{KeyArgs, PolicyArgs};

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
