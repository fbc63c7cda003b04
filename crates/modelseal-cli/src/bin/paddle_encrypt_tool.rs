//! `paddle_encrypt_tool`: a drop-in for PaddleX's encryption tool with its 1.x argument forms.
//! Writes modelseal format v2 by default and PaddleX v1 with `-format paddlex-v1`.
#![forbid(unsafe_code)]

use modelseal::paddlex::{self, Operation};
use modelseal::{Key, OpenOptions, OutputFormat, SealOptions};
use modelseal_cli::keys::KeySources;
use modelseal_cli::{exit, exit_code, print_secret_line, EXIT_CODES_HELP};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::{Zeroize, Zeroizing};

const USAGE: &str = "*** paddle_encrypt_tool Usage ***
[1] Help: paddle_encrypt_tool -h
[2] Generate key: paddle_encrypt_tool -g
[3] Encrypt a model directory with a new key:
    paddle_encrypt_tool -model_dir MODEL_DIR -save_dir SAVE_DIR
[4] Encrypt a model directory with a key:
    paddle_encrypt_tool -key KEY -model_dir MODEL_DIR -save_dir SAVE_DIR
[5] Encrypt one file:
    paddle_encrypt_tool -e -key KEY -infile IN -outfile OUT
Flags may also be written --flag=value. Other options:
    -key_file FILE   read the key from FILE ('-' = stdin) instead of -key (argv is visible to other users);
                     the MODELSEAL_KEY_FILE and MODELSEAL_KEY environment variables are also read
    -format v2|paddlex-v1   output format (default v2; paddlex-v1 for old PaddleX/FastDeploy loaders)
    -force           replace an existing SAVE_DIR that holds an earlier sealing
    -follow_symlinks seal what symbolic links out of MODEL_DIR point to (refused otherwise)
    -version         print the version";

struct Args {
    flags: BTreeMap<String, String>,
    switches: Vec<String>,
}

impl Drop for Args {
    /// The values may hold `-key`: wiped, not just freed.
    fn drop(&mut self) {
        self.flags.values_mut().for_each(Zeroize::zeroize);
    }
}

const VALUE_FLAGS: &[&str] = &[
    "key",
    "key_file",
    "model_dir",
    "save_dir",
    "infile",
    "outfile",
    "format",
];
const SWITCHES: &[&str] = &[
    "g",
    "h",
    "help",
    "e",
    "force",
    "follow_symlinks",
    "version",
    "V",
];

fn parse(argv: &[String]) -> Result<Args, String> {
    let mut flags = BTreeMap::new();
    let mut switches = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let raw = &argv[i];
        let body = raw
            .strip_prefix("--")
            .or_else(|| raw.strip_prefix('-'))
            .ok_or_else(|| format!("unexpected argument '{raw}'"))?;
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (body.to_string(), None),
        };
        if SWITCHES.contains(&name.as_str()) {
            match inline.as_deref() {
                None | Some("true") | Some("1") => switches.push(name),
                Some("false") | Some("0") => {}
                Some(v) => return Err(format!("-{name} takes no value (got '{v}')")),
            }
        } else if VALUE_FLAGS.contains(&name.as_str()) {
            let value = match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    argv.get(i)
                        .cloned()
                        .ok_or_else(|| format!("-{name} needs a value"))?
                }
            };
            if flags.insert(name.clone(), value).is_some() {
                return Err(format!("-{name} given twice"));
            }
        } else {
            return Err(format!("unknown flag '{raw}'"));
        }
        i += 1;
    }
    Ok(Args { flags, switches })
}

fn fail(code: i32, message: &str, exit_code: u8) -> ExitCode {
    eprintln!("Failed, errorcode = {code}, {message}");
    ExitCode::from(exit_code)
}

/// The exit status of `e`: the mapping every modelseal tool shares.
fn exit_status(e: modelseal::Error) -> u8 {
    exit_code(&anyhow::Error::new(e))
}

/// Prints PaddleX's error line for `e` raised by `op` and returns the shared exit status.
fn fail_with(e: modelseal::Error, op: Operation) -> ExitCode {
    let (code, message) = (paddlex::code(&e, op), e.to_string());
    fail(code, &message, exit_status(e))
}

