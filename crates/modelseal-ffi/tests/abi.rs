//! The C ABI called from Rust: results byte-identical to the Rust API for every opening path,
//! out-parameters untouched on failure, thread-local last errors, concurrent reads of one handle,
//! and the panic boundary.
// Every unsafe block here calls the C ABI under test with arguments made just before it (live
// CStrings, out-pointers to locals, handles the test opened); a comment on each adds nothing.
#![allow(clippy::undocumented_unsafe_blocks)]

mod common;

use common::{Fixture, KEY_NUL};
use modelseal::{Key, OpenOptions};
use modelseal_ffi::*;
use std::ffi::{c_char, CStr, CString};
use std::ptr;

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn cpath(p: &std::path::Path) -> CString {
    c(p.to_str().unwrap())
}

fn last_error_name() -> String {
    // SAFETY: the library returns a valid NUL-terminated string owned by the thread-local.
    unsafe { CStr::from_ptr(modelseal_last_error_name()) }
        .to_str()
        .unwrap()
        .to_string()
}

fn last_error() -> String {
    // SAFETY: as above.
    unsafe { CStr::from_ptr(modelseal_last_error()) }
        .to_str()
        .unwrap()
        .to_string()
}

/// Copies a library buffer out and frees it.
fn take(mut buf: *mut ModelsealBuffer) -> Vec<u8> {
    // SAFETY: `buf` is a live buffer from the library; data/len describe its bytes.
    let v = unsafe {
        std::slice::from_raw_parts(modelseal_buffer_data(buf), modelseal_buffer_len(buf))
    }
    .to_vec();
    // SAFETY: freeing a live buffer once.
    unsafe { modelseal_buffer_free(&mut buf) };
    assert!(buf.is_null());
    v
}

fn open_dir(path: &std::path::Path, key: Option<&str>) -> *mut ModelsealDir {
    let key = key.map(c);
    let mut dir = ptr::null_mut();
    // SAFETY: valid strings and out-pointer.
    // PaddleX v1 directories of the fixture are opened too.
    let options = ModelsealOpenOptions {
        allow_paddlex_v1: 1,
        expected_seal_id: ptr::null(),
    };
    let st = unsafe {
        modelseal_dir_open_ex(
            cpath(path).as_ptr(),
            key.as_ref().map_or(ptr::null(), |k| k.as_ptr()),
            &options,
            &mut dir,
        )
    };
    assert_eq!(st, ModelsealStatus::Ok, "{}", last_error());
    dir
}

#[test]
fn directory_members_are_byte_identical_to_the_rust_api() {
    let fx = Fixture::new();
    for (dir, key) in [("v2", fx.key.as_str()), ("v1", KEY_NUL)] {
        let rust = OpenOptions::new()
            .key(Key::from_base64(key).unwrap())
            .allow_paddlex_v1(true)
            .open(&fx.path(dir))
            .unwrap();
        let mut handle = open_dir(&fx.path(dir), Some(key));
        let mut count = 0usize;
        // SAFETY: live handle, valid out-pointer.
        assert_eq!(
            unsafe { modelseal_dir_member_count(handle, &mut count) },
            ModelsealStatus::Ok
        );
        assert_eq!(count, rust.names().len());
        for (i, name) in rust.names().iter().enumerate() {
            let mut p: *const c_char = ptr::null();
            // SAFETY: live handle, valid out-pointer.
            assert_eq!(
                unsafe { modelseal_dir_member_name(handle, i, &mut p) },
                ModelsealStatus::Ok
            );
            // SAFETY: the name is owned by the live handle.
            assert_eq!(unsafe { CStr::from_ptr(p) }.to_str().unwrap(), name);
            let mut buf = ptr::null_mut();
            // SAFETY: live handle, valid name and out-pointer.
            assert_eq!(
                unsafe { modelseal_dir_read(handle, c(name).as_ptr(), &mut buf) },
                ModelsealStatus::Ok
            );
            let from_c = take(buf);
            assert_eq!(from_c, &*rust.read(name).unwrap(), "{dir}/{name}");
            assert_eq!(
                from_c,
                std::fs::read(fx.path("plain").join(name)).unwrap(),
                "{dir}/{name}"
            );
        }
        // SAFETY: freeing a live handle once.
        unsafe { modelseal_dir_free(&mut handle) };
        assert!(handle.is_null());
    }
}

