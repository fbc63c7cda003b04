//! Command-line options of `modelseal serve` (a clap `Args` struct the `modelseal` binary
//! embeds as its `serve` subcommand), and their checks.

use std::path::PathBuf;

use clap::ArgAction;

use crate::error::ServeError;

/// Default request body limit: 64 MiB.
pub const DEFAULT_MAX_BODY: usize = 64 << 20;

/// Options of `modelseal serve`. Its `Debug` form shows `--key` as `<redacted>`.
#[derive(clap::Args, Clone)]
#[command(
    after_help = "The key is read from --key-file FILE (or MODELSEAL_KEY_FILE), else MODELSEAL_KEY, else --key (warned: argv is visible).
Every model is opened and verified before the server listens: a wrong key (exit 4), a tampered model (exit 5) or,
with a key, a directory that is not sealed (exit 6) stops the start. Each model NAME is served as NAME (the whole
pipeline: encoded images in, results out) and NAME-raw (the model's own tensors)."
)]
pub struct ServeArgs {
    /// Serve the model directory DIR under NAME (repeatable).
    #[arg(long = "model", value_name = "NAME=DIR", action = ArgAction::Append)]
    pub model: Vec<String>,
    /// Serve DIR under its directory name (repeatable).
    #[arg(long = "model-dir", alias = "model_dir", value_name = "DIR", action = ArgAction::Append)]
    pub model_dir: Vec<PathBuf>,
    /// Read the base64 key from FILE ('-' = standard input).
    #[arg(long = "key-file", alias = "key_file", value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// The base64 key itself (visible to other users; prefer --key-file or MODELSEAL_KEY).
    #[arg(long = "key", value_name = "KEY")]
    pub key: Option<String>,
    /// Address to listen on.
    #[arg(long = "host", default_value = "127.0.0.1", value_name = "ADDR")]
    pub host: String,
    /// REST (HTTP/1.1 and h2c) port; 0 picks a free one.
    #[arg(
        long = "http-port",
        alias = "http_port",
        default_value_t = 8000,
        value_name = "PORT"
    )]
    pub http_port: u16,
    /// gRPC port; 0 picks a free one.
    #[arg(
        long = "grpc-port",
        alias = "grpc_port",
        default_value_t = 8001,
        value_name = "PORT"
    )]
    pub grpc_port: u16,
    /// Inference backend.
    #[arg(long = "backend", default_value = "auto", value_parser = ["auto", "onnxruntime", "tract"])]
    pub backend: String,
    /// Intra-op threads of each model's backend (default: the backend's choice).
    #[arg(long = "thread_num", alias = "thread-num", value_name = "N")]
    pub thread_num: Option<usize>,
    /// Run on the GPU (CUDA execution provider; needs onnxruntime-gpu).
    #[arg(long = "use_gpu", alias = "use-gpu", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "false")]
    pub use_gpu: bool,
    /// GPU device id.
    #[arg(
        long = "gpu_id",
        alias = "gpu-id",
        default_value_t = 0,
        value_name = "ID"
    )]
    pub gpu_id: i32,
    /// Use TensorRT (needs onnxruntime-gpu and TensorRT).
    #[arg(long = "use_trt", alias = "use-trt", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "false")]
    pub use_trt: bool,
    /// Most images in one inference call (requests of several clients are batched together).
    #[arg(long = "max-batch-size", default_value_t = 16, value_name = "N")]
    pub max_batch_size: usize,
    /// Longest wait for more requests once one is queued, in microseconds.
    #[arg(long = "batch-delay-us", default_value_t = 500, value_name = "US")]
    pub batch_delay_us: u64,
    /// Most requests per model being decoded, queued or inferred; beyond it requests get 503.
    #[arg(long = "max-queue", default_value_t = 128, value_name = "N")]
    pub max_queue: usize,
    /// Largest request body (REST) or message (gRPC) in bytes; beyond it 413 / RESOURCE_EXHAUSTED.
    #[arg(long = "max-body-bytes", default_value_t = DEFAULT_MAX_BODY, value_name = "BYTES")]
    pub max_body_bytes: usize,
    /// Threads that decode and pre-process images (default: the available cores).
    #[arg(long = "decode-threads", value_name = "N")]
    pub decode_threads: Option<usize>,
    /// Open PaddleX v1 (`*.encrypted`) directories, whose format reuses one nonce per key.
    #[arg(long = "allow-paddlex-v1")]
    pub allow_paddlex_v1: bool,
    /// Refuse every model whose sealing id (32 hex digits, as `modelseal verify` prints it) differs.
    #[arg(
        long = "seal-id",
        alias = "seal_id",
        value_name = "HEX",
        env = "MODELSEAL_SEAL_ID"
    )]
    pub seal_id: Option<modelseal::SealId>,
    /// Log format on stderr. The level: RUST_LOG (or MODELSEAL_LOG), else the global -q/-v, else info.
    #[arg(long = "log-format", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Seconds to finish accepted requests after SIGTERM/SIGINT before exiting anyway.
    #[arg(
        long = "shutdown-timeout",
        default_value_t = 25,
        value_name = "SECONDS"
    )]
    pub shutdown_timeout: u64,
    /// Log verbosity from the `modelseal` binary's global `-v` (count): 2 debug, 3 or more trace.
    /// Not a `serve` option itself; `RUST_LOG` (or `MODELSEAL_LOG`) overrides it.
    #[arg(skip)]
    pub verbose: u8,
    /// Only errors in the log, from the `modelseal` binary's global `-q`. Not a `serve` option
    /// itself; `RUST_LOG` (or `MODELSEAL_LOG`) overrides it.
    #[arg(skip)]
    pub quiet: bool,
}

