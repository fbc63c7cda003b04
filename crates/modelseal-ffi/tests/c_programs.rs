//! Builds the C example (examples/c/open_model.c) and the C ABI test (tests/c/abi_test.c) with gcc
//! against the cdylib and the staticlib, runs them on sealed, wrong-key, truncated and plain inputs,
//! checks that what C reads is byte-identical to the Rust API, and reruns them under valgrind.
//! MODELSEAL_FFI_VALGRIND: "require" (fail without valgrind), "off" (skip), unset (run when found).
#![cfg(unix)]

mod common;

use common::{sha256_hex, Fixture, KEY_NUL};
use modelseal::{Key, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The directory holding the libmodelseal_ffi.{so,a} that `cargo test` just built: this test
/// binary's own `deps/` directory (cargo copies them up to `target/<profile>/` only for
/// `cargo build`, so the copies there may be stale).
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().to_path_buf();
    for lib in ["libmodelseal_ffi.a", "libmodelseal_ffi.so"] {
        assert!(dir.join(lib).exists(), "no {lib} in {}", dir.display());
    }
    dir
}

struct Programs {
    _dir: tempfile::TempDir,
    open_model: PathBuf,
    open_model_static: PathBuf,
    abi_test: PathBuf,
    abi_test_static: PathBuf,
}

