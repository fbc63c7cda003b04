//! Start-up of the tools that hold keys and plaintext: no core dumps and no tracing by other
//! processes, ONNX Runtime's telemetry off, and ONNX Runtime found without handing a key to any
//! child process.

use std::path::PathBuf;

/// Makes the process non-dumpable (`PR_SET_DUMPABLE 0`): no core dump is written, and processes
/// of the same user cannot attach to it or read its memory through `/proc`. Call first thing in
/// `main` of every tool that decrypts models.
pub fn harden() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?;
    Ok(())
}

/// Whether the process is dumpable (Linux; `None` elsewhere or when unknown).
pub fn is_dumpable() -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        rustix::process::dumpable_behavior()
            .ok()
            .map(|b| b != rustix::process::DumpableBehavior::NotDumpable)
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Logs (debug) what the kernel says of the process's dumpable flag.
pub fn log_dumpable() {
    match is_dumpable() {
        Some(false) => {
            tracing::debug!("process is not dumpable (no core dumps, no ptrace by peers)")
        }
        Some(true) => tracing::warn!("process is dumpable"),
        None => {}
    }
}

/// Turns ONNX Runtime's telemetry off before it starts (it reads the environment at start-up,
/// and would otherwise write a cache under `~/.cache`). Call in `main` before any thread starts.
pub fn quiet_onnxruntime() {
    std::env::set_var("ORT_DISABLE_TELEMETRY", "1");
}

/// Finds ONNX Runtime for the SDK: its own search first (`ORT_DYLIB_PATH`, next to the
/// executable, the dynamic loader's search path), then, last, an `onnxruntime` Python package,
/// asking `$PYTHON` (default `python3`) for its site directories with the key variables removed
/// from the child's environment. What is found is handed to the SDK.
pub fn find_onnxruntime() -> Option<PathBuf> {
    use modelseal_deploy::backend::onnxruntime;
    if let Some(p) = onnxruntime::find_library() {
        return Some(p);
    }
    let found = onnxruntime::library_in_site_dirs(&python_site_dirs())?;
    onnxruntime::use_library(found.clone());
    Some(found)
}

/// The site-packages directories of `$PYTHON` (or `python3`), asked without importing anything
/// or writing bytecode, and without the key variables in its environment.
pub fn python_site_dirs() -> Vec<PathBuf> {
    let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
    let out = std::process::Command::new(python)
        .args([
            "-B",
            "-c",
            "import site,sys\nfor p in site.getsitepackages()+[site.getusersitepackages()]+sys.path: print(p)",
        ])
        .env_remove(crate::keys::KEY_ENV)
        .env_remove(crate::keys::KEY_FILE_ENV)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect(),
        Err(_) => Vec::new(),
    }
}
