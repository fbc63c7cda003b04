//! The container and KServe files under deploy/ (Docker cannot run here): the manifests parse and
//! carry the fields KServe requires, their arguments parse as `modelseal serve` options, the
//! key comes from a mounted Secret through MODELSEAL_KEY_FILE, and the Dockerfile is multi-stage,
//! non-root, takes ONNX Runtime from its wheel and bakes in no key.

use std::path::{Path, PathBuf};

use clap::Parser;
use modelseal_serve::ServeArgs;
use serde_yaml_ng::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml(rel: &str) -> Value {
    let text = std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    let mut cur = v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => &cur[i],
            Err(_) => &cur[*p],
        };
        assert!(!cur.is_null(), "missing {}", path.join("."));
    }
    cur
}

fn str_of<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    s(v, path)
        .as_str()
        .unwrap_or_else(|| panic!("{} is not a string", path.join(".")))
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: ServeArgs,
}

fn parse_serve(args: &[String]) -> ServeArgs {
    let mut argv = vec!["serve".to_string()];
    argv.extend_from_slice(args);
    Cli::try_parse_from(&argv)
        .unwrap_or_else(|e| panic!("{argv:?} does not parse: {e}"))
        .args
}

#[test]
fn serving_runtime_has_what_kserve_requires_and_valid_arguments() {
    let rt = yaml("deploy/kserve/servingruntime.yaml");
    assert_eq!(str_of(&rt, &["apiVersion"]), "serving.kserve.io/v1alpha1");
    assert_eq!(str_of(&rt, &["kind"]), "ServingRuntime");
    assert_eq!(str_of(&rt, &["metadata", "name"]), "modelseal");
    let formats = s(&rt, &["spec", "supportedModelFormats"])
        .as_sequence()
        .unwrap();
    assert!(formats
        .iter()
        .any(|f| f["name"] == "modelseal" && f["autoSelect"] == true));
    let protocols: Vec<&str> = s(&rt, &["spec", "protocolVersions"])
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(protocols, ["v2", "grpc-v2"]);
    let c = s(&rt, &["spec", "containers", "0"]);
    assert_eq!(str_of(c, &["name"]), "kserve-container");
    assert!(!str_of(c, &["image"]).is_empty());
    // Exactly one port (KServe's rule), the REST one; probes on the protocol's health routes.
    let ports = s(c, &["ports"]).as_sequence().unwrap();
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0]["containerPort"], 8080);
    assert_eq!(
        str_of(c, &["readinessProbe", "httpGet", "path"]),
        "/v2/health/ready"
    );
    assert_eq!(
        str_of(c, &["livenessProbe", "httpGet", "path"]),
        "/v2/health/live"
    );
    assert_eq!(
        s(c, &["securityContext", "runAsNonRoot"]),
        &Value::Bool(true)
    );
    // The arguments are `modelseal serve` options, with the model name filled in by KServe.
    let args: Vec<String> = s(c, &["args"])
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().replace("{{.Name}}", "layout"))
        .collect();
    let a = parse_serve(&args);
    a.check().unwrap();
    let models = a.models().unwrap();
    assert_eq!(models[0].name, "layout");
    assert_eq!(models[0].dir, PathBuf::from("/mnt/models"));
    assert_eq!((a.http_port, a.grpc_port), (8080, 8081));
    assert_eq!(a.host, "0.0.0.0");
    assert!(a.key.is_none(), "no key on the command line");
    let env = s(c, &["env"]).as_sequence().unwrap();
    let key_file = env
        .iter()
        .find(|e| e["name"] == "MODELSEAL_KEY_FILE")
        .and_then(|e| e["value"].as_str())
        .expect("MODELSEAL_KEY_FILE is set");
    assert_eq!(key_file, "/var/run/secrets/modelseal/key");
    assert!(
        !env.iter().any(|e| e["name"] == "MODELSEAL_KEY"),
        "no key in the environment"
    );
}