fn gcc(src: &Path, out: &Path, static_link: bool) {
    let root = repo_root();
    let lib = lib_dir();
    let mut cmd = Command::new("gcc");
    cmd.args([
        "-std=c99",
        "-D_POSIX_C_SOURCE=200809L",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-pedantic",
        "-g",
        "-O1",
    ])
    .arg("-I")
    .arg(root.join("include"))
    .arg("-I")
    .arg(root.join("examples/c"))
    .arg(src)
    .arg("-o")
    .arg(out);
    if static_link {
        cmd.arg(lib.join("libmodelseal_ffi.a")).args([
            "-lpthread",
            "-ldl",
            "-lm",
            "-lrt",
            "-lutil",
        ]);
    } else {
        cmd.arg(format!("-L{}", lib.display()))
            .arg("-lmodelseal_ffi")
            .arg(format!("-Wl,-rpath,{}", lib.display()));
    }
    let output = cmd.output().expect("gcc runs");
    assert!(
        output.status.success(),
        "gcc {} failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn programs() -> &'static Programs {
    static P: OnceLock<Programs> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = repo_root();
        let p = Programs {
            open_model: dir.path().join("open_model"),
            open_model_static: dir.path().join("open_model_static"),
            abi_test: dir.path().join("abi_test"),
            abi_test_static: dir.path().join("abi_test_static"),
            _dir: dir,
        };
        let example = root.join("examples/c/open_model.c");
        let abi = root.join("crates/modelseal-ffi/tests/c/abi_test.c");
        gcc(&example, &p.open_model, false);
        gcc(&example, &p.open_model_static, true);
        gcc(&abi, &p.abi_test, false);
        gcc(&abi, &p.abi_test_static, true);
        p
    })
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(program: &Path, args: &[&Path], valgrind: bool) -> Run {
    let mut cmd = if valgrind {
        let mut c = Command::new("valgrind");
        c.args([
            "--quiet",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--error-exitcode=99",
        ])
        .arg(format!(
            "--suppressions={}/tests/valgrind.supp",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg(program);
        c
    } else {
        Command::new(program)
    };
    // The programs find the library through their rpath (this build's deps/): cargo's LD_LIBRARY_PATH
    // would take precedence and may point at an older copy in target/<profile>/.
    cmd.args(args)
        .env_remove("MODELSEAL_KEY")
        .env_remove("LD_LIBRARY_PATH");
    let out = cmd.output().expect("program runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn valgrind_wanted() -> bool {
    let mode = std::env::var("MODELSEAL_FFI_VALGRIND").unwrap_or_default();
    if mode == "off" || mode == "0" {
        return false;
    }
    let found = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if mode == "require" {
        assert!(
            found,
            "MODELSEAL_FFI_VALGRIND=require but valgrind is not installed"
        );
    } else if !found {
        eprintln!("valgrind not found: skipping the valgrind runs");
    }
    found
}

#[test]
fn c_abi_test_passes_with_cdylib_and_staticlib() {
    let fx = Fixture::new();
    for program in [&programs().abi_test, &programs().abi_test_static] {
        let fx_run = Fixture::new();
        let r = run(program, &[fx_run.root()], false);
        assert_eq!(
            r.code,
            0,
            "{}:\n{}\n{}",
            program.display(),
            r.stdout,
            r.stderr
        );
        assert!(r.stdout.contains(" 0 failed"), "{}", r.stdout);
    }
    drop(fx);
}

#[test]
fn c_abi_test_is_valgrind_clean() {
    if !valgrind_wanted() {
        return;
    }
    for program in [&programs().abi_test, &programs().abi_test_static] {
        let fx = Fixture::new();
        let r = run(program, &[fx.root()], true);
        assert_eq!(
            r.code,
            0,
            "valgrind {}:\n{}\n{}",
            program.display(),
            r.stdout,
            r.stderr
        );
    }
}

/// (label, name, size, sha256) lines printed by open_model.
fn parse(stdout: &str) -> Vec<(String, String, usize, String)> {
    stdout
        .lines()
        .filter_map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            let size = parts
                .iter()
                .find_map(|p| p.strip_prefix("size="))?
                .parse()
                .ok()?;
            let sha = parts
                .iter()
                .find_map(|p| p.strip_prefix("sha256="))?
                .to_string();
            let label = parts[0].to_string();
            let name = parts[parts.len() - 3].to_string();
            Some((label, name, size, sha))
        })
        .collect()
}

fn check_identical(stdout: &str, dir: &Path, key: Option<&str>, plain: &Path) {
    let key = key.map(|k| Key::from_base64(k).unwrap());
    let rust = OpenOptions::new()
        .key(key)
        .allow_paddlex_v1(true)
        .open(dir)
        .unwrap();
    let lines = parse(stdout);
    let members: Vec<_> = lines.iter().filter(|l| l.0 == "member").collect();
    assert_eq!(members.len(), rust.names().len(), "{stdout}");
    for (_, name, size, sha) in &members {
        let bytes = rust.read(name).unwrap();
        assert_eq!(
            (*size, sha.as_str()),
            (bytes.len(), sha256_hex(&bytes).as_str()),
            "{name}"
        );
        let original = std::fs::read(plain.join(name)).unwrap();
        assert_eq!(
            sha,
            &sha256_hex(&original),
            "{name} differs from the original file"
        );
    }
    for (label, expect) in [("model:", "__model__"), ("params:", "__params__")] {
        let line = lines
            .iter()
            .find(|l| l.0 == label)
            .unwrap_or_else(|| panic!("no {label} line in {stdout}"));
        assert_eq!(line.1, expect);
        let original = std::fs::read(plain.join(expect)).unwrap();
        assert_eq!(
            (line.2, line.3.as_str()),
            (original.len(), sha256_hex(&original).as_str())
        );
    }
}

#[test]
fn c_example_reads_bytes_identical_to_the_rust_api() {
    let fx = Fixture::new();
    let p = programs();
    let all = Path::new("--all");
    for program in [&p.open_model, &p.open_model_static] {
        let r = run(program, &[&fx.path("v2"), &fx.path("key.txt"), all], false);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("storage: modelseal-v2"), "{}", r.stdout);
        check_identical(&r.stdout, &fx.path("v2"), Some(&fx.key), &fx.path("plain"));

        let r = run(
            program,
            &[&fx.path("v1"), &fx.path("key_nul.txt"), all],
            false,
        );
        assert_eq!(r.code, 9, "v1 needs the opt-in: {}", r.stderr);
        assert!(r.stderr.contains("paddlex_v1_not_allowed"), "{}", r.stderr);
        let allow = Path::new("--allow-paddlex-v1");
        let r = run(
            program,
            &[&fx.path("v1"), &fx.path("key_nul.txt"), all, allow],
            false,
        );
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("storage: paddlex-v1"), "{}", r.stdout);
        check_identical(&r.stdout, &fx.path("v1"), Some(KEY_NUL), &fx.path("plain"));

        let r = run(program, &[&fx.path("plain"), all], false);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        check_identical(&r.stdout, &fx.path("plain"), None, &fx.path("plain"));
    }
    // The key from the environment.
    let out = Command::new(&p.open_model)
        .arg(fx.path("v2"))
        .env_remove("LD_LIBRARY_PATH")
        .env("MODELSEAL_KEY", &fx.key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("params: __params__ size=70001"));
}

/// (arguments relative to the fixture, expected exit status = ModelsealStatus, error name)
const FAILURES: &[(&[&str], i32, &str)] = &[
    (&["v2", "wrong_key.txt"], 7, "wrong_key"),
    (&["v1", "wrong_key.txt"], 9, "paddlex_v1_not_allowed"),
    (
        &["v1", "wrong_key.txt", "--allow-paddlex-v1"],
        7,
        "wrong_key",
    ),
    (&["truncated", "key.txt"], 8, "truncated"),
    (&["missing", "key.txt"], 6, "io"),
    (&["v2"], 2, "key_required"),
    (&["plain", "key.txt"], 9, "not_sealed"),
    (&["v2", "bad_key.txt"], 3, "bad_key"),
];