#[test]
fn files_bytes_and_paddle_layer_are_byte_identical_to_the_rust_api() {
    let fx = Fixture::new();
    let key = Key::from_base64(&fx.key).unwrap();
    let expected = modelseal::open_file(&key, &fx.path("v2.bin")).unwrap();
    let sealed = std::fs::read(fx.path("v2.bin")).unwrap();
    let ckey = c(&fx.key);

    let mut buf = ptr::null_mut();
    // SAFETY: valid strings and out-pointer.
    assert_eq!(
        unsafe { modelseal_file_open(cpath(&fx.path("v2.bin")).as_ptr(), ckey.as_ptr(), &mut buf) },
        ModelsealStatus::Ok
    );
    assert_eq!(take(buf), &*expected);
    // SAFETY: valid buffer, key and out-pointer.
    assert_eq!(
        unsafe { modelseal_bytes_open(sealed.as_ptr(), sealed.len(), ckey.as_ptr(), &mut buf) },
        ModelsealStatus::Ok
    );
    assert_eq!(take(buf), &*expected);

    let (mut out, mut len) = (ptr::null_mut(), 0usize);
    // SAFETY: valid strings and out-pointers.
    assert_eq!(
        unsafe {
            paddle_decrypt_file(
                cpath(&fx.path("v2.bin")).as_ptr(),
                ckey.as_ptr(),
                &mut out,
                &mut len,
            )
        },
        CODE_OK
    );
    // SAFETY: the library returned `len` bytes at `out`.
    assert_eq!(unsafe { std::slice::from_raw_parts(out, len) }, &*expected);
    // SAFETY: freeing a live paddle buffer once.
    unsafe { paddle_buffer_free(&mut out) };
    assert!(out.is_null());
    // SAFETY: valid buffer, key and out-pointers.
    assert_eq!(
        unsafe {
            paddle_decrypt_buffer(
                sealed.as_ptr(),
                sealed.len(),
                ckey.as_ptr(),
                &mut out,
                &mut len,
            )
        },
        CODE_OK
    );
    // SAFETY: as above.
    assert_eq!(unsafe { std::slice::from_raw_parts(out, len) }, &*expected);
    // SAFETY: as above.
    unsafe { paddle_buffer_free(&mut out) };

    // Sealed from C, opened by Rust (v2 and v1).
    for format in [ModelsealFormat::V2, ModelsealFormat::PaddleV1] {
        let data = b"sealed from the C ABI";
        let mut sealed = ptr::null_mut();
        // SAFETY: valid key, data, name and out-pointer.
        let st = unsafe {
            modelseal_bytes_seal(
                ckey.as_ptr(),
                data.as_ptr(),
                data.len(),
                c("x.bin").as_ptr(),
                format as u32,
                &mut sealed,
            )
        };
        assert_eq!(st, ModelsealStatus::Ok);
        let image = take(sealed);
        assert_eq!(&*modelseal::open_bytes(&key, &image, "x").unwrap(), data);
    }
}

#[test]
fn sealing_from_c_opens_with_the_rust_api() {
    let fx = Fixture::new();
    let key = Key::from_base64(KEY_NUL).unwrap();
    let ckey = c(KEY_NUL);
    let (v2, v1) = (fx.path("work/c_v2"), fx.path("work/c_v1"));
    // SAFETY: valid strings.
    let st = unsafe {
        modelseal_seal_dir(
            ckey.as_ptr(),
            cpath(&fx.path("plain")).as_ptr(),
            cpath(&v2).as_ptr(),
            0,
            12,
            0,
        )
    };
    assert_eq!(st, ModelsealStatus::Ok, "{}", last_error());
    // SAFETY: valid strings.
    let code = unsafe {
        paddle_encrypt_dir_v1(
            ckey.as_ptr(),
            cpath(&fx.path("plain")).as_ptr(),
            cpath(&v1).as_ptr(),
        )
    };
    assert_eq!(code, CODE_OK, "{}", last_error());
    assert!(v1.join("__model__.encrypted").exists() && v1.join("model.yml.encrypted").exists());
    assert!(v1.join("__params__.encrypted").exists() && v1.join(".success").exists());
    for dir in [&v2, &v1] {
        let opened = OpenOptions::new()
            .key(key.clone())
            .allow_paddlex_v1(true)
            .open(dir)
            .unwrap();
        for name in opened.names() {
            assert_eq!(
                &*opened.read(&name).unwrap(),
                std::fs::read(fx.path("plain").join(&name)).unwrap(),
                "{name}"
            );
        }
    }
}

