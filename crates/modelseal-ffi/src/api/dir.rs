//! Opening model directories (from disk or memory) under the open policy, listing and reading members.

use super::*;

/// Options of `modelseal_dir_open_ex` and `modelseal_dir_open_memory_ex`: the open policy's
/// choices. Zero-initialise it for the defaults (no PaddleX v1, any sealing made with the key).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ModelsealOpenOptions {
    /// Non-zero: open PaddleX v1 directories (one AES-GCM nonce per key, no manifest); their
    /// model, params and config files must still be encrypted.
    pub allow_paddlex_v1: u32,
    /// NULL, or the sealing id (32 hex digits, as `modelseal_dir_seal_id` gives it) every other
    /// sealing is refused for (`MODELSEAL_STATUS_INTEGRITY`): an older sealing under the same key
    /// is refused only when pinned.
    pub expected_seal_id: *const c_char,
}

/// Bytes of a buffer that holds a sealing id: 32 hex digits and the terminating NUL.
pub const MODELSEAL_SEAL_ID_BUFFER_LEN: usize = 33;

/// # Safety
/// `key` is NULL or NUL-terminated; `options` is NULL or points to a readable
/// `ModelsealOpenOptions` whose `expected_seal_id` is NULL or NUL-terminated.
unsafe fn open_options(
    key: *const c_char,
    options: *const ModelsealOpenOptions,
) -> Result<OpenOptions, Failure> {
    let key = if key.is_null() {
        None
    } else {
        // SAFETY: `key` is non-NULL and NUL-terminated (caller contract).
        Some(unsafe { key_arg(key, "key") }?)
    };
    let mut opts = OpenOptions::new().key(key);
    if !options.is_null() {
        // SAFETY: non-NULL and readable (caller contract).
        let o = unsafe { *options };
        opts = opts.allow_paddlex_v1(o.allow_paddlex_v1 != 0);
        if !o.expected_seal_id.is_null() {
            // SAFETY: NUL-terminated (caller contract).
            let text = unsafe { str_arg(o.expected_seal_id, "options.expected_seal_id") }?;
            let id: SealId = text
                .parse()
                .map_err(|e| Failure::invalid(format!("options.expected_seal_id: {e}")))?;
            opts = opts.expect_seal_id(id);
        }
    }
    Ok(opts)
}

/// Opens the model directory `path` into `*out`, to be released with `modelseal_dir_free`, under
/// the open policy with default options (see `modelseal_dir_open_ex`).
///
/// # Safety
/// `path` is NULL or NUL-terminated; `key` is NULL or NUL-terminated; `out` is NULL or a writable
/// `ModelsealDir*` location.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_open(
    path: *const c_char,
    key: *const c_char,
    out: *mut *mut ModelsealDir,
) -> ModelsealStatus {
    // SAFETY: forwarded caller contract; NULL options are the defaults.
    unsafe { modelseal_dir_open_ex(path, key, ptr::null(), out) }
}

/// Opens the model directory `path` into `*out` (release with `modelseal_dir_free`) under the
/// open policy. With a `key`, only a sealing that verifies opens: a modelseal v2 directory whose
/// manifest authenticates and lists exactly the files present (wrong key, added, missing, swapped,
/// foreign, truncated or extended members are reported here; payloads are decrypted and
/// authenticated by `modelseal_dir_read`). A plain directory, a plain member or a decoy is refused
/// (UNSUPPORTED); a PaddleX v1 directory opens only with `options->allow_paddlex_v1` (else
/// UNSUPPORTED), and then its model, params and config files must be encrypted; a pinned
/// `options->expected_seal_id` refuses any other sealing (INTEGRITY). With `key == NULL` only
/// plain directories open. `options` may be NULL (the defaults).
/// Errors: NULL_ARGUMENT, BAD_KEY, INVALID_ARGUMENT (not a directory; sealed without key; a
/// malformed expected sealing id), IO, WRONG_KEY, INTEGRITY, UNSUPPORTED.
///
/// # Safety
/// `path` and `key` are NULL or NUL-terminated; `options` is NULL or points to a readable
/// `ModelsealOpenOptions`; `out` is NULL or a writable `ModelsealDir*` location.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_open_ex(
    path: *const c_char,
    key: *const c_char,
    options: *const ModelsealOpenOptions,
    out: *mut *mut ModelsealDir,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let path = unsafe { path_arg(path, "path") }?;
        out_arg(out, "out")?;
        // SAFETY: forwarded caller contract.
        let opts = unsafe { open_options(key, options) }?;
        let handle = dir_handle(opts.open(path)?)?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, Box::into_raw(handle)) };
        Ok(())
    })
}

