//! `scripts/install_c.sh` installs the library, the headers and a pkg-config file that a C
//! program builds against with `pkg-config --cflags --libs modelseal` alone, and runs.

mod common;

use std::path::Path;
use std::process::Command;

use common::Fixture;

#[test]
fn a_c_program_builds_with_pkg_config_against_the_installed_library() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // The libraries `cargo test` just built sit beside this test binary (see c_programs.rs).
    let exe = std::env::current_exe().unwrap();
    let built = exe.parent().unwrap();
    assert!(
        built.join("libmodelseal_ffi.so").is_file(),
        "no library in {}",
        built.display()
    );
    let prefix = tempfile::tempdir().unwrap();
    let o = Command::new("bash")
        .arg(root.join("scripts/install_c.sh"))
        .arg(prefix.path())
        .env("PROFILE", "dev")
        .env("NO_BUILD", "1")
        .env("LIB_DIR", built)
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "lib/libmodelseal_ffi.so",
        "lib/libmodelseal_ffi.a",
        "include/modelseal/modelseal.h",
        "include/modelseal/paddle_model_decrypt.h",
        "include/modelseal/paddle_model_encrypt.h",
        "lib/pkgconfig/modelseal.pc",
    ] {
        assert!(prefix.path().join(f).is_file(), "{f} not installed");
    }
    let pkg = Command::new("pkg-config")
        .args(["--cflags", "--libs", "modelseal"])
        .env("PKG_CONFIG_PATH", prefix.path().join("lib/pkgconfig"))
        .output()
        .expect("pkg-config runs");
    assert!(
        pkg.status.success(),
        "{}",
        String::from_utf8_lossy(&pkg.stderr)
    );
    let flags = String::from_utf8(pkg.stdout).unwrap();
    assert!(flags.contains("-lmodelseal_ffi"), "{flags}");
    let exe = prefix.path().join("open_model");
    let mut gcc = Command::new("gcc");
    gcc.arg("-I")
        .arg(root.join("examples/c"))
        .arg(root.join("examples/c/open_model.c"))
        .args(flags.split_whitespace())
        .arg(format!(
            "-Wl,-rpath,{}",
            prefix.path().join("lib").display()
        ))
        .arg("-o")
        .arg(&exe);
    let o = gcc.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let fx = Fixture::new();
    let o = Command::new(&exe)
        .arg(fx.path("v2"))
        .arg(fx.path("key.txt"))
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("storage: modelseal-v2"), "{out}");
}