#[test]
fn out_parameters_are_untouched_and_errors_are_thread_local() {
    let fx = Fixture::new();
    let sentinel = 0x40 as *mut ModelsealDir;
    let mut dir = sentinel;
    // SAFETY: valid strings and out-pointer.
    let st = unsafe {
        modelseal_dir_open(
            cpath(&fx.path("v2")).as_ptr(),
            c(&fx.wrong_key).as_ptr(),
            &mut dir,
        )
    };
    assert_eq!(st, ModelsealStatus::WrongKey);
    assert_eq!(dir, sentinel);
    assert_eq!(last_error_name(), "wrong_key");
    assert!(
        last_error().contains("modelseal.manifest"),
        "{}",
        last_error()
    );
    std::thread::spawn(|| {
        assert_eq!(last_error_name(), "");
        // SAFETY: NULL is checked.
        assert_eq!(
            unsafe { modelseal_key_validate(ptr::null()) },
            ModelsealStatus::NullArgument
        );
        assert_eq!(last_error_name(), "null_argument");
    })
    .join()
    .unwrap();
    assert_eq!(last_error_name(), "wrong_key");
    // SAFETY: valid string.
    assert_eq!(
        unsafe { modelseal_key_validate(c(&fx.key).as_ptr()) },
        ModelsealStatus::Ok
    );
    assert_eq!(last_error_name(), "");
    assert_eq!(last_error(), "");
}

struct SendPtr(*mut ModelsealDir);
// SAFETY: the handle is documented as readable from several threads at once; it is freed after the joins.
unsafe impl Send for SendPtr {}
// SAFETY: as above.
unsafe impl Sync for SendPtr {}

#[test]
fn one_handle_reads_concurrently() {
    let fx = Fixture::new();
    let expected = std::fs::read(fx.path("plain/__params__")).unwrap();
    let handle = SendPtr(open_dir(&fx.path("v2"), Some(&fx.key)));
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let h = &handle;
                for _ in 0..5 {
                    let mut buf = ptr::null_mut();
                    // SAFETY: live handle, valid name and out-pointer.
                    assert_eq!(
                        unsafe { modelseal_dir_read(h.0, c"__params__".as_ptr(), &mut buf) },
                        ModelsealStatus::Ok
                    );
                    assert_eq!(take(buf), expected);
                }
            });
        }
    });
    let mut h = handle.0;
    // SAFETY: freeing a live handle once, after every reader finished.
    unsafe { modelseal_dir_free(&mut h) };
}

