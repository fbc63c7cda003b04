//! Deployment front end shared by `modelseal classify|detect|segment` and the PaddleX-compatible
//! `classifier`, `detector` and `segmenter` binaries: PaddleX demo flags, output, visualisation.

mod args;
mod output;
mod run;

pub use args::{
    clap_exit, demo_main, is_global_flag, normalise, subcommand_index, wipe, wipe_all, DeployArgs,
    OutputFormat, AFTER_HELP,
};
pub use run::run_task;

/// Which demo runs: the SDK's task; its PaddleX name ("classifier", ...) names the tool.
pub use modelseal_deploy::Task;