fn check_isvc(rel: &str, protocol: &str) {
    let rt = yaml("deploy/kserve/servingruntime.yaml");
    let isvc = yaml(rel);
    assert_eq!(str_of(&isvc, &["apiVersion"]), "serving.kserve.io/v1beta1");
    assert_eq!(str_of(&isvc, &["kind"]), "InferenceService");
    assert!(!str_of(&isvc, &["metadata", "name"]).is_empty());
    let p = s(&isvc, &["spec", "predictor"]);
    let m = s(p, &["model"]);
    assert_eq!(
        str_of(m, &["modelFormat", "name"]),
        str_of(&rt, &["spec", "supportedModelFormats", "0", "name"])
    );
    assert_eq!(str_of(m, &["runtime"]), str_of(&rt, &["metadata", "name"]));
    assert_eq!(str_of(m, &["protocolVersion"]), protocol);
    let uri = str_of(m, &["storageUri"]);
    assert!(uri.contains("://") && !uri.ends_with('/'), "{uri}");
    // Autoscaling on concurrency.
    assert_eq!(str_of(p, &["scaleMetric"]), "concurrency");
    assert!(s(p, &["scaleTarget"]).as_u64().unwrap() > 0);
    assert!(s(p, &["maxReplicas"]).as_u64().unwrap() >= s(p, &["minReplicas"]).as_u64().unwrap());
    // Longer than the server's own shutdown deadline.
    assert!(s(p, &["terminationGracePeriodSeconds"]).as_u64().unwrap() > 25);
    // The key: a Secret volume mounted where MODELSEAL_KEY_FILE points.
    let vol = &s(p, &["volumes"]).as_sequence().unwrap()[0];
    assert!(!str_of(vol, &["secret", "secretName"]).is_empty());
    let mount = &s(m, &["volumeMounts"]).as_sequence().unwrap()[0];
    assert_eq!(mount["name"], vol["name"]);
    assert_eq!(mount["readOnly"], true);
    let env = s(&rt, &["spec", "containers", "0", "env"])
        .as_sequence()
        .unwrap();
    let key_file = env
        .iter()
        .find(|e| e["name"] == "MODELSEAL_KEY_FILE")
        .and_then(|e| e["value"].as_str())
        .unwrap();
    let item = &s(vol, &["secret", "items"]).as_sequence().unwrap()[0];
    assert_eq!(
        Path::new(str_of(mount, &["mountPath"])).join(item["path"].as_str().unwrap()),
        PathBuf::from(key_file)
    );
    if protocol == "grpc-v2" {
        let port = &s(m, &["ports"]).as_sequence().unwrap()[0];
        assert_eq!(port["name"], "h2c");
        assert_eq!(port["containerPort"], 8081);
    }
}

#[test]
fn inference_services_take_the_model_from_storage_and_the_key_from_a_secret() {
    check_isvc("deploy/kserve/inferenceservice.yaml", "v2");
    check_isvc("deploy/kserve/inferenceservice-grpc.yaml", "grpc-v2");
}

#[test]
fn dockerfile_is_multi_stage_non_root_with_onnxruntime_from_its_wheel() {
    let text = std::fs::read_to_string(root().join("deploy/Dockerfile")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    let froms = lines.iter().filter(|l| l.starts_with("FROM ")).count();
    assert!(froms >= 2, "multi-stage");
    let user = lines
        .iter()
        .rev()
        .find(|l| l.starts_with("USER "))
        .expect("a USER line");
    let who = user.trim_start_matches("USER ").split(':').next().unwrap();
    assert!(who != "0" && who != "root", "{user}");
    assert!(text.contains("onnxruntime==1.32.0"));
    assert!(text.contains("ORT_DYLIB_PATH="));
    assert!(text.contains("MODELSEAL_KEY_FILE=/var/run/secrets/modelseal/key"));
    assert!(
        !text.contains("MODELSEAL_KEY="),
        "no key baked into the image"
    );
    assert!(!lines
        .iter()
        .any(|l| l.starts_with("COPY") && l.contains("key")));
    // The entrypoint and default command are valid `modelseal serve` options.
    let json_array = |prefix: &str| -> Vec<String> {
        let l = lines.iter().find(|l| l.starts_with(prefix)).unwrap();
        serde_json::from_str(l.trim_start_matches(prefix).trim()).unwrap()
    };
    let entry = json_array("ENTRYPOINT");
    assert_eq!(&entry[1], "serve");
    let mut args = entry[2..].to_vec();
    args.extend(json_array("CMD"));
    let a = parse_serve(&args);
    assert_eq!((a.http_port, a.grpc_port), (8080, 8081));
    assert_eq!(a.models().unwrap()[0].dir, PathBuf::from("/mnt/models"));
    assert!(text.contains("EXPOSE 8080 8081"));
}

/// One `.dockerignore` segment pattern (`*`, `?` and literal characters) against a path segment.
fn segment_matches(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            segment_matches(&pattern[1..], name)
                || (!name.is_empty() && segment_matches(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => segment_matches(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => segment_matches(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// A `.dockerignore` pattern (segments, `**` for any number of them) against a whole path.
fn path_matches(pattern: &[&str], path: &[&str]) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(&"**"), _) => {
            path_matches(&pattern[1..], path)
                || (!path.is_empty() && path_matches(pattern, &path[1..]))
        }
        (Some(p), Some(n)) => {
            segment_matches(p.as_bytes(), n.as_bytes()) && path_matches(&pattern[1..], &path[1..])
        }
        _ => false,
    }
}

/// Whether Docker leaves `path` (relative to the context) out of the build context under the
/// rules of `.dockerignore`: the last pattern matching the path or one of its parent directories
/// decides, `!` patterns bringing paths back.
fn ignored(rules: &[(bool, Vec<String>)], path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let mut out = false;
    for (negated, pattern) in rules {
        let pattern: Vec<&str> = pattern.iter().map(String::as_str).collect();
        if (1..=parts.len()).any(|n| path_matches(&pattern, &parts[..n])) {
            out = !negated;
        }
    }
    out
}

fn dockerignore_rules() -> Vec<(bool, Vec<String>)> {
    let text = std::fs::read_to_string(root().join(".dockerignore"))
        .expect("a .dockerignore next to the build context's root");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (negated, p) = match l.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, l),
            };
            let segments = p
                .trim_start_matches('/')
                .trim_end_matches('/')
                .split('/')
                .filter(|s| !s.is_empty() && *s != ".")
                .map(str::to_string)
                .collect();
            (negated, segments)
        })
        .collect()
}

