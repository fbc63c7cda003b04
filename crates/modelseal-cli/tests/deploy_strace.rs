//! A sealed deployment run writes no file but its outputs in `save_dir`: the `detector` and
//! `segmenter` binaries run under `strace -f` (children included) with `CI` unset and a fresh
//! HOME, and every file-creating or writing system call is checked.

use std::process::Command;

use modelseal::{Key, OpenOptions, SealOptions};

mod support;
use support::{have_strace, models, need, DETECTOR, SEGMENTER};

/// Paths written by the traced process tree: `openat`/`open`/`creat` with a write or create
/// flag that succeeded, `mkdir`, `rename` targets, `link`/`symlink` targets, `truncate`, `unlink`.
fn written_paths(trace: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in trace.lines() {
        let Some(rest) = line.split_once(' ').map(|(_, r)| r.trim_start()) else {
            continue;
        };
        let failed = rest.contains(" = -1 ");
        if failed {
            continue;
        }
        let quoted: Vec<&str> = rest.split('"').collect();
        let arg = |i: usize| quoted.get(2 * i + 1).copied().unwrap_or("").to_string();
        if rest.starts_with("openat(") || rest.starts_with("open(") {
            if rest.contains("O_WRONLY")
                || rest.contains("O_RDWR")
                || rest.contains("O_CREAT")
                || rest.contains("O_TRUNC")
            {
                out.push(arg(0));
            }
        } else if rest.starts_with("creat(")
            || rest.starts_with("mkdir")
            || rest.starts_with("truncate(")
            || rest.starts_with("unlink")
        {
            out.push(arg(0));
        } else if rest.starts_with("rename")
            || rest.starts_with("link")
            || rest.starts_with("symlink")
        {
            out.push(arg(1));
        }
    }
    out
}

#[test]
fn sealed_run_writes_only_its_outputs() {
    let Some(models) = models() else { return };
    if !have_strace() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tmp_path = std::fs::canonicalize(tmp.path()).unwrap();
    let key = Key::generate().unwrap();
    let key_file = tmp_path.join("key");
    std::fs::write(&key_file, key.to_base64().as_bytes()).unwrap();
    let home = tmp_path.join("home");
    std::fs::create_dir_all(&home).unwrap();
    for (bin, model, image) in [
        (DETECTOR, "layout", "page.png"),
        (SEGMENTER, "det_db", "text.png"),
    ] {
        let sealed = tmp_path.join(format!("sealed-{model}"));
        let src = OpenOptions::new().open(&models.join(model)).unwrap();
        modelseal::seal_dir(&key, &src, &sealed, &SealOptions::default(), &|_| {}).unwrap();
        let save = tmp_path.join(format!("out-{model}"));
        let trace = tmp_path.join(format!("trace-{model}"));
        let status = Command::new("strace")
            .args(["-f", "-qq", "-s", "4096", "-e", "trace=open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,truncate,unlink,unlinkat", "-o"])
            .arg(&trace)
            .arg(bin)
            .arg("--model_dir")
            .arg(&sealed)
            .arg("--key-file")
            .arg(&key_file)
            .arg("--image")
            .arg(models.join("images").join(image))
            .arg("--save_dir")
            .arg(&save)
            .env_remove("CI")
            .env_remove("ORT_DISABLE_TELEMETRY")
            .env("HOME", &home)
            .env_remove("XDG_CACHE_HOME")
            .current_dir(&tmp_path)
            .status()
            .unwrap();
        if !need(
            status.success() || !trace.exists(),
            "a working ONNX Runtime or tract backend",
        ) {
            return;
        }
        assert!(status.success(), "{bin} failed on the sealed {model}");
        let text = std::fs::read_to_string(&trace).unwrap();
        let written = written_paths(&text);
        let save_s = save.display().to_string();
        let outside: Vec<&String> = written
            .iter()
            .filter(|p| {
                !(p.starts_with(&save_s)
                    || p.starts_with("/dev/")
                    || p.as_str() == "out-layout"
                    || p.as_str() == "out-det_db")
            })
            .collect();
        assert!(
            outside.is_empty(),
            "{model}: files written outside save_dir: {outside:?}"
        );
        assert!(
            written.iter().any(|p| p.starts_with(&save_s)),
            "{model}: the visualisation was not written: {written:?}"
        );
        // Nothing under the fresh HOME (ONNX Runtime's telemetry cache would go there).
        assert_eq!(
            std::fs::read_dir(&home).unwrap().count(),
            0,
            "{model}: something was written under HOME"
        );
        let mut outs: Vec<String> = std::fs::read_dir(&save)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into())
            .collect();
        outs.sort();
        let stem = image.trim_end_matches(".png");
        let mut want = vec![image.to_string()];
        if model == "det_db" {
            want.push(format!("{stem}_label.png"));
        }
        want.sort();
        assert_eq!(outs, want, "{model}: save_dir holds exactly the outputs");
    }
}
