//! Paddle programs to ONNX from bytes: a C++ service reads a sealed directory's program and
//! parameters (`modelseal_dir_read`) and hands the ONNX translation to ONNX Runtime's
//! `CreateSessionFromArray`, with no plaintext on disk.

use super::*;

/// Translates a Paddle inference program (`program_len` bytes at `program`: a legacy
/// `ProgramDesc` from `__model__`/`*.pdmodel`, or a PIR JSON program from `inference.json`) and its
/// combined parameters (`params_len` bytes at `params`: `__params__`/`*.pdiparams`) into a
/// serialized ONNX model (opset 17) in a library buffer `*out` (wiped by `modelseal_buffer_free`).
/// The inputs are not modified; the intermediate copies are wiped before returning.
///
/// Errors: NULL_ARGUMENT; UNSUPPORTED with `modelseal_last_error_name()`:
/// `malformed_program` (not a Paddle program this library reads), `malformed_params` (truncated
/// or extended parameters), `param_mismatch` (the parameters belong to another program),
/// `unsupported_operators` (the message lists every operator not translated, including the NMS
/// operators multiclass_nms3 and matrix_nms, which ONNX cannot express exactly).
///
/// # Safety
/// `program` and `params` are NULL or point to their stated number of readable bytes; `out` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn modelseal_paddle_to_onnx(
    program: *const u8,
    program_len: usize,
    params: *const u8,
    params_len: usize,
    out: *mut *mut ModelsealBuffer,
) -> ModelsealStatus {
    status(|| {
        // SAFETY: forwarded caller contract.
        let (program, params) = unsafe {
            (
                bytes_arg(program, program_len, "program"),
                bytes_arg(params, params_len, "params"),
            )
        };
        let (program, params) = (program?, params?);
        out_arg(out, "out")?;
        let opts = modelseal_paddle::ImportOptions::default()
            .with_tail(modelseal_paddle::TailMode::Refuse);
        let imported = modelseal_paddle::import(program, params, &opts).map_err(import_failure)?;
        let onnx = Secret::from_slice(&imported.onnx);
        // SAFETY: `out` is non-NULL and writable (caller contract).
        unsafe { put(out, boxed_buffer(onnx)) };
        Ok(())
    })
}

fn import_failure(e: modelseal_paddle::Error) -> Failure {
    use modelseal_paddle::Error as E;
    let name = match &e {
        E::MalformedProgram { .. } => "malformed_program",
        E::MalformedParams { .. } => "malformed_params",
        E::ParamMismatch { .. } => "param_mismatch",
        E::Unsupported { .. } => "unsupported_operators",
        _ => "unsupported_model",
    };
    Failure::new(ModelsealStatus::Unsupported, name, e.to_string())
}
