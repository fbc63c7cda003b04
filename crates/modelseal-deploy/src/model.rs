//! Which member of a model directory is the model, and how it becomes a backend session: an ONNX
//! file is handed to the backend as is; a Paddle program and its parameters are imported into
//! ONNX in memory (`modelseal-paddle`), with the operators ONNX cannot express exactly
//! (multiclass_nms3, matrix_nms) finished in Rust after the graph.

use std::path::Path;

use modelseal::Role;
use modelseal_paddle::{DType, ImportOptions, Tail};

use crate::backend::{self, Backend, BackendOptions, ElemType, InputInfo, Tensor, TensorData};
use crate::error::{Error, Result};
use crate::source::ModelSource;

/// The model file(s) of a model directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelFiles {
    /// An ONNX model (`model.onnx`, `inference.onnx` or the single `*.onnx`).
    Onnx(String),
    /// A Paddle inference program with its combined parameters file: `__model__` + `__params__`
    /// (PaddleX 1.x), `*.pdmodel` + `*.pdiparams` (legacy ProgramDesc, Paddle 2.x) or `*.json` +
    /// `*.pdiparams` (PIR, Paddle 3.x).
    Paddle {
        /// The program member.
        program: String,
        /// The parameters member.
        params: String,
    },
}

impl ModelFiles {
    /// Finds the model among a directory's member `names` (`dir` names it in errors). An ONNX
    /// model is preferred when a directory holds both (it is the owner's own conversion).
    pub fn pick(names: &[String], dir: &Path) -> Result<ModelFiles> {
        let layout = |message: String| Error::Layout {
            dir: dir.to_path_buf(),
            message,
        };
        for n in ["model.onnx", "inference.onnx"] {
            if names.iter().any(|x| x == n) {
                return Ok(ModelFiles::Onnx(n.to_string()));
            }
        }
        let onnx: Vec<&String> = names.iter().filter(|n| n.ends_with(".onnx")).collect();
        match onnx.len() {
            0 => {}
            1 => return Ok(ModelFiles::Onnx(onnx[0].clone())),
            _ => {
                return Err(layout(format!(
                    "several ONNX models {onnx:?}; keep one, or name it model.onnx"
                )))
            }
        }
        let has = |n: &str| names.iter().any(|x| x == n);
        let mut programs: Vec<(String, String)> = Vec::new();
        for n in names {
            if n == "__model__" {
                if !has("__params__") {
                    return Err(layout(
                        "__model__ without __params__: only combined parameters are supported \
                         (export with params_filename=\"__params__\", or save_inference_model's \
                         combined form); separate per-variable parameter files are not"
                            .into(),
                    ));
                }
                programs.push((n.clone(), "__params__".into()));
            } else if let Some(stem) = n.strip_suffix(".pdmodel") {
                let params = format!("{stem}.pdiparams");
                if !has(&params) {
                    return Err(layout(format!(
                        "Paddle program {n} without its parameters file {params}"
                    )));
                }
                // A PIR program next to it with the same parameters is preferred (below).
                if !has(&format!("{stem}.json")) {
                    programs.push((n.clone(), params));
                }
            } else if let Some(stem) = n.strip_suffix(".json") {
                // Only the name the format crate's roles call a model (`inference.json`): the
                // PaddleX v1 rule that model files be encrypted relies on the same roles.
                let params = format!("{stem}.pdiparams");
                if Role::of(n) == Role::Model && has(&params) {
                    programs.push((n.clone(), params));
                }
            }
        }
        match programs.len() {
            1 => {
                let (program, params) = programs.remove(0);
                Ok(ModelFiles::Paddle { program, params })
            }
            0 => Err(layout(format!(
                "no model: expected an ONNX model (model.onnx, inference.onnx or one *.onnx) or a \
                 Paddle program (__model__ + __params__, *.pdmodel + *.pdiparams, or \
                 inference.json + inference.pdiparams; a PIR program is named inference.json) \
                 among {names:?}"
            ))),
            _ => Err(layout(format!(
                "several Paddle programs {:?}; keep one",
                programs.iter().map(|(p, _)| p).collect::<Vec<_>>()
            ))),
        }
    }

    /// The member that names the model in messages (the ONNX file or the program).
    pub fn name(&self) -> &str {
        match self {
            ModelFiles::Onnx(n) => n,
            ModelFiles::Paddle { program, .. } => program,
        }
    }

