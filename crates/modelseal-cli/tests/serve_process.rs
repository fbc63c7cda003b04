//! The `modelseal serve` process: its log follows `RUST_LOG`, `MODELSEAL_LOG` and the global
//! `-v`/`-q`, and it is not dumpable (its `/proc` files belong to root).

mod support;

use std::time::Duration;

use serde_json::Value;
use support::serve::{bmp, image_request, seg_model, serve_command_with, Server};

#[test]
fn the_log_follows_rust_log_and_modelseal_log() {
    let model = format!("seg={}", seg_model().display());
    let refused = |v: &Value| v["message"] == "request refused";
    let not_found = |s: &Server| {
        let (st, _) = s.json(
            "POST",
            "/v2/models/nope/infer",
            &image_request(&[bmp(4, 4)]),
        );
        assert_eq!(st, 404);
    };
    // RUST_LOG, and MODELSEAL_LOG as its alias: debug events (a refused request) are logged.
    for var in ["RUST_LOG", "MODELSEAL_LOG"] {
        let mut s = Server::start(&["--model", &model], &[(var, "modelseal_serve=debug")]).unwrap();
        not_found(&s);
        let ev = s.wait_for(refused, Duration::from_secs(20));
        assert!(
            ev.is_some_and(|e| e["status"] == 404),
            "{var}: {:?}",
            s.seen
        );
        assert_eq!(s.stop().0, 0);
    }
    // The global -vv of `modelseal` reaches the server (debug), unless RUST_LOG says otherwise.
    let mut s = Server::launch(serve_command_with(
        &["-vv"],
        "tract",
        &["--model", &model],
        &[],
    ))
    .unwrap();
    not_found(&s);
    let ev = s.wait_for(refused, Duration::from_secs(20));
    assert!(ev.is_some_and(|e| e["status"] == 404), "-vv: {:?}", s.seen);
    assert_eq!(s.stop().0, 0);
    let s = Server::launch(serve_command_with(
        &["-vv"],
        "tract",
        &["--model", &model],
        &[("RUST_LOG", "info")],
    ))
    .unwrap();
    not_found(&s);
    let (code, log) = s.stop_with_log();
    assert_eq!(code, 0);
    assert!(!log.iter().any(refused), "-vv under RUST_LOG=info: {log:?}");
    // By default, and when RUST_LOG (which comes first) says info: none, to the server's end.
    for envs in [
        vec![],
        vec![("RUST_LOG", "info"), ("MODELSEAL_LOG", "debug")],
    ] {
        let s = Server::start(&["--model", &model], &envs).unwrap();
        not_found(&s);
        let (code, log) = s.stop_with_log();
        assert_eq!(code, 0);
        let stopped = log.iter().find(|v| v["message"] == "stopped").unwrap();
        assert_eq!(stopped["accepted"], 1, "{envs:?}");
        assert!(!log.iter().any(refused), "{envs:?}: {log:?}");
    }
    // A filter that does not parse is named in a warning; the server runs at its default level.
    let mut s = Server::start(
        &["--model", &model],
        &[("RUST_LOG", "modelseal_serve=loud")],
    )
    .unwrap();
    let warned = s
        .wait_for(
            |v| v["message"] == "ignoring the log filter, which does not parse",
            Duration::from_secs(5),
        )
        .expect("a warning about RUST_LOG");
    assert_eq!(warned["variable"], "RUST_LOG");
    assert_eq!(warned["level"], "WARN");
    assert_eq!(s.stop().0, 0);
}

/// The owner of `/proc/PID/status`: the process's effective user while it is dumpable, root (of
/// its user namespace) once it is not. (The directory `/proc/PID` itself always shows the
/// effective user.)
#[cfg(target_os = "linux")]
fn status_owner(pid: u32) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}/status"))
        .unwrap()
        .uid()
}

/// The kernel marks a non-dumpable process by giving its `/proc/PID` files to root instead of
/// the process's own user (`task_dump_owner`), which any process can see with `stat`. So the
/// server runs as a user other than root (nobody, when the test runs as root); a `sleep` run the
/// same way shows the user's own id (the check tells the two states apart). `execve` alone
/// leaves a process dumpable when its binary is readable by the user, carries no set-id bit and
/// its real and effective ids agree, which is checked too: what remains is the server's own
/// `prctl(PR_SET_DUMPABLE, 0)`.
#[cfg(target_os = "linux")]
#[test]
fn the_serving_process_is_not_dumpable() {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use support::serve::serve_command;
    let euid = rustix::process::geteuid().as_raw();
    let user = if euid == 0 { 65534 } else { euid };
    let as_user = |mut c: Command| {
        if euid == 0 {
            c.uid(user).gid(user);
        }
        c
    };
    // Real, effective, saved and file-system ids of a process, as its status shows them.
    let ids = |pid: u32| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = |k: &str| -> Vec<u32> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .unwrap()
                .split_whitespace()
                .map(|x| x.parse().unwrap())
                .collect()
        };
        (line("Uid:"), line("Gid:"))
    };

    let mut control = as_user(Command::new("sleep"));
    control.arg("30").stdin(Stdio::null()).stdout(Stdio::null());
    let mut control = control.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let control_owner = status_owner(control.id());
    control.kill().unwrap();
    control.wait().unwrap();
    assert_eq!(
        control_owner, user,
        "a dumpable process of user {user} owns its /proc files"
    );

    let bin = std::fs::metadata(env!("CARGO_BIN_EXE_modelseal")).unwrap();
    let mode = bin.mode();
    assert_eq!(mode & 0o6000, 0, "the binary carries no set-id bit");
    let readable = if bin.uid() == user {
        mode & 0o400 != 0
    } else {
        mode & 0o004 != 0
    };
    assert!(readable, "the binary ({mode:o}) is readable by user {user}");
    let model = format!("seg={}", seg_model().display());
    let s = Server::launch(as_user(serve_command("tract", &["--model", &model], &[]))).unwrap();
    let pid = s.child.id();
    let euid_of_server = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(format!("/proc/{pid}")).unwrap().uid()
    };
    assert_eq!(euid_of_server, user, "the server runs as user {user}");
    let (uids, gids) = ids(pid);
    assert!(uids.iter().all(|&u| u == user), "{uids:?}");
    assert!(gids.windows(2).all(|w| w[0] == w[1]), "{gids:?}");
    let owner = status_owner(pid);
    assert_ne!(
        owner, user,
        "the server's /proc entries belong to its user {user}: it is dumpable"
    );
    // And it serves as that user.
    let (st, out) = s.json("POST", "/v2/models/seg/infer", &image_request(&[bmp(8, 6)]));
    assert_eq!(st, 200, "{out}");
    assert_eq!(s.stop().0, 0);
}