/// Writes the sealing id of an opened v2 directory (32 hex digits and a NUL) into `out`, which
/// holds `out_len >= MODELSEAL_SEAL_ID_BUFFER_LEN` bytes. Errors: NULL_ARGUMENT, BUFFER_TOO_SMALL,
/// NOT_FOUND (a plain or PaddleX v1 directory has no sealing id).
///
/// # Safety
/// `dir` is NULL or a live handle; `out` is NULL or points to `out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_seal_id(
    dir: *const ModelsealDir,
    out: *mut c_char,
    out_len: usize,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        out_arg(out, "out")?;
        if out_len < MODELSEAL_SEAL_ID_BUFFER_LEN {
            return Err(Failure::new(
                ModelsealStatus::BufferTooSmall,
                "buffer_too_small",
                format!(
                    "out holds {out_len} bytes; a sealing id needs {MODELSEAL_SEAL_ID_BUFFER_LEN}"
                ),
            ));
        }
        let id = d.dir.seal_id().ok_or_else(|| {
            Failure::new(
                ModelsealStatus::NotFound,
                "no_seal_id",
                format!(
                    "{}: a {} directory has no sealing id",
                    d.dir.root().display(),
                    d.dir.storage().as_str()
                ),
            )
        })?;
        let text = id.to_string();
        // SAFETY: `out` points to out_len >= 33 writable bytes (caller contract); 32 digits and a
        // NUL fit; the source is a distinct Rust allocation.
        unsafe {
            ptr::copy_nonoverlapping(text.as_ptr(), out.cast::<u8>(), text.len());
            *out.add(text.len()) = 0;
        }
        Ok(())
    })
}

fn dir_handle(dir: ModelDir) -> Result<Box<ModelsealDir>, Failure> {
    let names = dir.names();
    let roles = names.iter().map(|n| Role::of(n).into()).collect();
    let names = names
        .into_iter()
        .map(|n| CString::new(n).map_err(|_| not_sealed("a member name holds a NUL byte")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Box::new(ModelsealDir { dir, names, roles }))
}

/// Opens a sealed (modelseal v2) directory whose files are held in memory, e.g. unpacked from an
/// archive or received over a network, into `*out` (release with `modelseal_dir_free`). Entry `i`
/// is the file `paths[i]` (relative to the sealed directory, '/'-separated, e.g.
/// `"modelseal.manifest"`, `"model.onnx.sealed"`) with `lens[i]` bytes at `datas[i]`. The bytes
/// are copied; the caller may free them after the call. The same checks as `modelseal_dir_open`
/// apply (manifest, wrong key, added, missing, swapped or foreign members).
/// Errors: NULL_ARGUMENT (any array, entry, `key` or `out`), INVALID_ARGUMENT (a path twice),
/// BAD_KEY, WRONG_KEY, INTEGRITY, UNSUPPORTED.
///
/// # Safety
/// `paths`, `datas` and `lens` are NULL or point to `count` readable elements; each `paths[i]` is
/// NULL or NUL-terminated; each `datas[i]` is NULL or points to `lens[i]` readable bytes; `key` is
/// NULL or NUL-terminated; `out` is NULL or a writable `ModelsealDir*` location.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_open_memory(
    paths: *const *const c_char,
    datas: *const *const u8,
    lens: *const usize,
    count: usize,
    key: *const c_char,
    out: *mut *mut ModelsealDir,
) -> ModelsealStatus {
    // SAFETY: forwarded caller contract; NULL options are the defaults.
    unsafe { modelseal_dir_open_memory_ex(paths, datas, lens, count, key, ptr::null(), out) }
}

/// `modelseal_dir_open_memory` with open options (a pinned `expected_seal_id`; PaddleX v1 never
/// opens from memory). `options` may be NULL.
///
/// # Safety
/// As `modelseal_dir_open_memory`; `options` is NULL or points to a readable `ModelsealOpenOptions`.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_open_memory_ex(
    paths: *const *const c_char,
    datas: *const *const u8,
    lens: *const usize,
    count: usize,
    key: *const c_char,
    options: *const ModelsealOpenOptions,
    out: *mut *mut ModelsealDir,
) -> ModelsealStatus {
    status(|| {
        if paths.is_null() {
            return Err(Failure::null("paths"));
        }
        if datas.is_null() {
            return Err(Failure::null("datas"));
        }
        if lens.is_null() {
            return Err(Failure::null("lens"));
        }
        if key.is_null() {
            return Err(Failure::null("key"));
        }
        // SAFETY: `key` is non-NULL and NUL-terminated; `options` per the caller contract.
        let opts = unsafe { open_options(key, options) }?;
        out_arg(out, "out")?;
        let mut files: Vec<(String, Vec<u8>)> = Vec::with_capacity(count.min(1 << 16));
        for i in 0..count {
            // SAFETY: the three arrays hold `count` readable elements (caller contract) and i < count.
            let (p, d, n) = unsafe { (*paths.add(i), *datas.add(i), *lens.add(i)) };
            // SAFETY: entry `i` follows the caller contract stated above.
            let path = unsafe { str_arg(p, "paths[i]") }?;
            // SAFETY: as above.
            let data = unsafe { bytes_arg(d, n, "datas[i]") }?;
            if files.iter().any(|(existing, _)| existing == path) {
                return Err(Failure::invalid(format!("paths: '{path}' is given twice")));
            }
            files.push((path.to_string(), data.to_vec()));
        }
        let handle = dir_handle(opts.open_memory(files)?)?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, Box::into_raw(handle)) };
        Ok(())
    })
}

