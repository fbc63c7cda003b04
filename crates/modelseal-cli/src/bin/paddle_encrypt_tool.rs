//! `paddle_encrypt_tool`: a drop-in for PaddleX's encryption tool with its 1.x argument forms.
//! Writes modelseal format v2 by default and PaddleX v1 with `-format paddlex-v1`.
#![forbid(unsafe_code)]

use modelseal::{Key, ModelDir, OutputFormat, SealOptions};
use modelseal_cli::{exit, EXIT_CODES_HELP};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
                     the MODELSEAL_KEY environment variable is also read
    -format v2|paddlex-v1   output format (default v2; paddlex-v1 for old PaddleX/FastDeploy loaders)
    -force           replace an existing non-empty SAVE_DIR";

// PaddleX return codes (model_code.h).
const CODE_OPEN_FAILED: i32 = 100;
const CODE_AES_GCM_ENCRYPT_FAILED: i32 = 102;
const CODE_AES_GCM_DECRYPT_FAILED: i32 = 103;
const CODE_KEY_NOT_MATCH: i32 = 104;
const CODE_KEY_LENGTH_ABNORMAL: i32 = 105;
const CODE_NOT_EXIST_DIR: i32 = 106;
const CODE_FILES_EMPTY_WITH_DIR: i32 = 107;
const CODE_MKDIR_FAILED: i32 = 111;

struct Args {
    flags: BTreeMap<String, String>,
    switches: Vec<String>,
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
const SWITCHES: &[&str] = &["g", "h", "help", "e", "force"];

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

fn paddle_code(e: &modelseal::Error) -> i32 {
    match e {
        modelseal::Error::BadKey { .. } => CODE_KEY_LENGTH_ABNORMAL,
        modelseal::Error::WrongKey { .. } => CODE_KEY_NOT_MATCH,
        modelseal::Error::Random => CODE_AES_GCM_ENCRYPT_FAILED,
        e => match e.kind() {
            modelseal::ErrorKind::Io => CODE_OPEN_FAILED,
            modelseal::ErrorKind::Integrity | modelseal::ErrorKind::Unsupported => {
                CODE_AES_GCM_DECRYPT_FAILED
            }
            _ => CODE_MKDIR_FAILED,
        },
    }
}

fn fail(code: i32, message: &str, exit_code: u8) -> ExitCode {
    eprintln!("Failed, errorcode = {code}, {message}");
    ExitCode::from(exit_code)
}

fn fail_with(e: &modelseal::Error) -> ExitCode {
    let code = match e.kind() {
        modelseal::ErrorKind::Usage => exit::USAGE,
        modelseal::ErrorKind::Io => exit::IO,
        modelseal::ErrorKind::WrongKey => exit::WRONG_KEY,
        modelseal::ErrorKind::Integrity => exit::INTEGRITY,
        _ => exit::UNSUPPORTED,
    };
    fail(paddle_code(e), &e.to_string(), code)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("paddle_encrypt_tool: {msg}\n\n{USAGE}\n\n{EXIT_CODES_HELP}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let has = |s: &str| args.switches.iter().any(|x| x == s);
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
                println!("Generate key success: \n\t{}", &*k.to_base64());
                ExitCode::SUCCESS
            }
            Err(e) => fail_with(&e),
        };
    }
    let format = match args.flags.get("format").map(String::as_str) {
        None | Some("v2") => OutputFormat::V2,
        Some("paddlex-v1") => {
            eprintln!("{}", modelseal::v1::NONCE_REUSE_WARNING);
            OutputFormat::PaddleV1
        }
        Some(other) => {
            eprintln!("paddle_encrypt_tool: unknown -format '{other}' (accepted: v2, paddlex-v1)");
            return ExitCode::from(exit::USAGE);
        }
    };
    let key = match modelseal::read_key(
        args.flags.get("key_file").map(Path::new),
        args.flags.get("key").map(String::as_str),
    ) {
        Ok(k) => k,
        Err(e) => {
            return fail(
                CODE_KEY_LENGTH_ABNORMAL,
                &format!("key length normal: {e}"),
                exit::USAGE,
            )
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
            modelseal::v2::DEFAULT_CHUNK_LOG2,
        ) {
            Ok(()) => {
                println!("Encrypt {infile}(file) to {outfile}(file) success");
                ExitCode::SUCCESS
            }
            Err(e) => fail_with(&e),
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
    if !model_dir.is_dir() {
        return fail(
            CODE_NOT_EXIST_DIR,
            &format!("could't find model directory {}", model_dir.display()),
            exit::IO,
        );
    }
    let src = match ModelDir::open(&model_dir, None) {
        Ok(s) if s.names().is_empty() => {
            return fail(
                CODE_FILES_EMPTY_WITH_DIR,
                &format!("{} holds no files", model_dir.display()),
                exit::USAGE,
            )
        }
        Ok(s) if s.is_sealed() => {
            return fail(
                CODE_OPEN_FAILED,
                &format!("{} is already sealed", model_dir.display()),
                exit::USAGE,
            )
        }
        Ok(s) => s,
        Err(e) => return fail_with(&e),
    };
    let (key, generated) = match key {
        Some(k) => (k, false),
        None => match Key::generate() {
            Ok(k) => (k, true),
            Err(e) => return fail_with(&e),
        },
    };
    let force = has("force");
    let opts = SealOptions {
        format,
        chunk_log2: modelseal::v2::DEFAULT_CHUNK_LOG2,
        force,
    };
    match modelseal::seal_dir(&key, &src, &save_dir, &opts, &|_| {}) {
        Ok(members) => {
            if generated {
                println!("Output: Encryption key: \n\t{}", &*key.to_base64());
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
        Err(e) => fail_with(&e),
    }
}