fn main() -> ExitCode {
    // It reads and prints keys: non-dumpable first, like every modelseal tool.
    if let Err(e) = modelseal_cli::process::harden() {
        eprintln!("paddle_encrypt_tool: error: cannot make the process non-dumpable: {e}");
        return ExitCode::from(exit::FAILURE);
    }
    // Wiped on drop: an argument may be the key (`-key KEY`).
    let argv: Zeroizing<Vec<String>> = Zeroizing::new(std::env::args().skip(1).collect());
    let args = match parse(&argv) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("paddle_encrypt_tool: {msg}\n\n{USAGE}\n\n{EXIT_CODES_HELP}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let has = |s: &str| args.switches.iter().any(|x| x == s);
    if has("version") || has("V") {
        println!("paddle_encrypt_tool {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if argv.is_empty() || has("h") || has("help") {
        println!("{USAGE}\n\n{EXIT_CODES_HELP}");
        return if argv.is_empty() {
            ExitCode::from(exit::USAGE)
        } else {
            ExitCode::SUCCESS
        };
    }
    if has("g") {
        return match Key::generate() {
            Ok(k) => {
                let _ = print_secret_line("Generate key success: \n\t", &k.to_base64());
                ExitCode::SUCCESS
            }
            Err(e) => fail_with(e, Operation::Encrypt),
        };
    }
    let format = match args.flags.get("format").map(String::as_str) {
        None | Some("v2") => OutputFormat::V2,
        Some("paddlex-v1") => {
            eprintln!("warning: {}", modelseal::PADDLEX_V1_WARNING);
            OutputFormat::PaddleV1
        }
        Some(other) => {
            eprintln!("paddle_encrypt_tool: unknown -format '{other}' (accepted: v2, paddlex-v1)");
            return ExitCode::from(exit::USAGE);
        }
    };
    let sources = KeySources::gather(
        args.flags.get("key_file").map(Path::new),
        args.flags.get("key").map(String::as_str),
    );
    let key = match sources.read() {
        Ok(k) => k,
        Err(e) => {
            let message = format!("key length normal: {e}");
            return fail(paddlex::CODE_KEY_LENGTH_ABNORMAL, &message, exit_status(e));
        }
    };
    if has("e") {
        let (Some(infile), Some(outfile)) = (args.flags.get("infile"), args.flags.get("outfile"))
        else {
            eprintln!("paddle_encrypt_tool: -e needs -infile IN -outfile OUT\n\n{USAGE}");
            return ExitCode::from(exit::USAGE);
        };
        let Some(key) = key else {
            eprintln!("paddle_encrypt_tool: -e needs a key (-key, -key_file or MODELSEAL_KEY)");
            return ExitCode::from(exit::USAGE);
        };
        return match modelseal::seal_file(
            &key,
            Path::new(infile),
            Path::new(outfile),
            format,
            modelseal::DEFAULT_CHUNK_LOG2,
        ) {
            Ok(()) => {
                println!("Encrypt {infile}(file) to {outfile}(file) success");
                ExitCode::SUCCESS
            }
            Err(e) => fail_with(e, Operation::Encrypt),
        };
    }
    let (Some(model_dir), Some(save_dir)) =
        (args.flags.get("model_dir"), args.flags.get("save_dir"))
    else {
        eprintln!(
            "paddle_encrypt_tool: give -model_dir DIR -save_dir DIR, -e ..., -g or -h\n\n{USAGE}"
        );
        return ExitCode::from(exit::USAGE);
    };
    let (model_dir, save_dir) = (PathBuf::from(model_dir), PathBuf::from(save_dir));
    // PaddleX's checks, in its order and with its codes (106, 107, 100, 110, 108, 109).
    if let Err(r) = paddlex::check_model_dir(&model_dir) {
        let code = match r.code {
            paddlex::CODE_NOT_EXIST_DIR => exit::IO,
            paddlex::CODE_OPEN_FAILED if r.name == "io" => exit::IO,
            _ => exit::USAGE,
        };
        return fail(r.code, &r.message, code);
    }
    let src = match OpenOptions::new()
        .follow_symlinks(has("follow_symlinks"))
        .open(&model_dir)
    {
        Ok(s) => s,
        Err(e) => return fail_with(e, Operation::EncryptDir),
    };
    let (key, generated) = match key {
        Some(k) => (k, false),
        None => match Key::generate() {
            Ok(k) => (k, true),
            Err(e) => return fail_with(e, Operation::EncryptDir),
        },
    };
    let force = has("force");
    let opts = SealOptions {
        format,
        chunk_log2: modelseal::DEFAULT_CHUNK_LOG2,
        force,
    };
    match modelseal::seal_dir(&key, &src, &save_dir, &opts, &|_| {}) {
        Ok(members) => {
            if generated {
                let _ = print_secret_line("Output: Encryption key: \n\t", &key.to_base64());
            }
            let names: Vec<&str> = members
                .iter()
                .filter(|m| m.encrypted)
                .map(|m| m.name.as_str())
                .collect();
            println!(
                "Success, Encrypt {} to {}(dir) success!",
                names.join(", "),
                save_dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail_with(e, Operation::EncryptDir),
    }
}
