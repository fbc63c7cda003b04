//! `modelseal_paddle_to_onnx`: a Paddle program and its parameters read from a sealed directory
//! through the C ABI become the same ONNX model the Rust importer makes; malformed, mismatched
//! and NMS-ending programs are UNSUPPORTED with a named reason; NULL arguments are refused and
//! the out-parameter is untouched on failure.
// Every unsafe block here calls the C ABI under test with arguments made just before it.
#![allow(clippy::undocumented_unsafe_blocks)]

use modelseal::{Key, OpenOptions, SealOptions};
use modelseal_ffi::*;
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr;

fn data(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../modelseal-paddle/tests/data")
        .join(case)
}

fn last_error_name() -> String {
    unsafe { CStr::from_ptr(modelseal_last_error_name()) }
        .to_string_lossy()
        .into_owned()
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(modelseal_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn take(mut buf: *mut ModelsealBuffer) -> Vec<u8> {
    let v = unsafe {
        std::slice::from_raw_parts(modelseal_buffer_data(buf), modelseal_buffer_len(buf))
    }
    .to_vec();
    unsafe { modelseal_buffer_free(&mut buf) };
    v
}

fn convert(program: &[u8], params: &[u8]) -> (ModelsealStatus, Option<Vec<u8>>) {
    let mut out: *mut ModelsealBuffer = ptr::null_mut();
    let st = unsafe {
        modelseal_paddle_to_onnx(
            program.as_ptr(),
            program.len(),
            params.as_ptr(),
            params.len(),
            &mut out,
        )
    };
    let bytes = (!out.is_null()).then(|| take(out));
    (st, bytes)
}

fn read_member(dir: *const ModelsealDir, name: &str) -> Vec<u8> {
    let name = CString::new(name).unwrap();
    let mut out: *mut ModelsealBuffer = ptr::null_mut();
    let st = unsafe { modelseal_dir_read(dir, name.as_ptr(), &mut out) };
    assert_eq!(st, ModelsealStatus::Ok, "{}", last_error());
    take(out)
}

#[test]
fn a_sealed_paddle_directory_converts_to_the_rust_importers_onnx() {
    for (fmt, program_name) in [("legacy", "inference.pdmodel"), ("pir", "inference.json")] {
        let tmp = tempfile::tempdir().unwrap();
        let plain = tmp.path().join("plain");
        std::fs::create_dir(&plain).unwrap();
        let case = data("models/ocr_cls");
        let ext = if fmt == "pir" { "json" } else { "pdmodel" };
        std::fs::copy(case.join(format!("{fmt}.{ext}")), plain.join(program_name)).unwrap();
        std::fs::copy(
            case.join("params.pdiparams"),
            plain.join("inference.pdiparams"),
        )
        .unwrap();
        let key = Key::generate().unwrap();
        let sealed = tmp.path().join("sealed");
        let src = OpenOptions::new().open(&plain).unwrap();
        modelseal::seal_dir(&key, &src, &sealed, &SealOptions::default(), &|_| {}).unwrap();

        let (path, key_text) = (
            CString::new(sealed.to_str().unwrap()).unwrap(),
            CString::new(key.to_base64().as_str()).unwrap(),
        );
        let mut dir: *mut ModelsealDir = ptr::null_mut();
        let st = unsafe { modelseal_dir_open(path.as_ptr(), key_text.as_ptr(), &mut dir) };
        assert_eq!(st, ModelsealStatus::Ok, "{}", last_error());
        let program = read_member(dir, program_name);
        let params = read_member(dir, "inference.pdiparams");
        unsafe { modelseal_dir_free(&mut dir) };

        let (st, onnx) = convert(&program, &params);
        assert_eq!(st, ModelsealStatus::Ok, "{fmt}: {}", last_error());
        let want = modelseal_paddle::import(&program, &params, &Default::default()).unwrap();
        assert_eq!(onnx.unwrap(), &want.onnx[..], "{fmt}");
    }
}

#[test]
fn bad_programs_are_unsupported_with_a_named_reason() {
    let case = data("models/ocr_cls");
    let program = std::fs::read(case.join("legacy.pdmodel")).unwrap();
    let params = std::fs::read(case.join("params.pdiparams")).unwrap();
    let other = data("ops/conv_basic");
    let other_params = std::fs::read(other.join("legacy.pdiparams"))
        .or_else(|_| std::fs::read(other.join("params.pdiparams")))
        .unwrap();
    let det = data("det/ppyoloe");
    let nms_program = std::fs::read(det.join("legacy.pdmodel")).unwrap();
    let nms_params = std::fs::read(det.join("params.pdiparams")).unwrap();
    let cases: [(&[u8], &[u8], &str, &str); 4] = [
        (
            b"not a program \xff\xff",
            &params,
            "malformed_program",
            "malformed",
        ),
        (
            &program,
            &params[..params.len() - 5],
            "malformed_params",
            "parameters",
        ),
        (&program, &other_params, "", ""),
        (
            &nms_program,
            &nms_params,
            "unsupported_operators",
            "multiclass_nms3",
        ),
    ];
    for (i, (prog, par, name, needle)) in cases.into_iter().enumerate() {
        let (st, out) = convert(prog, par);
        assert_eq!(
            st,
            ModelsealStatus::Unsupported,
            "case {i}: {}",
            last_error()
        );
        assert!(out.is_none(), "case {i}: out written on failure");
        if !name.is_empty() {
            assert_eq!(last_error_name(), name, "case {i}: {}", last_error());
            assert!(last_error().contains(needle), "case {i}: {}", last_error());
        }
    }
    // NULL arguments.
    let mut out: *mut ModelsealBuffer = ptr::null_mut();
    let st = unsafe {
        modelseal_paddle_to_onnx(ptr::null(), 0, params.as_ptr(), params.len(), &mut out)
    };
    assert_eq!(st, ModelsealStatus::NullArgument);
    assert!(last_error().contains("program"), "{}", last_error());
    let st = unsafe {
        modelseal_paddle_to_onnx(
            program.as_ptr(),
            program.len(),
            params.as_ptr(),
            params.len(),
            ptr::null_mut(),
        )
    };
    assert_eq!(st, ModelsealStatus::NullArgument);
    assert!(out.is_null());
}
