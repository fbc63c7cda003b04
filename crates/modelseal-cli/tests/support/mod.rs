//! Shared helpers of the command-line tests: the binaries, where the fetched models are (required
//! under CI), running a tool with a controlled environment and reading its output, keys, sealing,
//! small model directories and the files a run left.
//! `serve` holds the `modelseal serve` harness; `json_lines` runs a deploy command with `--json`.
#![allow(dead_code)]

pub mod serve;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const MODELSEAL: &str = env!("CARGO_BIN_EXE_modelseal");
pub const CLASSIFIER: &str = env!("CARGO_BIN_EXE_classifier");
pub const DETECTOR: &str = env!("CARGO_BIN_EXE_detector");
pub const SEGMENTER: &str = env!("CARGO_BIN_EXE_segmenter");
pub const ENCRYPT_TOOL: &str = env!("CARGO_BIN_EXE_paddle_encrypt_tool");

/// The key of PaddleX's known-answer test (base64 of `12345678` four times).
pub const KAT_KEY: &str = "MTIzNDU2NzgxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2Nzg=";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// The fetched models, or `None` (with a printed reason) when absent outside CI; under CI a
/// missing model fails the test.
pub fn models() -> Option<PathBuf> {
    let m = std::env::var_os("MODELSEAL_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".models"));
    if m.join("cls/model.onnx").is_file() {
        return Some(m);
    }
    if in_ci() {
        panic!("models missing under CI: run scripts/fetch_models.sh");
    }
    eprintln!("SKIP: models not found at {}", m.display());
    None
}

/// Whether `ok`; else `false` with a printed reason outside CI, and a failure under CI.
pub fn need(ok: bool, what: &str) -> bool {
    if ok {
        return true;
    }
    if in_ci() {
        panic!("{what} is required under CI");
    }
    eprintln!("SKIP: {what} not available");
    false
}

/// A command for `bin` with no key in its environment and no standard input.
pub fn command(bin: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.args(args)
        .env_remove("MODELSEAL_KEY")
        .env_remove("MODELSEAL_KEY_FILE")
        .env_remove("MODELSEAL_SEAL_ID")
        .stdin(Stdio::null());
    c
}

pub fn run(bin: &str, args: &[&str], cwd: &Path) -> Output {
    command(bin, args).current_dir(cwd).output().unwrap()
}

pub fn run_env(bin: &str, args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    run_env_without(bin, args, cwd, env, &[])
}

pub fn run_env_without(
    bin: &str,
    args: &[&str],
    cwd: &Path,
    env: &[(&str, &str)],
    remove: &[&str],
) -> Output {
    let mut c = command(bin, args);
    c.current_dir(cwd);
    for (k, v) in env {
        c.env(k, v);
    }
    for k in remove {
        c.env_remove(k);
    }
    c.output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `modelseal args`, as [`command`] makes it.
pub fn modelseal(args: &[&str]) -> Command {
    command(MODELSEAL, args)
}

/// `paddle_encrypt_tool args`, as [`command`] makes it.
pub fn encrypt_tool(args: &[&str]) -> Command {
    command(ENCRYPT_TOOL, args)
}

/// Runs `c` to its end: its exit code (it must not die of a signal), stdout and stderr (UTF-8).
pub fn exec(c: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().unwrap();
    (
        status.code().unwrap(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

/// `p` as text (the tests' temporary paths are UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A small model directory `root/model`: a 100000-byte `model.onnx` of 3s, an `inference.yml`
/// and `sub/labels.txt`.
pub fn tiny_model(root: &Path) -> PathBuf {
    let d = root.join("model");
    fs::create_dir_all(d.join("sub")).unwrap();
    fs::write(d.join("model.onnx"), vec![3u8; 100_000]).unwrap();
    fs::write(d.join("inference.yml"), b"PreProcess: {}\n").unwrap();
    fs::write(d.join("sub/labels.txt"), b"a\nb\n").unwrap();
    d
}

/// A new key file `dir/name` written by `modelseal keygen`; its path.
pub fn keygen(dir: &Path, name: &str) -> String {
    let p = dir.join(name);
    let o = run(MODELSEAL, &["keygen", "--out", s(&p)], dir);
    assert!(o.status.success(), "{}", stderr(&o));
    p.display().to_string()
}

/// The base64 key held by the key file `path`.
pub fn key_text(path: &str) -> String {
    fs::read_to_string(path).unwrap().trim().to_string()
}

/// `modelseal encrypt` of `src` into `dst` with the key file `key` and `extra` flags; it must
/// succeed.
pub fn seal(src: &Path, dst: &Path, key: &str, extra: &[&str]) {
    let mut args = vec![
        "encrypt",
        "--model-dir",
        s(src),
        "--save-dir",
        s(dst),
        "--key-file",
        key,
    ];
    args.extend_from_slice(extra);
    let o = run(MODELSEAL, &args, src.parent().unwrap());
    assert!(o.status.success(), "{}", stderr(&o));
}

/// `modelseal verify --model-dir dir --key-file key`, run beside `dir`.
pub fn verify(dir: &Path, key: &str) -> Output {
    run(
        MODELSEAL,
        &["verify", "--model-dir", s(dir), "--key-file", key],
        dir.parent().unwrap(),
    )
}

/// Every file under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Whether `strace` runs (required under CI, see [`need`]).
pub fn have_strace() -> bool {
    need(
        Command::new("strace").arg("-V").output().is_ok(),
        "strace (scripts/setup.sh installs it)",
    )
}

/// `modelseal <task> --json` on `images` (as an image list) with the model directory `dir` and
/// `extra` flags, run in a temporary directory; it must succeed: one JSON value per image.
pub fn json_lines(
    task: &str,
    dir: &Path,
    images: &[impl AsRef<Path>],
    extra: &[&str],
) -> Vec<serde_json::Value> {
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("list.txt");
    let text: String = images
        .iter()
        .map(|p| format!("{}\n", p.as_ref().display()))
        .collect();
    fs::write(&list, text).unwrap();
    let mut args = vec![
        task,
        "--model_dir",
        s(dir),
        "--image_list",
        s(&list),
        "--json",
    ];
    args.extend_from_slice(extra);
    let o = run(MODELSEAL, &args, tmp.path());
    assert!(
        o.status.success(),
        "{task} {}: {}",
        dir.display(),
        stderr(&o)
    );
    let v: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(v.len(), images.len(), "{}", stdout(&o));
    v
}
