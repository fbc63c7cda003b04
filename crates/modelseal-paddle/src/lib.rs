//! Paddle inference programs to ONNX, in memory: a legacy ProgramDesc (`__model__`,
//! `*.pdmodel`) or a PIR JSON program (`inference.json`) plus its combined parameters file, as
//! bytes, become a serialized ONNX model (opset 17) that ONNX Runtime and tract both run.
//!
//! No Paddle, Python or protoc is involved at build or run time. Both program formats are parsed
//! into one internal graph and translated by one translator. Operators whose exact semantics
//! ONNX cannot express (multiclass_nms3, matrix_nms) are cut into a [`Tail`] run in Rust after
//! the ONNX graph.
//!
//! Half-precision parameters (float16, bfloat16) are widened to float32 initializers (exactly),
//! and values the program declares as half precision are computed in float32: the ONNX model
//! takes and gives float32 there.
//!
//! Decrypted weights are secrets: the intermediate copies this crate makes (initializers, the
//! serialized model) are zeroized when dropped; the returned model is in a `Zeroizing` buffer.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod encode;
mod error;
mod graph;
mod import;
mod ir;
pub mod params;
mod program;
pub mod proto;
mod tail;
mod tensor;
mod translate;
mod types;

pub use error::{Error, Result};
pub use tail::Tail;
pub use tensor::{Tensor, TensorData};
pub use types::{DType, TensorInfo};

/// The two Paddle program formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramFormat {
    /// Protobuf `ProgramDesc` (`__model__`, `*.pdmodel`).
    Legacy,
    /// PIR JSON (`inference.json`, Paddle 3.x).
    Pir,
}

/// What to do with operators ONNX cannot express exactly (multiclass_nms3, matrix_nms).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TailMode {
    /// Cut them into a [`Tail`] finished in Rust (the default).
    #[default]
    Cut,
    /// Refuse them: they are reported as unsupported.
    Refuse,
}

/// Options of [`import`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ImportOptions {
    /// Tail handling.
    pub tail: TailMode,
}

impl ImportOptions {
    /// With the given tail handling.
    pub fn with_tail(mut self, tail: TailMode) -> Self {
        self.tail = tail;
        self
    }
}

/// An imported program.
pub struct Imported {
    /// Serialized ONNX `ModelProto` (opset 17), zeroized on drop.
    pub onnx: zeroize::Zeroizing<Vec<u8>>,
    /// The program's feeds, in feed order: the ONNX model's inputs.
    pub inputs: Vec<TensorInfo>,
    /// The program's fetches, in fetch order. Without a tail these are the ONNX model's outputs;
    /// with one, [`Tail::run`] returns them and the model outputs [`Tail::inputs`].
    pub outputs: Vec<TensorInfo>,
    /// Operators finished in Rust after the ONNX graph, if the program has any.
    pub tail: Option<Tail>,
}

impl std::fmt::Debug for Imported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imported")
            .field("onnx", &format_args!("<{} bytes>", self.onnx.len()))
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .field("tail", &self.tail)
            .finish()
    }
}

/// Which format `program` is in, or `None` when it is neither.
pub fn detect(program: &[u8]) -> Option<ProgramFormat> {
    if program::pir::looks_like(program) {
        Some(ProgramFormat::Pir)
    } else if program::legacy::looks_like(program) {
        Some(ProgramFormat::Legacy)
    } else {
        None
    }
}

/// Translates a Paddle program and its combined parameters file into an ONNX model.
///
/// ```no_run
/// use modelseal_paddle::{import, ImportOptions};
/// let program = std::fs::read("model/inference.pdmodel")?; // or inference.json, __model__
/// let params = std::fs::read("model/inference.pdiparams")?; // or __params__
/// let imported = import(&program, &params, &ImportOptions::default())?;
/// // Feed `imported.onnx` to any ONNX runtime from memory; the names to feed and fetch:
/// for input in &imported.inputs {
///     println!("input {} {:?} {:?}", input.name, input.dtype, input.shape);
/// }
/// if let Some(tail) = &imported.tail {
///     // The program ends in multiclass_nms3 / matrix_nms: the ONNX model outputs the NMS
///     // inputs, and `tail.run` turns them into the program's fetches.
///     println!("finish with the tail after {} outputs", tail.inputs().len());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn import(program: &[u8], params: &[u8], opts: &ImportOptions) -> Result<Imported> {
    let prog = parse_program(program)?;
    import::import(&prog, params, opts)
}

/// Parses a program of either format and returns the operator types it uses (sorted,
/// deduplicated, in legacy naming): a cheap check of what a program needs.
pub fn operator_types(program: &[u8]) -> Result<Vec<String>> {
    let prog = parse_program(program)?;
    let mut v: Vec<String> = prog.ops.iter().map(|o| o.ty.clone()).collect();
    v.sort();
    v.dedup();
    Ok(v)
}

fn parse_program(program: &[u8]) -> Result<ir::Program> {
    let first = program.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        program::pir::parse(program)
    } else if program.is_empty() {
        Err(Error::MalformedProgram {
            format: "unknown",
            message: "empty program".into(),
        })
    } else {
        program::legacy::parse(program)
    }
}
