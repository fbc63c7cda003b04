//! The `modelseal` command: keys, sealing, verification, inspection and re-keying of model
//! directories, and (through `classify`, `detect`, `segment`) deployment of sealed models on images.
#![forbid(unsafe_code)]

mod commands;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use modelseal::OutputFormat;
use modelseal_cli::deploy_cli::{self, DeployArgs, Task};
use modelseal_cli::{report, KeyArgs, PolicyArgs, EXIT_CODES_HELP};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "modelseal", version, about = "Seal model directories with a 256-bit key and open them in memory only", after_help = EXIT_CODES_HELP)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short = 'q', long = "quiet", global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    /// modelseal format v2 (per-file salt, chunked AES-256-GCM, sealed manifest)
    V2,
    /// PaddleX/FastDeploy format v1 for old loaders (reuses one nonce per key)
    #[value(name = "paddlex-v1")]
    PaddlexV1,
}

impl From<FormatArg> for OutputFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::V2 => OutputFormat::V2,
            FormatArg::PaddlexV1 => OutputFormat::PaddleV1,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a new random key (base64 of 32 bytes from the OS CSPRNG), or write it to a new 0600 file.
    Keygen {
        /// Write the key to FILE (created with mode 0600; never overwritten) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Seal a model directory (or one file). Without a key, a new one is generated and printed once on stdout.
    Encrypt {
        /// Model directory to seal (every file, sub-folders too).
        #[arg(
            long = "model-dir",
            alias = "model_dir",
            value_name = "DIR",
            conflicts_with = "input",
            required_unless_present = "input"
        )]
        model_dir: Option<PathBuf>,
        /// Output directory (created atomically; must not be inside the model directory).
        #[arg(
            long = "save-dir",
            alias = "save_dir",
            value_name = "DIR",
            requires = "model_dir"
        )]
        save_dir: Option<PathBuf>,
        /// Seal a single file instead of a directory.
        #[arg(long = "in", value_name = "FILE", requires = "output")]
        input: Option<PathBuf>,
        /// Output file for --in (must not exist).
        #[arg(long = "out", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace an existing save directory that holds an earlier sealing (never anything else).
        #[arg(long)]
        force: bool,
        /// Seal what symbolic links pointing outside the model directory point to (refused otherwise).
        #[arg(long = "follow-symlinks")]
        follow_symlinks: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "v2")]
        format: FormatArg,
        /// Chunk size as a power of two (12..=24; 16 = 64 KiB).
        #[arg(long = "chunk-log2", default_value_t = modelseal::DEFAULT_CHUNK_LOG2, value_parser = clap::value_parser!(u8).range(12..=24))]
        chunk_log2: u8,
        /// Write a generated key to this new 0600 file instead of printing it.
        #[arg(long = "key-out", value_name = "FILE")]
        key_out: Option<PathBuf>,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Authenticate every member and the manifest without writing plaintext; one line per member,
    /// then the sealing id.
    Verify {
        /// Sealed directory or sealed file.
        #[arg(long = "model-dir", alias = "model_dir", value_name = "PATH")]
        model_dir: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Print what the headers say, without a key.
    Inspect {
        /// Sealed directory or file.
        path: PathBuf,
    },
    /// Decrypt one sealed file to a new file (plaintext on disk: the explicit escape hatch).
    Decrypt {
        /// Sealed file (v2, PaddleX v1 or FastDeploy base64 v1).
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// Plaintext output (must not exist; created with mode 0600).
        #[arg(long = "out", value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Re-seal a sealed directory (v2 or PaddleX v1) under a new key, in memory only; v1 becomes v2.
    Rekey {
        /// Sealed directory to read (with the old key from --key-file / MODELSEAL_KEY_FILE / MODELSEAL_KEY / --key).
        #[arg(long = "model-dir", alias = "model_dir", value_name = "DIR")]
        model_dir: PathBuf,
        /// New sealed directory.
        #[arg(long = "save-dir", alias = "save_dir", value_name = "DIR")]
        save_dir: PathBuf,
        /// Read the new key from FILE ('-' = stdin); without it a new key is generated and printed.
        #[arg(long = "new-key-file", value_name = "FILE")]
        new_key_file: Option<PathBuf>,
        /// Write a generated new key to this new 0600 file instead of printing it.
        #[arg(long = "key-out", value_name = "FILE")]
        key_out: Option<PathBuf>,
        /// Replace an existing save directory that holds an earlier sealing (never anything else).
        #[arg(long)]
        force: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "v2")]
        format: FormatArg,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Translate a Paddle-format model directory (plain, or sealed with its key) into ONNX:
    /// the program and its parameters become model.onnx, every other member is kept. With --seal
    /// the output is sealed directly (under the key given, or a new one), so no plaintext ONNX is
    /// written; a sealed input is only converted with --seal.
    Convert {
        /// Model directory holding a Paddle program (__model__, *.pdmodel or inference.json) and
        /// its parameters.
        #[arg(long = "model-dir", alias = "model_dir", value_name = "DIR")]
        model_dir: PathBuf,
        /// Output directory (created atomically; must not exist or be empty).
        #[arg(long = "save-dir", alias = "save_dir", value_name = "DIR")]
        save_dir: PathBuf,
        /// Seal the output (format v2) instead of writing plain files.
        #[arg(long)]
        seal: bool,
        /// Write a generated key to this new 0600 file instead of printing it (--seal without a key).
        #[arg(long = "key-out", value_name = "FILE")]
        key_out: Option<PathBuf>,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Classify images with a (sealed) model directory; PaddleX `classifier` flags.
    #[command(after_help = deploy_cli::AFTER_HELP)]
    Classify(DeployArgs),
    /// Detect objects in images with a (sealed) model directory; PaddleX `detector` flags.
    #[command(after_help = deploy_cli::AFTER_HELP)]
    Detect(DeployArgs),
    /// Segment images with a (sealed) model directory; PaddleX `segmenter` flags.
    #[command(after_help = deploy_cli::AFTER_HELP)]
    Segment(DeployArgs),
    /// Serve (sealed) models over the Open Inference Protocol (KServe v2): REST and gRPC.
    Serve(modelseal_serve::ServeArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) on stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write man pages (modelseal.1 and one per subcommand) into a directory.
    #[command(name = "man")]
    ManPages {
        /// Directory to write into (created if missing).
        #[arg(long = "out-dir", value_name = "DIR")]
        out_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    // Every subcommand may read or write a key (`--key-file`, `MODELSEAL_KEY`, `keygen`,
    // `--key-out`) or decrypt: the process is made non-dumpable first, whatever the arguments.
    if let Err(e) = modelseal_cli::process::harden() {
        eprintln!("modelseal: error: cannot make the process non-dumpable: {e}");
        return ExitCode::from(modelseal_cli::exit::FAILURE);
    }
    modelseal_cli::process::quiet_onnxruntime();
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The deployment subcommands take PaddleX's single-dash flags too; the subcommand is found
    // after the global flags (`modelseal -v classify -model_dir ...`).
    let sub = deploy_cli::subcommand_index(&argv);
    let deploy = matches!(
        sub.and_then(|i| argv[i].to_str()),
        Some("classify" | "detect" | "segment")
    );
    if let (true, Some(i)) = (deploy, sub) {
        argv = deploy_cli::normalise(argv, i + 1);
    }
    let parsed = Cli::command().try_get_matches_from(&argv);
    // Our copy of the arguments (it may hold `--key`) is wiped; the parsed values are separate.
    deploy_cli::wipe_all(argv);
    let cli = match parsed.and_then(|mut m| Cli::from_arg_matches_mut(&mut m)) {
        Ok(c) => c,
        Err(e) => return deploy_cli::clap_exit(e),
    };
    if !matches!(cli.command, Command::Serve(_)) {
        modelseal_cli::init_logging(cli.verbose, cli.quiet);
        modelseal_cli::process::log_dumpable();
    }
    match cli.command {
        // The server sets up its own logging (text or JSON).
        Command::Serve(mut args) => {
            // The server sets up its own logging; the global -v/-q reach it here.
            args.verbose = cli.verbose;
            args.quiet = cli.quiet;
            serve(args)
        }
        Command::Classify(a) => deploy_cli::run_task(Task::Classify, &a),
        Command::Detect(a) => deploy_cli::run_task(Task::Detect, &a),
        Command::Segment(a) => deploy_cli::run_task(Task::Segment, &a),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "modelseal",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
        other => match commands::run(other) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => report("modelseal", &e),
        },
    }
}

/// Runs `modelseal serve` with the key of every other command (`--key-file`, `MODELSEAL_KEY_FILE`,
/// `MODELSEAL_KEY` taken out of the environment, `--key`); start-up failures map to the usual exit codes.
fn serve(mut args: modelseal_serve::ServeArgs) -> ExitCode {
    use modelseal_cli::exit;
    use modelseal_serve::ServeErrorKind as K;
    let keys = KeyArgs {
        key_file: args.key_file.clone(),
        // Moved (not copied) into wiped memory; the server gets the key itself, not the text.
        key: args.key.take().map(zeroize::Zeroizing::new),
    };
    let key = match keys.resolve() {
        Ok(k) => k,
        Err(e) => return report("modelseal serve", &e),
    };
    // ONNX Runtime found as for every deploy command (ORT_DYLIB_PATH, next to the binary, the
    // loader's paths, then a Python package's copy, looked up with the key variables cleared).
    if args.backend != "tract" {
        modelseal_cli::process::find_onnxruntime();
    }
    match modelseal_serve::run(args, key) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = match e.kind() {
                K::Usage => exit::USAGE,
                K::Io => exit::IO,
                K::WrongKey => exit::WRONG_KEY,
                K::Integrity => exit::INTEGRITY,
                K::Unsupported => exit::UNSUPPORTED,
                _ => exit::FAILURE,
            };
            report("modelseal serve", &anyhow::Error::new(e));
            ExitCode::from(code)
        }
    }
}
