//! Shared pieces of the modelseal command-line tools: exit codes, key options, the open policy's
//! flags, process hardening, progress bars and error printing. Every binary maps failures to the
//! same documented exit codes.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod deploy_cli;
pub mod keys;
pub mod process;

use modelseal::{ErrorKind, Key, OpenOptions, SealId};
use std::path::PathBuf;
use std::process::ExitCode;
use zeroize::Zeroizing;

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
    /// Sealed data was tampered with, truncated, extended, swapped or mixed, or is not the pinned sealing.
    pub const INTEGRITY: u8 = 5;
    /// Input of a kind or version that is not supported (not sealed, PaddleX v1 not allowed,
    /// unsupported model, layout or config).
    pub const UNSUPPORTED: u8 = 6;
}

/// The exit-code table printed in `--help` of every tool.
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0  success
  1  partial failure (e.g. some images of a list failed) or unexpected error
  2  usage error (bad flags, bad key string, output exists, missing key)
  3  I/O error (a file could not be read or written)
  4  wrong key
  5  integrity failure (tampered, truncated, extended, swapped or foreign member; not the pinned sealing)
  6  unsupported input (not sealed, PaddleX v1 not allowed, unknown format version, unsupported model)";

fn code_of_core(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Usage => exit::USAGE,
        ErrorKind::Io => exit::IO,
        ErrorKind::WrongKey => exit::WRONG_KEY,
        ErrorKind::Integrity => exit::INTEGRITY,
        ErrorKind::Unsupported => exit::UNSUPPORTED,
        _ => exit::FAILURE,
    }
}

/// The exit code of a deployment SDK error.
pub fn code_of_deploy(e: &modelseal_deploy::Error) -> u8 {
    use modelseal_deploy::ErrorKind as K;
    match e.kind() {
        K::Usage => exit::USAGE,
        K::Io => exit::IO,
        K::WrongKey => exit::WRONG_KEY,
        K::Integrity => exit::INTEGRITY,
        K::Unsupported => exit::UNSUPPORTED,
        _ => exit::FAILURE,
    }
}

/// The exit code for an error chain: the first library error in it decides.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<modelseal::Error>() {
            return code_of_core(e.kind());
        }
        if let Some(e) = cause.downcast_ref::<modelseal_deploy::Error>() {
            return code_of_deploy(e);
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

/// What the user can do about a library error, in terms of this command line.
pub fn hint(e: &modelseal::Error) -> Option<String> {
    use modelseal::Error as E;
    Some(match e {
        E::KeyRequired { .. } => format!("give the key with {}", keys::KEY_SOURCES),
        E::PaddleV1NotAllowed { dir } => format!(
            "migrate it to format v2 with `modelseal rekey --model-dir {} --save-dir NEW_DIR` (it reads v1), or pass --allow-paddlex-v1 to open it as it is",
            dir.display()
        ),
        E::NotSealed { .. } => "with a key (--key-file, MODELSEAL_KEY_FILE, MODELSEAL_KEY or --key) only a sealed directory runs; a plain one runs without any key".into(),
        E::SealIdMismatch { .. } => "`modelseal verify --model-dir DIR` prints a directory's sealing id; pin the one you shipped with --seal-id or MODELSEAL_SEAL_ID".into(),
        E::SymlinkOutside { .. } => "pass --follow-symlinks to seal what the link points to".into(),
        E::OutputExists { .. } => "pass --force to replace the earlier sealing".into(),
        _ => return None,
    })
}

/// Prints `err` with its causes on stderr as `<tool>: error: ...` (and a hint where one helps)
/// and returns its exit code.
pub fn report(tool: &str, err: &anyhow::Error) -> ExitCode {
    eprintln!("{tool}: error: {err}");
    for cause in err.chain().skip(1) {
        // thiserror errors already include their source's text; print only what adds information.
        let text = cause.to_string();
        if !err.to_string().contains(&text) {
            eprintln!("  caused by: {text}");
        }
    }
    if let Some(h) = err
        .chain()
        .find_map(|c| c.downcast_ref::<modelseal::Error>())
        .and_then(hint)
    {
        eprintln!("  hint: {h}");
    }
    ExitCode::from(exit_code(err))
}

/// Where a command takes its key from (in this order): `--key-file`, `MODELSEAL_KEY_FILE`,
/// `MODELSEAL_KEY`, `--key`. Its `Debug` form never shows the key.
#[derive(clap::Args, Clone, Default)]
pub struct KeyArgs {
    /// Read the base64 key from FILE ('-' = standard input); else MODELSEAL_KEY_FILE, else MODELSEAL_KEY.
    #[arg(long = "key-file", alias = "key_file", value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// The base64 key itself (visible to other users in the process list; prefer --key-file).
    #[arg(long = "key", value_name = "KEY", value_parser = secret_arg)]
    pub key: Option<Zeroizing<String>>,
}

/// `--key`'s value parser: the parsed copy clap keeps is wiped when it is dropped.
fn secret_arg(text: &str) -> Result<Zeroizing<String>, std::convert::Infallible> {
    Ok(Zeroizing::new(text.to_string()))
}

impl std::fmt::Debug for KeyArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyArgs")
            .field("key_file", &self.key_file)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl KeyArgs {
    /// The key, if any source gives one (warning on stderr for `--key`). `MODELSEAL_KEY` is taken
    /// out of the environment.
    pub fn resolve(&self) -> anyhow::Result<Option<Key>> {
        // An empty --key means no key, as in PaddleX's demos.
        let arg = self
            .key
            .as_deref()
            .map(String::as_str)
            .filter(|k| !k.is_empty());
        Ok(keys::KeySources::gather(self.key_file.as_deref(), arg).read()?)
    }

    /// The key, or a usage error naming the sources.
    pub fn require(&self) -> anyhow::Result<Key> {
        self.resolve()?
            .ok_or_else(|| UsageError(format!("a key is required: {}", keys::KEY_SOURCES)).into())
    }
}

/// The variable that may pin the expected sealing id.
pub const SEAL_ID_ENV: &str = "MODELSEAL_SEAL_ID";

/// The open policy's flags, shared by every command that opens a model directory.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PolicyArgs {
    /// Open PaddleX v1 directories (one AES-GCM nonce per key, no manifest); its model, params and
    /// config files must still be encrypted. `modelseal rekey` migrates them to format v2.
    #[arg(long = "allow-paddlex-v1", alias = "allow_paddlex_v1", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value = "false")]
    pub allow_paddlex_v1: bool,
    /// Refuse any sealing but this one (32 hex digits, as `modelseal verify` prints it): an older
    /// sealing under the same key is refused only when pinned.
    #[arg(long = "seal-id", alias = "seal_id", value_name = "HEX", env = SEAL_ID_ENV)]
    pub seal_id: Option<SealId>,
}