    /// Builds the backend session from the members in `src`. Decrypted bytes (the model, or the
    /// program, its parameters and the ONNX translation) are wiped once the session exists.
    pub fn load(&self, src: &ModelSource, opts: &BackendOptions) -> Result<Box<dyn Backend>> {
        match self {
            ModelFiles::Onnx(name) => {
                let bytes = src.read(name)?;
                backend::load(&bytes, name, opts)
            }
            ModelFiles::Paddle { program, params } => {
                let imported = {
                    let prog = src.read(program)?;
                    let params = src.read(params)?;
                    import_paddle(&prog, &params, src.dir(), program)?
                };
                let inner = backend::load(&imported.onnx, program, opts)?;
                Ok(match imported.tail {
                    None => inner,
                    Some(tail) => Box::new(TailBackend::new(inner, tail, &imported.outputs)),
                })
            }
        }
    }
}

/// Imports a Paddle program and its parameters into an in-memory ONNX model (zeroized on drop);
/// `dir` and `program` name the directory and the program member in errors.
pub fn import_paddle(
    program_bytes: &[u8],
    params_bytes: &[u8],
    dir: &Path,
    program: &str,
) -> Result<modelseal_paddle::Imported> {
    modelseal_paddle::import(program_bytes, params_bytes, &ImportOptions::default()).map_err(
        |source| Error::Import {
            dir: dir.to_path_buf(),
            model: program.to_string(),
            source,
        },
    )
}

/// The ONNX translation of a Paddle-format model directory, in memory: every member but the
/// program, its parameters and `*.pdiparams.info` is kept as it is, and the program becomes
/// `model.onnx`; the result can be sealed ([`modelseal::seal_dir`]) or written
/// ([`modelseal::write_plain_dir`]). A directory that already holds an ONNX model, and a program
/// ending in an NMS operator that ONNX cannot express exactly, are refused.
pub fn convert_to_onnx(src: &ModelSource) -> Result<modelseal::ModelDir> {
    let names = src.names();
    let (program, params) = match ModelFiles::pick(&names, src.dir())? {
        ModelFiles::Paddle { program, params } => (program, params),
        ModelFiles::Onnx(name) => {
            return Err(Error::Layout {
                dir: src.dir().to_path_buf(),
                message: format!("already holds an ONNX model ({name}); nothing to convert"),
            })
        }
    };
    let imported = {
        let prog = src.read(&program)?;
        let par = src.read(&params)?;
        import_paddle(&prog, &par, src.dir(), &program)?
    };
    if imported.tail.is_some() {
        return Err(Error::Model {
            model: program,
            message: "the program ends in an NMS operator (multiclass_nms3 or matrix_nms) whose \
                      exact semantics ONNX cannot express; run this directory with modelseal \
                      as it is (the NMS is finished in Rust), or convert it with paddle2onnx"
                .into(),
        });
    }
    let info = format!("{params}.info");
    let mut members = vec![(
        "model.onnx".to_string(),
        modelseal::Secret::from_slice(&imported.onnx),
    )];
    for n in &names {
        if *n != program && *n != params && *n != info {
            members.push((n.clone(), src.read(n)?));
        }
    }
    modelseal::ModelDir::from_members(src.dir(), members).map_err(|source| Error::Open {
        dir: src.dir().to_path_buf(),
        source,
    })
}

fn elem_of(d: DType) -> ElemType {
    match d {
        DType::F32 => ElemType::F32,
        DType::I32 => ElemType::I32,
        DType::I64 => ElemType::I64,
        _ => ElemType::Other,
    }
}

/// A backend running an imported program's ONNX graph, then its tail in Rust: its outputs are
/// the program's fetches.
struct TailBackend {
    inner: Box<dyn Backend>,
    tail: Tail,
    outputs: Vec<String>,
    infos: Vec<InputInfo>,
}

impl TailBackend {
    fn new(
        inner: Box<dyn Backend>,
        tail: Tail,
        fetches: &[modelseal_paddle::TensorInfo],
    ) -> TailBackend {
        let infos: Vec<InputInfo> = fetches
            .iter()
            .map(|f| InputInfo {
                name: f.name.clone(),
                elem: elem_of(f.dtype),
                shape: f.shape.clone(),
            })
            .collect();
        TailBackend {
            inner,
            tail,
            outputs: infos.iter().map(|i| i.name.clone()).collect(),
            infos,
        }
    }
}