#[test]
fn the_dockerignore_matcher_follows_dockers_rules() {
    let rules = |lines: &[&str]| -> Vec<(bool, Vec<String>)> {
        lines
            .iter()
            .map(|l| {
                let (n, p) = l.strip_prefix('!').map_or((false, *l), |p| (true, p));
                (n, p.split('/').map(str::to_string).collect())
            })
            .collect()
    };
    let r = rules(&["target", "**/*.key", "docs/*.md", "!docs/KEEP.md"]);
    assert!(ignored(&r, "target"));
    assert!(ignored(&r, "target/debug/modelseal"));
    assert!(
        !ignored(&r, "crates/x/target/a"),
        "a root pattern stays at the root"
    );
    assert!(ignored(&r, "model.key") && ignored(&r, "a/b/model.key"));
    assert!(!ignored(&r, "model.keys"));
    assert!(ignored(&r, "docs/A.md") && !ignored(&r, "docs/KEEP.md"));
    assert!(!ignored(&r, "docs/sub/A.md"));
}

#[test]
fn the_build_context_leaves_out_build_outputs_models_environments_and_keys() {
    let rules = dockerignore_rules();
    // Large or private trees that the image build does not need.
    for path in [
        "target/release/modelseal",
        "crates/modelseal-cli/target/debug/x",
        "fuzz/target/x86_64-unknown-linux-gnu/release/decrypt",
        "fuzz/corpus/decrypt/0a1b",
        "fuzz/artifacts/crash-1",
        ".models/cls/model.onnx",
        ".venv/bin/python",
        "work-data/demo/out.json",
        "output/x.png",
        ".git/HEAD",
        "model.key",
        "secrets/model.key",
        "sealed/cls/modelseal.manifest",
        "crates/modelseal-serve/tests/python/__pycache__/conftest.cpython-311.pyc",
        "default.profraw",
    ] {
        assert!(ignored(&rules, path), "{path} is sent to the Docker build");
    }
    // Whatever .gitignore keeps out of the repository stays out of the build context too.
    let gitignore = std::fs::read_to_string(root().join(".gitignore")).unwrap();
    for line in gitignore.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let sample = line
            .trim_start_matches('/')
            .trim_end_matches('/')
            .replace('*', "sample");
        let mut samples = vec![format!("{sample}/inner"), sample.clone()];
        if !line.trim_end_matches('/').contains('/') {
            samples.push(format!("crates/modelseal/{sample}"));
        }
        for p in samples {
            if line.starts_with('/') && p.starts_with("crates/") {
                continue;
            }
            assert!(
                ignored(&rules, &p),
                ".gitignore's {line:?}: {p} is sent to the Docker build"
            );
        }
    }
    // What `cargo build --locked -p modelseal-cli` needs: the workspace and every member's files.
    for path in ["Cargo.toml", "Cargo.lock", "deploy/Dockerfile"] {
        assert!(!ignored(&rules, path), "{path} is left out of the build");
    }
    let mut stack = vec![root().join("crates")];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let rel = e
                .path()
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let ty = e.file_type().unwrap();
            let name = e.file_name();
            if ty.is_dir() && (name == "target" || name == "__pycache__") {
                continue;
            }
            if ty.is_dir() {
                stack.push(e.path());
            } else {
                files += 1;
                assert!(!ignored(&rules, &rel), "{rel} is left out of the build");
            }
        }
    }
    assert!(files > 100, "{files} files under crates/");
}
