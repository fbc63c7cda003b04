//! The `modelseal` command: keys, sealing, verification, inspection and re-keying of model directories,
//! and (through `classify`, `detect`, `segment`) deployment of sealed models on images.
#![forbid(unsafe_code)]

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use modelseal::{Key, ModelDir, OutputFormat, SealOptions, Storage};
use modelseal_cli::{deploy_cli, progress_bar, report, KeyArgs, UsageError, EXIT_CODES_HELP};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "modelseal", version, about = "Seal model directories with a 256-bit key and open them in memory only", after_help = EXIT_CODES_HELP)]
struct Cli {
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
        /// Replace an existing non-empty save directory.
        #[arg(long)]
        force: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "v2")]
        format: FormatArg,
        /// Chunk size as a power of two (12..=24; 16 = 64 KiB).
        #[arg(long = "chunk-log2", default_value_t = modelseal::v2::DEFAULT_CHUNK_LOG2, value_parser = clap::value_parser!(u8).range(12..=24))]
        chunk_log2: u8,
        /// Write a generated key to this new 0600 file instead of printing it.
        #[arg(long = "key-out", value_name = "FILE")]
        key_out: Option<PathBuf>,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Authenticate every member and the manifest without writing plaintext; one line per member.
    Verify {
        /// Sealed directory or sealed file.
        #[arg(long = "model-dir", alias = "model_dir", value_name = "PATH")]
        model_dir: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
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
        /// Sealed directory to read (with the old key from --key-file / MODELSEAL_KEY / --key).
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
        /// Replace an existing non-empty save directory.
        #[arg(long)]
        force: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "v2")]
        format: FormatArg,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Classify images with a (sealed) model directory; PaddleX `classifier` flags. See `modelseal classify --help`.
    Classify,
    /// Detect objects in images with a (sealed) model directory; PaddleX `detector` flags.
    Detect,
    /// Segment images with a (sealed) model directory; PaddleX `segmenter` flags.
    Segment,
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(code) = deploy_dispatch(&args) {
        return code;
    }
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report("modelseal", &e),
    }
}

// Hands `classify`, `detect` and `segment` to the deployment front end before clap parses the command line.
fn deploy_dispatch(args: &[std::ffi::OsString]) -> Option<ExitCode> {
    let task = match args.get(1).and_then(|a| a.to_str()) {
        Some("classify") => deploy_cli::Task::Classify,
        Some("detect") => deploy_cli::Task::Detect,
        Some("segment") => deploy_cli::Task::Segment,
        _ => return None,
    };
    let name = format!("modelseal {}", args[1].to_string_lossy());
    let mut argv = vec![std::ffi::OsString::from(name)];
    argv.extend(args[2..].iter().cloned());
    Some(deploy_cli::run_task(task, argv))
}

fn write_key_file(path: &Path, key: &Key) -> Result<()> {
    let text = key.to_base64();
    modelseal::fsutil::write_new_file(
        path,
        &mut |w| {
            w.write_all(format!("{}\n", &*text).as_bytes())
                .map_err(|e| modelseal::Error::Io {
                    path: path.to_path_buf(),
                    source: e,
                })
        },
        true,
    )?;
    Ok(())
}

/// Uses the key given, or generates one and hands it out once (stdout, or `key_out`).
fn key_or_generate(given: Option<Key>, key_out: Option<&Path>) -> Result<(Key, bool)> {
    if let Some(k) = given {
        if key_out.is_some() {
            return Err(
                UsageError("--key-out only applies when a new key is generated".into()).into(),
            );
        }
        return Ok((k, false));
    }
    let k = Key::generate()?;
    if let Some(p) = key_out {
        write_key_file(p, &k)?;
    }
    Ok((k, true))
}

fn announce_key(key: &Key, generated: bool, key_out: Option<&Path>) {
    if !generated {
        return;
    }
    match key_out {
        Some(p) => eprintln!("generated a new key and wrote it to {}", p.display()),
        None => {
            eprintln!("generated a new key; it is printed once below on stdout; keep it secret:");
            println!("{}", &*key.to_base64());
        }
    }
}

fn seal_with_progress(
    key: &Key,
    src: &ModelDir,
    dst: &Path,
    opts: &SealOptions,
) -> Result<Vec<modelseal::SealedMember>> {
    let total: u64 = src.names().iter().filter_map(|n| src.size(n)).sum();
    let bar = progress_bar(total, "sealing");
    let members = modelseal::seal_dir(key, src, dst, opts, &|n| bar.inc(n));
    bar.finish_and_clear();
    members.with_context(|| format!("sealing {} into {}", src.root().display(), dst.display()))
}

/// Seals `src` into `dst` under the given key (or a new one, handed out once) and lists what was written.
fn seal_and_report(
    src: &ModelDir,
    dst: &Path,
    key: Option<Key>,
    key_out: Option<&Path>,
    opts: &SealOptions,
) -> Result<()> {
    let (k, generated) = key_or_generate(key, key_out)?;
    let members = seal_with_progress(&k, src, dst, opts)?;
    print_members(&members, dst);
    announce_key(&k, generated, key_out);
    Ok(())
}

fn print_members(members: &[modelseal::SealedMember], dst: &Path) {
    for m in members {
        let how = if m.encrypted { "sealed" } else { "copied" };
        eprintln!(
            "  {how:<6} {:<8} {:>12} bytes  {} -> {}",
            m.role.as_str(),
            m.size,
            m.name,
            m.file
        );
    }
    eprintln!("{} members written to {}", members.len(), dst.display());
}

fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Keygen { out } => {
            let key = Key::generate()?;
            match out {
                Some(p) => {
                    write_key_file(&p, &key)?;
                    eprintln!("wrote a new key to {} (mode 0600)", p.display());
                }
                None => println!("{}", &*key.to_base64()),
            }
            Ok(())
        }
        Command::Encrypt {
            model_dir,
            save_dir,
            input,
            output,
            force,
            format,
            chunk_log2,
            key_out,
            key,
        } => {
            let format = OutputFormat::from(format);
            if format == OutputFormat::PaddleV1 {
                eprintln!("{}", modelseal::v1::NONCE_REUSE_WARNING);
            }
            let given = key.resolve()?;
            if let (Some(input), Some(output)) = (&input, &output) {
                let (k, generated) = key_or_generate(given, key_out.as_deref())?;
                modelseal::seal_file(&k, input, output, format, chunk_log2).with_context(|| {
                    format!("sealing {} into {}", input.display(), output.display())
                })?;
                eprintln!("sealed {} -> {}", input.display(), output.display());
                announce_key(&k, generated, key_out.as_deref());
                return Ok(());
            }
            let (Some(model_dir), Some(save_dir)) = (model_dir, save_dir) else {
                return Err(UsageError(
                    "encrypt needs --model-dir DIR --save-dir DIR, or --in FILE --out FILE".into(),
                )
                .into());
            };
            let src = match ModelDir::open(&model_dir, None) {
                Err(modelseal::Error::KeyRequired { .. }) => None,
                other => Some(other?),
            };
            let Some(src) = src.filter(|s| !s.is_sealed()) else {
                return Err(UsageError(format!(
                    "{} is already sealed; use `modelseal rekey` to change its key or format",
                    model_dir.display()
                ))
                .into());
            };
            let opts = SealOptions {
                format,
                chunk_log2,
                force,
            };
            seal_and_report(&src, &save_dir, given, key_out.as_deref(), &opts)
        }
        Command::Verify { model_dir, key } => {
            let k = key.require()?;
            let report = modelseal::verify(&k, &model_dir)?;
            let mut first_err: Option<modelseal::Error> = None;
            for (name, outcome) in report {
                match outcome {
                    Ok(m) => println!(
                        "OK    {name}  {} bytes  sha256:{}  ({})",
                        m.size,
                        m.sha256,
                        storage_name(m.storage)
                    ),
                    Err(e) => {
                        println!("FAIL  {name}  {e}");
                        first_err.get_or_insert(e);
                    }
                }
            }
            match first_err {
                Some(e) => Err(anyhow::Error::new(e)
                    .context(format!("{} did not verify", model_dir.display()))),
                None => Ok(()),
            }
        }
        Command::Inspect { path } => {
            for e in modelseal::inspect(&path)? {
                match (&e.header, e.storage) {
                    (Some(h), _) => println!(
                        "{}: modelseal v2 {}, member '{}', {} plaintext bytes, {} chunks of {} bytes, sealing {}, file {} bytes{}",
                        e.file,
                        if h.kind == modelseal::v2::Kind::Manifest { "manifest" } else { "member" },
                        h.name,
                        h.plaintext_len,
                        h.chunk_count(),
                        h.chunk_size(),
                        hex::encode(h.seal_id),
                        e.file_size,
                        e.problem.as_ref().map(|p| format!(" (PROBLEM: {p})")).unwrap_or_default()
                    ),
                    (None, Storage::SealedV2) => println!("{}: modelseal header, unreadable: {}", e.file, e.problem.unwrap_or_default()),
                    (None, Storage::PaddleV1) => println!(
                        "{}: PaddleX v1 (PADDLE1, one nonce per key), file {} bytes{}",
                        e.file,
                        e.file_size,
                        if e.file_size >= 151 { format!(", {} plaintext bytes if not base64-wrapped", e.file_size - 151) } else { String::new() }
                    ),
                    (None, Storage::Plain) => println!("{}: not sealed, {} bytes", e.file, e.file_size),
                }
            }
            Ok(())
        }
        Command::Decrypt { input, output, key } => {
            let k = key.require()?;
            let n = modelseal::decrypt_file(&k, &input, &output)?;
            eprintln!(
                "decrypted {} -> {} ({n} bytes of plaintext written to disk)",
                input.display(),
                output.display()
            );
            Ok(())
        }
        Command::Rekey {
            model_dir,
            save_dir,
            new_key_file,
            key_out,
            force,
            format,
            key,
        } => {
            let old = key.require()?;
            let format = OutputFormat::from(format);
            if format == OutputFormat::PaddleV1 {
                eprintln!("{}", modelseal::v1::NONCE_REUSE_WARNING);
            }
            let src = ModelDir::open(&model_dir, Some(&old))?;
            if !src.is_sealed() {
                return Err(UsageError(format!(
                    "{} is not sealed; use `modelseal encrypt`",
                    model_dir.display()
                ))
                .into());
            }
            let new = match new_key_file {
                Some(p) => {
                    Some(modelseal::read_key(Some(&p), None)?.expect("a key file yields a key"))
                }
                None => None,
            };
            let opts = SealOptions {
                format,
                chunk_log2: modelseal::v2::DEFAULT_CHUNK_LOG2,
                force,
            };
            seal_and_report(&src, &save_dir, new, key_out.as_deref(), &opts)
        }
        Command::Classify | Command::Detect | Command::Segment => {
            unreachable!("dispatched before parsing")
        }
    }
}

fn storage_name(s: Storage) -> &'static str {
    match s {
        Storage::SealedV2 => "modelseal v2",
        Storage::PaddleV1 => "PaddleX v1",
        Storage::Plain => "plain copy",
    }
}