/// What `Debug` shows instead of key text.
const REDACTED: &str = "<redacted>";

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Every field by name, so that a new one cannot be left out (nor shown unredacted) unseen.
        let ServeArgs {
            model,
            model_dir,
            key_file,
            key,
            host,
            http_port,
            grpc_port,
            backend,
            thread_num,
            use_gpu,
            gpu_id,
            use_trt,
            max_batch_size,
            batch_delay_us,
            max_queue,
            max_body_bytes,
            decode_threads,
            allow_paddlex_v1,
            seal_id,
            log_format,
            shutdown_timeout,
            verbose,
            quiet,
        } = self;
        f.debug_struct("ServeArgs")
            .field("model", model)
            .field("model_dir", model_dir)
            .field("key_file", key_file)
            .field("key", &key.as_ref().map(|_| REDACTED))
            .field("host", host)
            .field("http_port", http_port)
            .field("grpc_port", grpc_port)
            .field("backend", backend)
            .field("thread_num", thread_num)
            .field("use_gpu", use_gpu)
            .field("gpu_id", gpu_id)
            .field("use_trt", use_trt)
            .field("max_batch_size", max_batch_size)
            .field("batch_delay_us", batch_delay_us)
            .field("max_queue", max_queue)
            .field("max_body_bytes", max_body_bytes)
            .field("decode_threads", decode_threads)
            .field("allow_paddlex_v1", allow_paddlex_v1)
            .field("seal_id", seal_id)
            .field("log_format", log_format)
            .field("shutdown_timeout", shutdown_timeout)
            .field("verbose", verbose)
            .field("quiet", quiet)
            .finish()
    }
}

/// A model to serve: its name and directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// Name in the protocol (`NAME` and `NAME-raw`).
    pub name: String,
    /// Directory.
    pub dir: PathBuf,
}

/// Whether `name` is usable as a model name in URLs: ASCII letters, digits, `_`, `.` and `-`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