impl From<Tensor> for modelseal_paddle::Tensor {
    fn from(t: Tensor) -> modelseal_paddle::Tensor {
        use modelseal_paddle::TensorData as P;
        modelseal_paddle::Tensor {
            shape: t.shape,
            data: match t.data {
                TensorData::F32(v) => P::F32(v),
                TensorData::I32(v) => P::I32(v),
                TensorData::I64(v) => P::I64(v),
            },
        }
    }
}

impl From<modelseal_paddle::Tensor> for Tensor {
    fn from(t: modelseal_paddle::Tensor) -> Tensor {
        use modelseal_paddle::TensorData as P;
        Tensor {
            shape: t.shape,
            data: match t.data {
                P::F32(v) => TensorData::F32(v),
                P::I32(v) => TensorData::I32(v),
                P::I64(v) => TensorData::I64(v),
            },
        }
    }
}

impl Backend for TailBackend {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn inputs(&self) -> &[InputInfo] {
        self.inner.inputs()
    }
    fn output_names(&self) -> &[String] {
        &self.outputs
    }
    fn output_infos(&self) -> Vec<InputInfo> {
        self.infos.clone()
    }
    fn run(&mut self, inputs: &[(String, Tensor)]) -> Result<Vec<Tensor>> {
        let graph_out = self.inner.run(inputs)?;
        let named: Vec<(String, modelseal_paddle::Tensor)> = self
            .inner
            .output_names()
            .iter()
            .cloned()
            .zip(graph_out.into_iter().map(Into::into))
            .collect();
        let fetched = self.tail.run(&named).map_err(|e| Error::Backend {
            backend: self.inner.name(),
            message: format!("after the graph (NMS in Rust): {e}"),
        })?;
        Ok(fetched.into_iter().map(Tensor::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(names: &[&str]) -> Result<ModelFiles> {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        ModelFiles::pick(&names, Path::new("d"))
    }

    fn paddle(program: &str, params: &str) -> ModelFiles {
        ModelFiles::Paddle {
            program: program.into(),
            params: params.into(),
        }
    }

    #[test]
    fn every_paddle_layout_is_found() {
        assert_eq!(
            pick(&["__model__", "__params__", "model.yml"]).unwrap(),
            paddle("__model__", "__params__")
        );
        assert_eq!(
            pick(&[
                "model.pdmodel",
                "model.pdiparams",
                "model.pdiparams.info",
                "model.yml"
            ])
            .unwrap(),
            paddle("model.pdmodel", "model.pdiparams")
        );
        assert_eq!(
            pick(&["inference.json", "inference.pdiparams", "inference.yml"]).unwrap(),
            paddle("inference.json", "inference.pdiparams")
        );
        // Both program formats over one parameters file: the PIR program.
        assert_eq!(
            pick(&[
                "inference.json",
                "inference.pdmodel",
                "inference.pdiparams",
                "inference.yml"
            ])
            .unwrap(),
            paddle("inference.json", "inference.pdiparams")
        );
        // A JSON file that is not a program (no parameters beside it, or not named as one)
        // is not taken for one.
        assert_eq!(
            pick(&["labels.json", "model.pdmodel", "model.pdiparams"]).unwrap(),
            paddle("model.pdmodel", "model.pdiparams")
        );
        assert!(pick(&["model.json", "model.pdiparams", "model.yml"]).is_err());
    }

    #[test]
    fn onnx_wins_over_a_paddle_program() {
        assert_eq!(
            pick(&["inference.json", "inference.pdiparams", "model.onnx"]).unwrap(),
            ModelFiles::Onnx("model.onnx".into())
        );
    }

    #[test]
    fn missing_or_ambiguous_models_are_layout_errors() {
        for (names, needle) in [
            (&["__model__", "model.yml"][..], "without __params__"),
            (
                &["model.pdmodel", "model.yml"][..],
                "without its parameters file",
            ),
            (
                &["a.pdmodel", "a.pdiparams", "b.pdmodel", "b.pdiparams"][..],
                "several Paddle programs",
            ),
            (&["labels.json", "model.yml"][..], "no model"),
            (&["a.onnx", "b.onnx"][..], "several ONNX models"),
        ] {
            let e = pick(names).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Unsupported, "{e}");
            assert!(e.to_string().contains(needle), "{names:?}: {e}");
            assert!(e.to_string().starts_with("model directory d:"), "{e}");
        }
    }
}
