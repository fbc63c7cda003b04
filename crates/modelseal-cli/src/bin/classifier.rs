//! PaddleX-compatible `classifier` demo: the same flags and output as PaddleX's C++ `classifier`,
//! on sealed (or plain) ONNX model directories.
#![forbid(unsafe_code)]

// Each binary uses one task of the shared front end.
#[allow(dead_code)]
#[path = "../deploy_cli.rs"]
mod deploy_cli;

fn main() -> std::process::ExitCode {
    deploy_cli::run_task(deploy_cli::Task::Classify, std::env::args_os().collect())
}