#[test]
fn panics_are_caught_and_statuses_named() {
    assert_eq!(modelseal_test_panic(), ModelsealStatus::Panic);
    assert_eq!(last_error_name(), "panic");
    assert!(last_error().contains("deliberate panic"));
    for (value, name) in [
        (0, "ok"),
        (1, "null_argument"),
        (7, "wrong_key"),
        (10, "panic"),
        (11, "unknown"),
        (-1, "unknown"),
    ] {
        // SAFETY: static strings.
        assert_eq!(
            unsafe { CStr::from_ptr(modelseal_status_name(value)) }
                .to_str()
                .unwrap(),
            name
        );
    }
    // SAFETY: static string.
    assert_eq!(
        unsafe { CStr::from_ptr(modelseal_version()) }
            .to_str()
            .unwrap(),
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn generated_keys_parse_and_differ() {
    let mut a = [0 as c_char; MODELSEAL_KEY_BUFFER_LEN];
    let mut b = [0 as c_char; PADDLE_KEY_BUFFER_LEN];
    // SAFETY: buffers of the stated lengths.
    assert_eq!(
        unsafe { modelseal_key_generate(a.as_mut_ptr(), a.len()) },
        ModelsealStatus::Ok
    );
    // SAFETY: as above.
    assert_eq!(
        unsafe { paddle_generate_random_key_no_nul(b.as_mut_ptr(), b.len()) },
        CODE_OK
    );
    // SAFETY: NUL-terminated by the library.
    let (ka, kb) = unsafe { (CStr::from_ptr(a.as_ptr()), CStr::from_ptr(b.as_ptr())) };
    let (ka, kb) = (
        Key::from_base64(ka.to_str().unwrap()).unwrap(),
        Key::from_base64(kb.to_str().unwrap()).unwrap(),
    );
    assert_ne!(ka.as_bytes(), kb.as_bytes());
    assert!(!kb.as_bytes().contains(&0));
    let mut s = ptr::null_mut();
    // SAFETY: valid out-pointer.
    assert_eq!(
        unsafe { modelseal_key_generate_string(&mut s) },
        ModelsealStatus::Ok
    );
    // SAFETY: library-owned string, freed once below.
    assert_eq!(unsafe { CStr::from_ptr(s) }.to_bytes().len(), 44);
    // SAFETY: as above.
    unsafe { modelseal_string_free(&mut s) };
    assert!(s.is_null());
}

/// Calls `modelseal_dir_open_memory` on (path, bytes) entries.
fn open_memory(
    files: &[(String, Vec<u8>)],
    key: Option<&str>,
    out: &mut *mut ModelsealDir,
) -> ModelsealStatus {
    let paths: Vec<CString> = files.iter().map(|(p, _)| c(p)).collect();
    let path_ptrs: Vec<*const c_char> = paths.iter().map(|p| p.as_ptr()).collect();
    let data_ptrs: Vec<*const u8> = files.iter().map(|(_, d)| d.as_ptr()).collect();
    let lens: Vec<usize> = files.iter().map(|(_, d)| d.len()).collect();
    let key = key.map(c);
    // SAFETY: the arrays hold files.len() valid entries; the key is NULL or NUL-terminated.
    unsafe {
        modelseal_dir_open_memory(
            path_ptrs.as_ptr(),
            data_ptrs.as_ptr(),
            lens.as_ptr(),
            files.len(),
            key.as_ref().map_or(ptr::null(), |k| k.as_ptr()),
            out,
        )
    }
}

#[test]
fn a_sealed_directory_opens_from_memory_byte_identical_to_the_rust_api() {
    let fx = Fixture::new();
    let files: Vec<(String, Vec<u8>)> = modelseal::internal::list_files(&fx.path("v2"), false)
        .unwrap()
        .into_iter()
        .map(|f| (f.name, std::fs::read(&f.path).unwrap()))
        .collect();
    let mut handle = ptr::null_mut();
    assert_eq!(
        open_memory(&files, Some(&fx.key), &mut handle),
        ModelsealStatus::Ok,
        "{}",
        last_error()
    );
    let rust = OpenOptions::new()
        .key(Key::from_base64(&fx.key).unwrap())
        .open(&fx.path("v2"))
        .unwrap();
    let mut count = 0usize;
    // SAFETY: live handle, valid out-pointer.
    assert_eq!(
        unsafe { modelseal_dir_member_count(handle, &mut count) },
        ModelsealStatus::Ok
    );
    assert_eq!(count, rust.names().len());
    for name in rust.names() {
        let mut buf = ptr::null_mut();
        // SAFETY: live handle, valid name and out-pointer.
        assert_eq!(
            unsafe { modelseal_dir_read(handle, c(&name).as_ptr(), &mut buf) },
            ModelsealStatus::Ok
        );
        assert_eq!(take(buf), &*rust.read(&name).unwrap(), "{name}");
    }
    // SAFETY: freeing a live handle once.
    unsafe { modelseal_dir_free(&mut handle) };

    // Error paths leave the out-parameter untouched.
    let sentinel = 0x10 as *mut ModelsealDir;
    let mut out = sentinel;
    assert_eq!(
        open_memory(&files, Some(&fx.wrong_key), &mut out),
        ModelsealStatus::WrongKey
    );
    assert_eq!((out, last_error_name().as_str()), (sentinel, "wrong_key"));
    assert_eq!(
        open_memory(&files, None, &mut out),
        ModelsealStatus::NullArgument
    );
    let missing: Vec<_> = files
        .iter()
        .filter(|(p, _)| p != "model.yml.sealed")
        .cloned()
        .collect();
    assert_eq!(
        open_memory(&missing, Some(&fx.key), &mut out),
        ModelsealStatus::Integrity
    );
    assert_eq!(last_error_name(), "member_missing");
    let mut twice = files.clone();
    twice.push(files[0].clone());
    assert_eq!(
        open_memory(&twice, Some(&fx.key), &mut out),
        ModelsealStatus::InvalidArgument
    );
    assert!(last_error().contains("given twice"), "{}", last_error());
    assert_eq!(out, sentinel);
    let key = c(&fx.key);
    // SAFETY: NULL arrays are reported, not dereferenced.
    let st = unsafe {
        modelseal_dir_open_memory(
            ptr::null(),
            ptr::null(),
            ptr::null(),
            0,
            key.as_ptr(),
            &mut out,
        )
    };
    assert_eq!(st, ModelsealStatus::NullArgument);
    // SAFETY: as above; `out` NULL is reported.
    let st = unsafe {
        let p: Vec<*const c_char> = vec![];
        let d: Vec<*const u8> = vec![];
        let l: Vec<usize> = vec![];
        modelseal_dir_open_memory(
            p.as_ptr(),
            d.as_ptr(),
            l.as_ptr(),
            0,
            key.as_ptr(),
            ptr::null_mut(),
        )
    };
    assert_eq!(st, ModelsealStatus::NullArgument);
}
