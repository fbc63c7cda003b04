//! PaddleX-compatible `classifier` demo: the same flags and output as PaddleX's C++ `classifier`, on sealed
//! (or, without a key, plain) model directories.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    modelseal_cli::deploy_cli::demo_main(modelseal_cli::deploy_cli::Task::Classify)
}