fn check_failures(program: &Path, fx: &Fixture, valgrind: bool) {
    for (args, code, name) in FAILURES {
        let paths: Vec<PathBuf> = args
            .iter()
            .map(|a| {
                if a.starts_with("--") {
                    PathBuf::from(a)
                } else {
                    fx.path(a)
                }
            })
            .collect();
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let r = run(program, &refs, valgrind);
        assert_eq!(
            r.code, *code,
            "{args:?} (valgrind: {valgrind}):\n{}\n{}",
            r.stdout, r.stderr
        );
        assert!(
            r.stderr.contains(&format!("[{name}]")),
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn c_example_reports_wrong_keys_truncation_and_missing_input() {
    let fx = Fixture::new();
    check_failures(&programs().open_model, &fx, false);
    check_failures(&programs().open_model_static, &fx, false);
}

#[test]
fn c_example_is_valgrind_clean() {
    if !valgrind_wanted() {
        return;
    }
    let fx = Fixture::new();
    let p = programs();
    for (program, dir, key) in [
        (&p.open_model, "v2", "key.txt"),
        (&p.open_model_static, "v1", "key_nul.txt"),
    ] {
        let r = run(
            program,
            &[
                &fx.path(dir),
                &fx.path(key),
                Path::new("--all"),
                Path::new("--allow-paddlex-v1"),
            ],
            true,
        );
        assert_eq!(r.code, 0, "valgrind {dir}:\n{}\n{}", r.stdout, r.stderr);
    }
    let r = run(
        &p.open_model,
        &[&fx.path("plain"), Path::new("--all")],
        true,
    );
    assert_eq!(r.code, 0, "valgrind plain:\n{}\n{}", r.stdout, r.stderr);
    check_failures(&p.open_model, &fx, true);
}

#[test]
fn headers_compile_as_c_and_cpp() {
    let root = repo_root();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("h.c");
    std::fs::write(
        &src,
        "#include \"modelseal.h\"\n#include \"paddle_model_encrypt.h\"\n#include \"paddle_model_decrypt.h\"\nint main(void) { return CODE_OK + MODELSEAL_STATUS_OK; }\n",
    )
    .unwrap();
    for (compiler, std) in [
        ("gcc", "-std=c99"),
        ("gcc", "-std=c11"),
        ("g++", "-std=c++11"),
    ] {
        if compiler == "g++" && Command::new("g++").arg("--version").output().is_err() {
            continue;
        }
        let mut cmd = Command::new(compiler);
        cmd.args(["-fsyntax-only", "-Wall", "-Wextra", "-Werror", std])
            .arg("-I")
            .arg(root.join("include"));
        if compiler == "g++" {
            cmd.args(["-x", "c++"]);
        }
        let out = cmd.arg(&src).output().unwrap();
        assert!(
            out.status.success(),
            "{compiler} {std}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The committed headers equal what cbindgen generates now (when cbindgen 0.29.4 is installed;
/// scripts/ci/check_ffi.sh makes it mandatory).
#[test]
fn committed_headers_match_cbindgen() {
    let Ok(out) = Command::new("cbindgen").arg("--version").output() else {
        eprintln!("cbindgen not installed: header check left to scripts/ci/check_ffi.sh");
        return;
    };
    let version = String::from_utf8_lossy(&out.stdout).to_string();
    if !version.contains("0.29.4") {
        eprintln!("{version}: not 0.29.4, header check left to scripts/ci/check_ffi.sh");
        return;
    }
    let root = repo_root();
    let crate_dir = root.join("crates/modelseal-ffi");
    let tmp = tempfile::tempdir().unwrap();
    for (config, header) in [
        ("cbindgen.toml", "modelseal.h"),
        ("cbindgen-paddle-encrypt.toml", "paddle_model_encrypt.h"),
        ("cbindgen-paddle-decrypt.toml", "paddle_model_decrypt.h"),
    ] {
        let generated = tmp.path().join(header);
        let out = Command::new("cbindgen")
            .arg("--quiet")
            .arg("--config")
            .arg(crate_dir.join(config))
            .args(["--crate", "modelseal-ffi", "--output"])
            .arg(&generated)
            .arg(&crate_dir)
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cbindgen {config}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let committed = std::fs::read_to_string(root.join("include").join(header)).unwrap();
        assert!(
            committed == std::fs::read_to_string(&generated).unwrap(),
            "include/{header} is out of date: run scripts/ci/check_ffi.sh --bless"
        );
    }
}
