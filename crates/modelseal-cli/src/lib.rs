//! Shared pieces of the modelseal command-line tools: exit codes, key options, progress bars, error printing.
//! Every binary of the crate maps failures to the same documented exit codes.
#![forbid(unsafe_code)]

pub mod deploy_cli;

use modelseal::{ErrorKind, Key};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes shared by every tool.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Partial failure (for example some images of a list failed) or an unexpected error.
    pub const FAILURE: u8 = 1;
    /// Bad command line or a request that cannot be carried out (bad key string, output exists...).
    pub const USAGE: u8 = 2;
    /// A file could not be read or written.
    pub const IO: u8 = 3;
    /// The key does not open the sealed data.
    pub const WRONG_KEY: u8 = 4;
    /// Sealed data was tampered with, truncated, extended, swapped or mixed.
    pub const INTEGRITY: u8 = 5;
    /// Input of a kind or version that is not supported.
    pub const UNSUPPORTED: u8 = 6;
}

/// The exit-code table printed in `--help` of every tool.
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0  success
  1  partial failure (e.g. some images of a list failed) or unexpected error
  2  usage error (bad flags, bad key string, output exists, missing key)
  3  I/O error (a file could not be read or written)
  4  wrong key
  5  integrity failure (tampered, truncated, extended, swapped or foreign member)
  6  unsupported input (not sealed, unknown format version, unsupported model)";

/// The exit code for an error chain: the first `modelseal::Error` in it decides.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<modelseal::Error>() {
            return match e.kind() {
                ErrorKind::Usage => exit::USAGE,
                ErrorKind::Io => exit::IO,
                ErrorKind::WrongKey => exit::WRONG_KEY,
                ErrorKind::Integrity => exit::INTEGRITY,
                ErrorKind::Unsupported => exit::UNSUPPORTED,
                _ => exit::FAILURE,
            };
        }
        if cause.downcast_ref::<UsageError>().is_some() {
            return exit::USAGE;
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return exit::IO;
        }
    }
    exit::FAILURE
}

/// A command-line usage error raised by the tools themselves.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Prints `err` with its causes on stderr as `<tool>: error: ...` and returns its exit code.
pub fn report(tool: &str, err: &anyhow::Error) -> ExitCode {
    eprintln!("{tool}: error: {err}");
    for cause in err.chain().skip(1) {
        // thiserror errors already include their source's text; print only what adds information.
        let text = cause.to_string();
        if !err.to_string().contains(&text) {
            eprintln!("  caused by: {text}");
        }
    }
    ExitCode::from(exit_code(err))
}

/// Where a command takes its key from (in this order): `--key-file`, `MODELSEAL_KEY`, `--key`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct KeyArgs {
    /// Read the base64 key from FILE ('-' = standard input).
    #[arg(long = "key-file", value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// The base64 key itself (visible to other users in the process list; prefer --key-file or MODELSEAL_KEY).
    #[arg(long = "key", value_name = "KEY")]
    pub key: Option<String>,
}

impl KeyArgs {
    /// The key, if any source gives one (warning on stderr for `--key`).
    pub fn resolve(&self) -> anyhow::Result<Option<Key>> {
        Ok(modelseal::read_key(
            self.key_file.as_deref(),
            self.key.as_deref(),
        )?)
    }

    /// The key, or a usage error naming the sources.
    pub fn require(&self) -> anyhow::Result<Key> {
        self.resolve()?.ok_or_else(|| {
            UsageError("a key is required: --key-file FILE, the MODELSEAL_KEY environment variable, or --key KEY".into()).into()
        })
    }
}

/// A byte-count progress bar on stderr, drawn only when stderr is a terminal.
pub fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}