/// Releases a directory handle and sets `*dir` to NULL. NULL and `*dir == NULL` do nothing.
///
/// # Safety
/// `dir` is NULL or points to NULL or to a handle from `modelseal_dir_open` not yet freed, and no
/// other thread is using that handle.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_free(dir: *mut *mut ModelsealDir) {
    quiet((), || {
        if dir.is_null() {
            return;
        }
        // SAFETY: `dir` is non-NULL and points to a readable, writable pointer (caller contract).
        let p = unsafe { *dir };
        if !p.is_null() {
            // SAFETY: `p` came from Box::into_raw in modelseal_dir_open and is freed once (contract).
            drop(unsafe { Box::from_raw(p) });
            // SAFETY: as above.
            unsafe { *dir = ptr::null_mut() };
        }
    })
}

/// Writes how the opened directory is stored into `*out`. Errors: NULL_ARGUMENT.
///
/// # Safety
/// `dir` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_storage(
    dir: *const ModelsealDir,
    out: *mut ModelsealStorage,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        out_arg(out, "out")?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, d.dir.storage().into()) };
        Ok(())
    })
}

/// Writes the number of members into `*out`. Errors: NULL_ARGUMENT.
///
/// # Safety
/// `dir` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_member_count(
    dir: *const ModelsealDir,
    out: *mut usize,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        out_arg(out, "out")?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, d.names.len()) };
        Ok(())
    })
}

fn index_failure(index: usize, count: usize) -> Failure {
    Failure::new(
        ModelsealStatus::NotFound,
        "not_found",
        format!("member index {index} is out of range (the directory has {count} members)"),
    )
}

/// Writes the logical name of member `index` (0-based, names sorted; the original relative path,
/// '/'-separated, without `.sealed`/`.encrypted`) into `*out`. The string is owned by the handle
/// and valid until `modelseal_dir_free`. Errors: NULL_ARGUMENT, NOT_FOUND (index out of range).
///
/// # Safety
/// `dir` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_member_name(
    dir: *const ModelsealDir,
    index: usize,
    out: *mut *const c_char,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        out_arg(out, "out")?;
        let name = d
            .names
            .get(index)
            .ok_or_else(|| index_failure(index, d.names.len()))?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, name.as_ptr()) };
        Ok(())
    })
}

/// Writes the role of member `index` into `*out`. Errors: NULL_ARGUMENT, NOT_FOUND.
///
/// # Safety
/// `dir` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_member_role(
    dir: *const ModelsealDir,
    index: usize,
    out: *mut ModelsealRole,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        out_arg(out, "out")?;
        let role = *d
            .roles
            .get(index)
            .ok_or_else(|| index_failure(index, d.roles.len()))?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, role) };
        Ok(())
    })
}

/// Writes the index of the first member (in name order) whose role is `role` (a `ModelsealRole`)
/// into `*out_index`. Errors: NULL_ARGUMENT, INVALID_ARGUMENT (unknown role), NOT_FOUND.
///
/// # Safety
/// `dir` is NULL or a live handle; `out_index` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_find_role(
    dir: *const ModelsealDir,
    role: u32,
    out_index: *mut usize,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        out_arg(out_index, "out_index")?;
        let wanted = match role {
            0 => ModelsealRole::Model,
            1 => ModelsealRole::Params,
            2 => ModelsealRole::Config,
            3 => ModelsealRole::Labels,
            4 => ModelsealRole::Other,
            other => return Err(Failure::invalid(format!("unknown role {other} (0..=4)"))),
        };
        let index = d.roles.iter().position(|r| *r == wanted).ok_or_else(|| {
            Failure::new(
                ModelsealStatus::NotFound,
                "not_found",
                format!("{}: no member with role {wanted:?}", d.dir.root().display()),
            )
        })?;
        // SAFETY: `out_index` is non-NULL and writable (caller contract).
        unsafe { put(out_index, index) };
        Ok(())
    })
}

/// Decrypts and authenticates member `name` into a library buffer `*out` (all or nothing: no
/// partial plaintext is ever returned). Release it with `modelseal_buffer_free`, which wipes it.
/// Errors: NULL_ARGUMENT, INVALID_ARGUMENT (not UTF-8), NOT_FOUND (no such member), IO, WRONG_KEY,
/// INTEGRITY (truncated, extended, corrupted chunk, member file missing or replaced).
///
/// # Safety
/// `dir` is NULL or a live handle; `name` is NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_dir_read(
    dir: *const ModelsealDir,
    name: *const c_char,
    out: *mut *mut ModelsealBuffer,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let d = unsafe { dir_ref(dir) }?;
        // SAFETY: forwarded caller contract.
        let name = unsafe { str_arg(name, "name") }?;
        out_arg(out, "out")?;
        if !d.names.iter().any(|n| n.to_bytes() == name.as_bytes()) {
            return Err(Failure::new(
                ModelsealStatus::NotFound,
                "not_found",
                format!("{}: no member named '{name}'", d.dir.root().display()),
            ));
        }
        let data = d.dir.read(name)?;
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, boxed_buffer(data)) };
        Ok(())
    })
}
