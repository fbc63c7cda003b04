//! PaddleX-compatible `segmenter` demo: the same flags and output as PaddleX's C++ `segmenter`, on sealed
//! (or, without a key, plain) model directories.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    modelseal_cli::deploy_cli::demo_main(modelseal_cli::deploy_cli::Task::Segment)
}
