// Hands `classify`, `detect` and `segment` to the deployment front end before clap parses the command line.
fn deploy_dispatch(args: &[std::ffi::OsString]) -> Option<ExitCode> {
    let _ = args;
    None
}
