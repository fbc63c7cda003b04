//! Which member of a model directory is the model, its parameters and its config, for
//! `SealedDir.model_name` and friends: the SDK's choice of model file and config
//! (`modelseal_deploy::predictor`), with the format crate's roles for Paddle programs.

use modelseal::{ModelDir, Role};
use modelseal_deploy::config::CONFIG_NAMES;

/// The model, parameters and config members, where each is unambiguous.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Members {
    pub(crate) model: Option<String>,
    pub(crate) params: Option<String>,
    pub(crate) config: Option<String>,
}

/// The one element of `it`, if there is exactly one.
fn single<'a>(mut it: impl Iterator<Item = &'a String>) -> Option<String> {
    let first = it.next()?;
    it.next().is_none().then(|| first.clone())
}

/// Picks the members from `names`, with `role` the role of a member: the model as the SDK picks
/// it (`model.onnx`, `inference.onnx`, the single `*.onnx`; else the single Paddle program),
/// its parameters (`<stem>.pdiparams`, `__params__`, else the single parameters member) and
/// the single config among the SDK's config names.
pub(crate) fn pick(names: &[String], role: impl Fn(&str) -> Option<Role>) -> Members {
    let config = single(names.iter().filter(|n| CONFIG_NAMES.contains(&n.as_str())));
    let onnx = ["model.onnx", "inference.onnx"]
        .iter()
        .find(|n| names.iter().any(|x| x == *n))
        .map(|n| n.to_string())
        .or_else(|| single(names.iter().filter(|n| n.ends_with(".onnx"))));
    if onnx.is_some() {
        return Members {
            model: onnx,
            params: None,
            config,
        };
    }
    let model = single(names.iter().filter(|n| role(n) == Some(Role::Model)));
    let params = model.as_deref().and_then(|m| {
        let stem = m.rsplit_once('.').map(|(s, _)| s).unwrap_or(m);
        let wanted = if m.rsplit('/').next() == Some("__model__") {
            format!("{}__params__", &m[..m.len() - "__model__".len()])
        } else {
            format!("{stem}.pdiparams")
        };
        names
            .iter()
            .find(|n| **n == wanted)
            .cloned()
            .or_else(|| single(names.iter().filter(|n| role(n) == Some(Role::Params))))
    });
    Members {
        model,
        params,
        config,
    }
}

/// [`pick`] on an opened directory.
pub(crate) fn of_dir(dir: &ModelDir) -> Members {
    pick(&dir.names(), |n| dir.role(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn of(v: &[&str]) -> Members {
        pick(&names(v), |n| Some(Role::of(n)))
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
        assert_eq!(of(&["a.onnx", "b.onnx"]).model, None);
    }

    #[test]
    fn paddle_programs_find_their_parameters() {
        let m = of(&["inference.pdmodel", "inference.pdiparams", "inference.yml"]);
        assert_eq!(m.model.as_deref(), Some("inference.pdmodel"));
        assert_eq!(m.params.as_deref(), Some("inference.pdiparams"));
        let m = of(&["__model__", "__params__", "model.yml"]);
        assert_eq!(
            (m.model.as_deref(), m.params.as_deref()),
            (Some("__model__"), Some("__params__"))
        );
        let m = of(&["inference.json", "inference.pdiparams"]);
        assert_eq!(m.params.as_deref(), Some("inference.pdiparams"));
        assert_eq!(m.config, None);
    }

    #[test]
    fn ambiguous_or_missing_members_are_none() {
        let m = of(&["a.pdmodel", "b.pdmodel", "model.yml", "deploy.yaml"]);
        assert_eq!(m, Members::default());
        assert_eq!(of(&[]), Members::default());
        assert_eq!(of(&["readme.md"]), Members::default());
    }
}
