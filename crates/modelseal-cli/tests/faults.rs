//! Faults from outside: the tools killed (SIGKILL) at random moments while sealing and re-keying,
//! a full disk (a file-size limit with SIGXFSZ ignored), and a list of hostile images among good
//! ones. Outputs are absent or complete, inputs untouched, every bad input named, memory bounded.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{command, keygen, models, need, run, stderr, stdout, verify, MODELSEAL};

fn digest(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = fs::read_dir(path)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = fs::read(e.path()).unwrap();
            let d = ring::digest::digest(&ring::digest::SHA256, &bytes);
            (
                e.file_name().to_string_lossy().into_owned(),
                d.as_ref().to_vec(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A 64 MiB model directory of pseudo-random bytes.
fn big_model(root: &Path) -> PathBuf {
    let d = root.join("model");
    fs::create_dir_all(&d).unwrap();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let data: Vec<u8> = (0..64 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    fs::write(d.join("model.onnx"), &data).unwrap();
    fs::write(d.join("inference.yml"), b"Global: {model_name: big}\n").unwrap();
    d
}

fn leftovers(parent: &Path) -> Vec<String> {
    fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("modelseal-tmp") || n.contains("modelseal-old"))
        .collect()
}

/// The output is absent, or a complete sealing that verifies under `key`.
#[cfg(unix)]
fn absent_or_complete(out: &Path, key: &str) -> bool {
    if !out.exists() {
        return false;
    }
    let o = verify(out, key);
    assert!(
        o.status.success(),
        "an output exists but does not verify: {}",
        stderr(&o)
    );
    true
}

/// How a run that was to be killed ended.
#[cfg(unix)]
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// It exited by itself before the kill, with this status code.
    Finished(Option<i32>),
    /// SIGKILL ended it; `mid_way` when its staging directory already held sealed bytes.
    Killed { mid_way: bool },
}

/// Whether a staging directory `.{name}.modelseal-tmp-*` beside `out` holds a non-empty file
/// (sealed bytes already written).
#[cfg(unix)]
fn staging_started(out: &Path) -> bool {
    let prefix = format!(
        ".{}.modelseal-tmp-",
        out.file_name().unwrap().to_string_lossy()
    );
    fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .any(|e| {
            fs::read_dir(e.path())
                .map(|files| {
                    files
                        .flatten()
                        .any(|f| f.metadata().map(|m| m.len() > 0).unwrap_or(false))
                })
                .unwrap_or(false)
        })
}

/// When to send SIGKILL.
#[cfg(unix)]
#[derive(Clone, Copy, Debug)]
enum Moment {
    /// This long after the start.
    After(Duration),
    /// As soon as the staging directory of `--save-dir` holds sealed bytes (within a minute).
    MidWay,
}

#[cfg(unix)]
fn kill_at(args: &[&str], cwd: &Path, out: &Path, at: Moment) -> Ended {
    use std::os::unix::process::ExitStatusExt;
    let mut child = command(MODELSEAL, args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    match at {
        Moment::After(d) => std::thread::sleep(d),
        Moment::MidWay => {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while !staging_started(out)
                && std::time::Instant::now() < deadline
                && matches!(child.try_wait(), Ok(None))
            {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
    let mid_way = staging_started(out);
    if let Ok(Some(status)) = child.try_wait() {
        return Ended::Finished(status.code());
    }
    let _ = child.kill();
    let status = child.wait().unwrap();
    match status.signal() {
        Some(9) => Ended::Killed { mid_way },
        _ => Ended::Finished(status.code()),
    }
}

#[cfg(unix)]
#[test]
fn killed_at_random_moments_while_sealing_and_rekeying() {
    let tmp = tempfile::tempdir().unwrap();
    let src = big_model(tmp.path());
    let before = digest(&src);
    let (key, new_key) = (keygen(tmp.path(), "key"), keygen(tmp.path(), "new"));
    let (key, new_key) = (key.as_str(), new_key.as_str());
    // A complete sealing to re-key from.
    let base = tmp.path().join("base");
    let o = run(
        MODELSEAL,
        &[
            "encrypt",
            "--model-dir",
            src.to_str().unwrap(),
            "--save-dir",
            base.to_str().unwrap(),
            "--key-file",
            key,
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let base_before = digest(&base);
    // Seeded moments, from right after start to past a typical run, and two moments known to be
    // mid-way: as soon as the output's staging directory holds sealed bytes.
    let mut x = 42u64;
    let mut moments = vec![Moment::MidWay];
    for _ in 0..6 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        moments.push(Moment::After(Duration::from_millis(5 + (x >> 33) % 1500)));
    }
    let (mut killed_mid_way, mut killed_early, mut completed) = (0, 0, 0);
    let mut first_encrypt = None;
    for (i, at) in moments.iter().enumerate() {
        for (what, args) in [
            (
                "encrypt",
                vec![
                    "encrypt",
                    "--model-dir",
                    src.to_str().unwrap(),
                    "--key-file",
                    key,
                ],
            ),
            (
                "rekey",
                vec![
                    "rekey",
                    "--model-dir",
                    base.to_str().unwrap(),
                    "--key-file",
                    key,
                    "--new-key-file",
                    new_key,
                ],
            ),
        ] {
            let out = tmp.path().join(format!("{what}-{i}"));
            let mut a = args.clone();
            a.extend_from_slice(&["--save-dir", out.to_str().unwrap()]);
            let ended = kill_at(&a, tmp.path(), &out, *at);
            if i == 0 && what == "encrypt" {
                first_encrypt = Some(matches!(ended, Ended::Killed { mid_way: true }));
            }
            let check_key = if what == "rekey" { new_key } else { key };
            let exists = absent_or_complete(&out, check_key);
            match ended {
                // A run that ended by itself succeeded and left a complete output.
                Ended::Finished(code) => {
                    assert_eq!(code, Some(0), "{what} at {at:?} failed by itself");
                    assert!(exists, "{what} finished but left no output");
                    completed += 1;
                }
                // Killed: the output is absent (or complete, if the rename had just happened).
                Ended::Killed { mid_way: true } => killed_mid_way += 1,
                Ended::Killed { mid_way: false } => killed_early += 1,
            }
        }
    }
    eprintln!(
        "killed mid-way: {killed_mid_way}, killed before writing: {killed_early}, completed: {completed}"
    );
    // Not vacuous: runs were really killed while their output was being written.
    assert!(
        killed_mid_way >= 2,
        "only {killed_mid_way} runs were killed mid-way (encrypt and rekey at least once each)"
    );
    assert_eq!(digest(&src), before, "the input was touched");
    assert_eq!(digest(&base), base_before, "the re-keyed input was touched");
    // A later sealing to the same place cleans the staging directories of killed runs.
    if first_encrypt == Some(true) {
        assert!(
            leftovers(tmp.path())
                .iter()
                .any(|n| n.starts_with(".encrypt-0.")),
            "the run killed mid-way left its staging directory: {:?}",
            leftovers(tmp.path())
        );
    }
    let out = tmp.path().join("encrypt-0");
    let _ = fs::remove_dir_all(&out);
    let o = run(
        MODELSEAL,
        &[
            "encrypt",
            "--model-dir",
            src.to_str().unwrap(),
            "--save-dir",
            out.to_str().unwrap(),
            "--key-file",
            key,
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        leftovers(tmp.path())
            .iter()
            .all(|n| !n.starts_with(".encrypt-0.")),
        "{:?}",
        leftovers(tmp.path())
    );
}

#[cfg(unix)]
#[test]
fn a_full_disk_fails_with_exit_3_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let src = big_model(tmp.path());
    let key = keygen(tmp.path(), "key");
    let out = tmp.path().join("sealed");
    // bash's `ulimit -f` counts KiB: 8 MiB per file, far below the 64 MiB member.
    let o = Command::new("bash")
        .args([
            "-c",
            "trap '' XFSZ; ulimit -f 8192; exec \"$0\" \"$@\"",
            MODELSEAL,
            "encrypt",
            "--model-dir",
            src.to_str().unwrap(),
            "--save-dir",
            out.to_str().unwrap(),
            "--key-file",
            &key,
        ])
        .env_remove("MODELSEAL_KEY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("model.onnx"),
        "names the file: {}",
        stderr(&o)
    );
    assert!(!out.exists());
    assert!(
        leftovers(tmp.path()).is_empty(),
        "{:?}",
        leftovers(tmp.path())
    );
}

#[test]
fn hostile_images_are_named_and_the_good_ones_answered() {
    let Some(m) = models() else { return };
    if !need(
        Command::new("python3")
            .arg("-c")
            .arg("import resource")
            .status()
            .map(|s| s.success())
            .unwrap_or(false),
        "python3 (to measure peak memory)",
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::write(d.join("empty.png"), b"").unwrap();
    let mut x = 7u32;
    let random: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    fs::write(d.join("random.jpg"), random).unwrap();
    let page = fs::read(m.join("images/page.png")).unwrap();
    fs::write(d.join("truncated.png"), &page[..page.len() / 3]).unwrap();
    fs::write(d.join("bomb.png"), bomb_png()).unwrap();
    fs::create_dir(d.join("a_directory.png")).unwrap();
    let good = [m.join("images/text.png"), m.join("images/page.png")];
    let bad = [
        "empty.png",
        "random.jpg",
        "truncated.png",
        "bomb.png",
        "a_directory.png",
        "missing.png",
    ];
    let mut list = vec![good[0].display().to_string()];
    list.extend(bad.iter().map(|b| d.join(b).display().to_string()));
    list.push(good[1].display().to_string());
    fs::write(d.join("list.txt"), list.join("\n")).unwrap();
    // Python measures the child's peak resident memory (ru_maxrss, KiB).
    let script = "import resource,subprocess,sys\nr=subprocess.run(sys.argv[1:],capture_output=True)\nsys.stdout.write(r.stdout.decode())\nsys.stderr.write(r.stderr.decode())\nprint('MAXRSS_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\nsys.exit(r.returncode)";
    let o = Command::new("python3")
        .args([
            "-c",
            script,
            MODELSEAL,
            "classify",
            "--model_dir",
            m.join("cls").to_str().unwrap(),
            "--image_list",
            d.join("list.txt").to_str().unwrap(),
            "--json",
        ])
        .env_remove("MODELSEAL_KEY")
        .output()
        .unwrap();
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(1), "{err}");
    for b in bad {
        assert!(err.contains(b), "{b} is named: {err}");
    }
    assert!(err.contains("6 of 8 images failed"), "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8);
    let answered: Vec<&serde_json::Value> = lines.iter().filter(|v| v["error"].is_null()).collect();
    assert_eq!(answered.len(), 2, "{out}");
    assert!(answered.iter().all(|v| v["label"].is_string()));
    let kib: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("MAXRSS_KIB "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    eprintln!("peak resident memory: {} MiB", kib / 1024);
    assert!(kib < 1 << 20, "peak memory {kib} KiB is over 1 GiB");
}

/// A PNG declaring 60000 x 60000 RGB pixels (3.6 gigapixels, 10.8 GB decoded) in a few bytes.
fn bomb_png() -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in data {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (
            *b"IHDR",
            [
                &60_000u32.to_be_bytes()[..],
                &60_000u32.to_be_bytes(),
                &[8, 2, 0, 0, 0],
            ]
            .concat(),
        ),
        (
            *b"IDAT",
            vec![0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        ),
        (*b"IEND", vec![]),
    ] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let body = [&kind[..], &data].concat();
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    out
}
