//! PaddleX-compatible `detector` demo: the same flags and output as PaddleX's C++ `detector`,
//! on sealed (or plain) ONNX model directories.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    modelseal_cli::deploy_cli::run_task(
        modelseal_cli::deploy_cli::Task::Detect,
        std::env::args_os().collect(),
    )
}