impl PolicyArgs {
    /// The open options for `key` under these flags.
    pub fn options(&self, key: Option<Key>) -> OpenOptions {
        OpenOptions::new()
            .key(key)
            .allow_paddlex_v1(self.allow_paddlex_v1)
            .expect_seal_id(self.seal_id)
    }
}

/// Prints the PaddleX v1 warning once, when a v1 directory was opened on opt-in.
pub fn warn_if_paddlex_v1(tool: &str, storage: modelseal::Storage) {
    if storage == modelseal::Storage::PaddleV1 {
        eprintln!(
            "{tool}: warning: opened a PaddleX v1 directory (--allow-paddlex-v1): v1 uses one AES-GCM nonce per key and binds no manifest; migrate it with `modelseal rekey`"
        );
    }
}

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether `-q` asked for errors only.
pub fn is_quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prints a status line on stderr, unless `-q` asked for errors only.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {
        if !$crate::is_quiet() {
            eprintln!($($arg)*);
        }
    };
}

/// Logs to stderr at the level `-v`/`-q` ask for (warnings by default); `RUST_LOG` overrides.
/// Nothing logged anywhere in the tools holds key material.
pub fn init_logging(verbose: u8, quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Prints `prefix` and a secret (a key) as one line on stdout, in one write from zeroize-on-drop
/// memory: no formatted copy is left behind, and stdout's line buffer is bypassed for a whole line.
pub fn print_secret_line(prefix: &str, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut line = Zeroizing::new(String::with_capacity(prefix.len() + secret.len() + 1));
    line.push_str(prefix);
    line.push_str(secret);
    line.push('\n');
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.flush()
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct WithKey {
        #[command(flatten)]
        key: KeyArgs,
    }

    #[test]
    fn key_args_never_show_the_key() {
        let key = "MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2Nzg=";
        let parsed = WithKey::try_parse_from(["t", "--key", key, "--key-file", "k.txt"]).unwrap();
        assert_eq!(parsed.key.key.as_deref().map(String::as_str), Some(key));
        for text in [format!("{parsed:?}"), format!("{:#?}", parsed.key)] {
            assert!(!text.contains(key), "{text}");
            assert!(!text.contains("MTIz"), "{text}");
            assert!(
                text.contains("<redacted>") && text.contains("k.txt"),
                "{text}"
            );
        }
        let none = WithKey::try_parse_from(["t"]).unwrap();
        assert!(format!("{none:?}").contains("key: None"));
    }
}
