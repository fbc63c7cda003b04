//! PaddleX-compatible `segmenter` demo: the same flags and output as PaddleX's C++ `segmenter`,
//! on sealed (or plain) ONNX model directories.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    modelseal_cli::deploy_cli::run_task(
        modelseal_cli::deploy_cli::Task::Segment,
        std::env::args_os().collect(),
    )
}
