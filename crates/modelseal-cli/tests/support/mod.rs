//! Shared helpers of the command-line tests: where the fetched models are (required under CI),
//! running a tool with a controlled environment, and reading its output.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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
