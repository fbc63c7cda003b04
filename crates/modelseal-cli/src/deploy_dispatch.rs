// Hands `classify`, `detect` and `segment` to the deployment front end before clap parses the command line.
#[path = "deploy_cli.rs"]
mod deploy_cli;

fn deploy_dispatch(args: &[std::ffi::OsString]) -> Option<ExitCode> {
    let task = match args.get(1).and_then(|a| a.to_str()) {
        Some("classify") => deploy_cli::Task::Classify,
        Some("detect") => deploy_cli::Task::Detect,
        Some("segment") => deploy_cli::Task::Segment,
        _ => return None,
    };
    let name = format!("modelseal {}", args[1].to_string_lossy());
    let mut argv = vec![std::ffi::OsString::from(name)];
    argv.extend(args[2..].iter().cloned());
    Some(deploy_cli::run_task(task, argv))
}