impl ServeArgs {
    /// The models to serve, checked: names valid and distinct, `NAME-raw` not taken by another.
    pub fn models(&self) -> Result<Vec<ModelSpec>, ServeError> {
        let mut out = Vec::new();
        for m in &self.model {
            let Some((name, dir)) = m.split_once('=') else {
                return Err(ServeError::usage(format!(
                    "--model {m:?}: expected NAME=DIR"
                )));
            };
            if dir.is_empty() {
                return Err(ServeError::usage(format!("--model {m:?}: empty directory")));
            }
            out.push(ModelSpec {
                name: name.to_string(),
                dir: PathBuf::from(dir),
            });
        }
        for d in &self.model_dir {
            let name = d
                .components()
                .next_back()
                .and_then(|c| c.as_os_str().to_str())
                .unwrap_or("")
                .to_string();
            out.push(ModelSpec {
                name,
                dir: d.clone(),
            });
        }
        if out.is_empty() {
            return Err(ServeError::usage(
                "no model to serve: give --model NAME=DIR or --model-dir DIR",
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for m in &out {
            if !valid_name(&m.name) {
                return Err(ServeError::usage(format!(
                    "model name {:?} (for {}): use ASCII letters, digits, '_', '.' and '-'",
                    m.name,
                    m.dir.display()
                )));
            }
            if !names.insert(m.name.clone()) {
                return Err(ServeError::usage(format!(
                    "model name {:?} is given twice",
                    m.name
                )));
            }
        }
        for m in &out {
            let raw = format!("{}-raw", m.name);
            if names.contains(&raw) {
                return Err(ServeError::usage(format!(
                    "model name {raw:?} clashes with the raw view of model {:?}",
                    m.name
                )));
            }
        }
        Ok(out)
    }

    /// Checks the numeric options.
    pub fn check(&self) -> Result<(), ServeError> {
        if self.max_batch_size == 0 {
            return Err(ServeError::usage("--max-batch-size must be at least 1"));
        }
        if self.max_queue == 0 {
            return Err(ServeError::usage("--max-queue must be at least 1"));
        }
        if self.thread_num == Some(0) {
            return Err(ServeError::usage("--thread_num must be at least 1"));
        }
        if self.decode_threads == Some(0) {
            return Err(ServeError::usage("--decode-threads must be at least 1"));
        }
        if self.max_body_bytes < 1024 {
            return Err(ServeError::usage("--max-body-bytes must be at least 1024"));
        }
        if self.batch_delay_us > 1_000_000 {
            return Err(ServeError::usage(
                "--batch-delay-us must be at most 1000000 (one second)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn parse(a: &[&str]) -> ServeArgs {
        let mut v = vec!["serve"];
        v.extend_from_slice(a);
        Cli::try_parse_from(v).unwrap().args
    }

    #[test]
    fn bad_model_options_are_usage_errors() {
        for bad in [
            vec![],
            vec!["--model", "nodir"],
            vec!["--model", "x="],
            vec!["--model", "a b=/m"],
            vec!["--model", "=/m"],
            vec!["--model", "a=/m", "--model", "a=/n"],
            vec!["--model", "a=/m", "--model", "a-raw=/n"],
            vec!["--model", "a/b=/m"],
        ] {
            let e = parse(&bad).models().unwrap_err();
            assert_eq!(e.kind(), crate::ServeErrorKind::Usage, "{bad:?}");
        }
        for bad in [
            vec!["--model", "a=/m", "--max-batch-size", "0"],
            vec!["--model", "a=/m", "--max-queue", "0"],
            vec!["--model", "a=/m", "--thread_num", "0"],
            vec!["--model", "a=/m", "--max-body-bytes", "10"],
            vec!["--model", "a=/m", "--batch-delay-us", "5000000"],
        ] {
            assert!(parse(&bad).check().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn models_take_names_from_flags_or_directories() {
        let a = parse(&[
            "--model",
            "cls=/x/y",
            "--model-dir",
            "/data/layout/",
            "--model",
            "seg=/a=b",
        ]);
        let m = a.models().unwrap();
        assert_eq!(
            m[0],
            ModelSpec {
                name: "cls".into(),
                dir: "/x/y".into()
            }
        );
        assert_eq!(m[1].name, "seg");
        assert_eq!(m[1].dir, PathBuf::from("/a=b"));
        assert_eq!(m[2].name, "layout");
        assert!(a.check().is_ok());
        assert_eq!(a.http_port, 8000);
        assert_eq!(a.grpc_port, 8001);
        assert_eq!(a.host, "127.0.0.1");
        assert_eq!(a.max_body_bytes, 64 << 20);
    }

    #[test]
    fn debug_output_redacts_the_key() {
        let key = "c2VjcmV0LWtleS10ZXh0LW9mLTMyLWJ5dGVzLWxvbmc=";
        let a = parse(&["--model", "a=/m", "--key", key, "--key-file", "/run/k"]);
        assert_eq!(a.key.as_deref(), Some(key));
        for text in [format!("{a:?}"), format!("{a:#?}")] {
            assert!(!text.contains(key), "{text}");
            assert!(!text.contains("c2VjcmV0"), "{text}");
            assert!(text.contains("<redacted>"), "{text}");
            // The other options are still shown.
            assert!(text.contains("/run/k") && text.contains("a=/m"), "{text}");
        }
        assert!(format!("{a:?}").contains("key: Some(\"<redacted>\")"));
        let none = parse(&["--model", "a=/m"]);
        assert!(format!("{none:?}").contains("key: None"));
    }

    #[test]
    fn verbosity_is_not_a_serve_option() {
        let a = parse(&["--model", "a=/m"]);
        assert_eq!((a.verbose, a.quiet), (0, false));
        let mut v = vec!["serve", "--model", "a=/m", "--verbose"];
        assert!(Cli::try_parse_from(&v).is_err());
        v.pop();
        v.push("--quiet");
        assert!(Cli::try_parse_from(&v).is_err());
    }

    #[test]
    fn paddlex_style_boolean_flags_parse() {
        let a = parse(&[
            "--model",
            "a=/m",
            "--use_gpu",
            "--gpu_id",
            "1",
            "--use_trt=false",
        ]);
        assert!(a.use_gpu);
        assert!(!a.use_trt);
        assert_eq!(a.gpu_id, 1);
    }
}
