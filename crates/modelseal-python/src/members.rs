//! Which member of a model directory is the model, its parameters and its config, for
//! `SealedDir.model_name` and friends: the SDK's own choice of model files
//! (`modelseal_deploy::ModelFiles::pick`) and its config (`modelseal_deploy::config::pick`).

use std::path::Path;

use modelseal::ModelDir;
use modelseal_deploy::ModelFiles;

/// The model, parameters and config members, where each is unambiguous.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Members {
    pub(crate) model: Option<String>,
    pub(crate) params: Option<String>,
    pub(crate) config: Option<String>,
}

/// Picks the members from `names` as the predictor does: the model files the SDK would load
/// (none when it would refuse the layout) and the config when exactly one of the SDK's config
/// names is present (the predictor's rule; several configs are refused by it).
pub(crate) fn pick(names: &[String], dir: &Path) -> Members {
    let config = modelseal_deploy::config::pick(names, dir).ok();
    let (model, params) = match ModelFiles::pick(names, dir) {
        Ok(ModelFiles::Onnx(m)) => (Some(m), None),
        Ok(ModelFiles::Paddle { program, params }) => (Some(program), Some(params)),
        Err(_) => (None, None),
    };
    Members {
        model,
        params,
        config,
    }
}

/// [`pick`] on an opened directory.
pub(crate) fn of_dir(dir: &ModelDir) -> Members {
    pick(&dir.names(), dir.root())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(v: &[&str]) -> Members {
        let names: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        pick(&names, Path::new("d"))
    }

    #[test]
    fn onnx_models_follow_the_sdk_order() {
        let m = of(&["model.onnx", "other.onnx", "inference.yml", "labels.txt"]);
        assert_eq!(m.model.as_deref(), Some("model.onnx"));
        assert_eq!(m.params, None);
        assert_eq!(m.config.as_deref(), Some("inference.yml"));
        assert_eq!(
            of(&["a.onnx", "deploy.yaml"]).model.as_deref(),
            Some("a.onnx")
        );
    }

    #[test]
    fn paddle_programs_come_with_their_parameters() {
        let m = of(&["inference.pdmodel", "inference.pdiparams", "inference.yml"]);
        assert_eq!(
            (m.model.as_deref(), m.params.as_deref()),
            (Some("inference.pdmodel"), Some("inference.pdiparams"))
        );
        let m = of(&["__model__", "__params__", "model.yml"]);
        assert_eq!(
            (m.model.as_deref(), m.params.as_deref()),
            (Some("__model__"), Some("__params__"))
        );
    }

    #[test]
    fn ambiguous_or_missing_members_are_none() {
        let m = of(&["a.onnx", "b.onnx", "model.yml", "deploy.yaml"]);
        assert_eq!(m, Members::default());
        assert_eq!(of(&["a.pdmodel"]), Members::default());
        assert_eq!(of(&[]), Members::default());
        assert_eq!(of(&["readme.md"]), Members::default());
    }
}
