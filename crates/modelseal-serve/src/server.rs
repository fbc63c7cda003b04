//! Start-up and shutdown: logging, hardening, the key, opening and verifying every model, the
//! REST and gRPC listeners, and a graceful stop on SIGTERM/SIGINT that answers every accepted
//! request before the process exits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use modelseal_deploy::backend::BackendKind;
use modelseal_deploy::BackendOptions;
use tokio::net::TcpListener;

use crate::app::App;
use crate::args::ServeArgs;
use crate::batch::BatchPolicy;
use crate::error::{ServeError, ServeErrorKind};
use crate::metrics::Metrics;
use crate::model::ServedModel;
use crate::open::open_model;
use crate::{grpc, harden, rest};

/// Where the log filter comes from, in this order: `RUST_LOG`, `MODELSEAL_LOG` (its older
/// name), the `modelseal` binary's global `-q`/`-v`, else `info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogFilter {
    /// Filter directives (`tracing_subscriber::EnvFilter` syntax).
    pub directives: String,
    /// The variable they come from, if any.
    pub from_env: Option<&'static str>,
}

/// The level of the global `-q`/`-v` flags: `-q` errors only; none or `-v` info (the server's
/// own default, so that the listening addresses are logged); `-vv` debug; `-vvv` trace.
fn flag_level(verbose: u8, quiet: bool) -> &'static str {
    match (quiet, verbose) {
        (true, _) => "error",
        (false, 0 | 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    }
}

/// Picks the log filter from the environment's `RUST_LOG` and `MODELSEAL_LOG` (an empty value
/// counts as unset) and the global flags.
pub(crate) fn log_filter(
    rust_log: Option<&str>,
    modelseal_log: Option<&str>,
    verbose: u8,
    quiet: bool,
) -> LogFilter {
    let set = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    if let Some(d) = set(rust_log) {
        return LogFilter {
            directives: d,
            from_env: Some("RUST_LOG"),
        };
    }
    if let Some(d) = set(modelseal_log) {
        return LogFilter {
            directives: d,
            from_env: Some("MODELSEAL_LOG"),
        };
    }
    LogFilter {
        directives: flag_level(verbose, quiet).to_string(),
        from_env: None,
    }
}

fn init_logging(args: &ServeArgs) {
    use tracing_subscriber::EnvFilter;
    let var = |name: &str| std::env::var(name).ok();
    let chosen = log_filter(
        var("RUST_LOG").as_deref(),
        var("MODELSEAL_LOG").as_deref(),
        args.verbose,
        args.quiet,
    );
    // A filter that does not parse is reported once logging runs, and the flags' level used.
    let (filter, refused) = match EnvFilter::try_new(&chosen.directives) {
        Ok(f) => (f, None),
        Err(e) => (
            EnvFilter::new(flag_level(args.verbose, args.quiet)),
            Some(e.to_string()),
        ),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    // A second initialisation (tests starting several servers) keeps the first.
    let _ = if args.log_format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
    if let (Some(error), Some(var)) = (refused, chosen.from_env) {
        tracing::warn!(
            variable = var,
            value = %chosen.directives,
            %error,
            "ignoring the log filter, which does not parse"
        );
    }
}

fn io_error(what: String, e: std::io::Error) -> ServeError {
    ServeError::with_source(ServeErrorKind::Io, format!("{what}: {e}"), e)
}

/// The models opened and started, closed again if a later one fails.
struct Started(Vec<Arc<ServedModel>>);

impl Drop for Started {
    fn drop(&mut self) {
        for m in &self.0 {
            m.close();
        }
        for m in &self.0 {
            m.join();
        }
    }
}

/// Runs `modelseal serve` until SIGTERM or SIGINT. Every model is opened and verified before
/// the listeners open; a failure returns an error whose kind the command line maps to its
/// exit code. The key comes from the caller (the command line resolves `--key-file`,
/// `MODELSEAL_KEY_FILE`, `MODELSEAL_KEY`, `--key` and takes the variable out of the environment).
pub fn run(args: ServeArgs, key: Option<modelseal::Key>) -> Result<(), ServeError> {
    init_logging(&args);
    if let Err(e) = harden::disable_core_dumps() {
        tracing::warn!(error = %e, "cannot mark the process as not dumpable");
    }
    args.check()?;
    let specs = args.models()?;
    let policy = modelseal::OpenOptions::new()
        .key(key)
        .allow_paddlex_v1(args.allow_paddlex_v1)
        .expect_seal_id(args.seal_id);
    let kind: BackendKind = args.backend.parse().map_err(ServeError::usage)?;
    let opts = BackendOptions {
        kind,
        threads: args.thread_num,
        use_gpu: args.use_gpu || args.use_trt,
        use_trt: args.use_trt,
        gpu_id: args.gpu_id,
        ir_optim: true,
    };

    let metrics = Arc::new(Metrics::new(specs.iter().map(|s| s.name.as_str())));
    let batch = BatchPolicy {
        max_images: args.max_batch_size,
        delay: Duration::from_micros(args.batch_delay_us),
    };
    let mut started = Started(Vec::new());
    for s in &specs {
        let t = Instant::now();
        let pred = open_model(&s.dir, &policy, &opts)?;
        tracing::info!(
            model = %s.name,
            dir = %s.dir.display(),
            task = pred.task().paddlex_name(),
            backend = pred.backend_name(),
            sealed = pred.is_sealed(),
            open_ms = t.elapsed().as_millis() as u64,
            "model opened and verified"
        );
        let m = ServedModel::start(&s.name, pred, batch, args.max_queue, metrics.clone())
            .map_err(|e| io_error(format!("model {}: cannot start its thread", s.name), e))?;
        started.0.push(m);
    }
    drop(policy);

    let threads = args.decode_threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("decode-{i}"))
        .build()
        .map_err(|e| ServeError::new(ServeErrorKind::Failure, format!("worker pool: {e}")))?;
    let app = Arc::new(App::new(
        started.0.clone(),
        Arc::new(pool),
        metrics,
        args.max_body_bytes,
    ));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("serve-io")
        .build()
        .map_err(|e| io_error("cannot start the runtime".into(), e))?;
    let served = rt.block_on(serve(app.clone(), &args));
    // Every accepted request has been answered (or the deadline passed): stop the models.
    drop(started);
    rt.shutdown_timeout(Duration::from_secs(1));
    let (accepted, answered, succeeded) = app.counts();
    tracing::info!(accepted, answered, succeeded, "stopped");
    served
}

async fn bind(host: &str, port: u16, what: &str) -> Result<TcpListener, ServeError> {
    TcpListener::bind((host, port))
        .await
        .map_err(|e| io_error(format!("cannot listen for {what} on {host}:{port}"), e))
}

/// SIGTERM and SIGINT, registered before the server says it is listening: a signal that comes
/// right after the `listening` event is a graceful stop, never the default action (death).
struct Signals {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn register() -> Signals {
        use tokio::signal::unix::{signal, SignalKind};
        Signals {
            term: signal(SignalKind::terminate()).ok(),
            int: signal(SignalKind::interrupt()).ok(),
        }
    }

    async fn wait(self) {
        match (self.term, self.int) {
            (Some(mut t), Some(mut i)) => {
                tokio::select! {
                    _ = t.recv() => tracing::info!(signal = "SIGTERM", "shutting down"),
                    _ = i.recv() => tracing::info!(signal = "SIGINT", "shutting down"),
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
                tracing::info!("shutting down");
            }
        }
    }
}

async fn serve(app: Arc<App>, args: &ServeArgs) -> Result<(), ServeError> {
    use axum::serve::ListenerExt;
    let http_l = bind(&args.host, args.http_port, "REST").await?;
    let grpc_l = bind(&args.host, args.grpc_port, "gRPC").await?;
    let http_addr: SocketAddr = http_l
        .local_addr()
        .map_err(|e| io_error("REST address".into(), e))?;
    let grpc_addr: SocketAddr = grpc_l
        .local_addr()
        .map_err(|e| io_error("gRPC address".into(), e))?;
    let models: Vec<String> = app.models().map(|m| m.name.clone()).collect();
    let signals = Signals::register();
    tracing::info!(
        http = %http_addr,
        grpc = %grpc_addr,
        http_port = http_addr.port(),
        grpc_port = grpc_addr.port(),
        models = %models.join(","),
        "listening"
    );

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    let http_l = http_l.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let http = axum::serve(http_l, rest::router(app.clone()))
        .with_graceful_shutdown(stopped(stop_rx.clone()));
    let http = tokio::spawn(async move { http.await });

    let svc = grpc::GrpcInferenceServiceServer::new(grpc::Service::new(app.clone()))
        .max_decoding_message_size(args.max_body_bytes)
        .max_encoding_message_size(usize::MAX);
    let incoming = tonic::transport::server::TcpIncoming::from(grpc_l).with_nodelay(Some(true));
    let grpc = tonic::transport::Server::builder()
        .layer(tower::util::MapResponseLayer::new(
            grpc::limit_status_to_resource_exhausted::<tonic::body::Body>,
        ))
        .add_service(svc)
        .serve_with_incoming_shutdown(incoming, stopped(stop_rx));
    let grpc = tokio::spawn(grpc);

    let mut http = http;
    let mut grpc = grpc;
    // A listener that fails before any signal ends the server with its error.
    tokio::select! {
        _ = signals.wait() => {}
        r = &mut http => {
            return Err(ServeError::new(ServeErrorKind::Io, format!("REST server stopped: {r:?}")));
        }
        r = &mut grpc => {
            return Err(ServeError::new(ServeErrorKind::Io, format!("gRPC server stopped: {r:?}")));
        }
    }
    app.begin_shutdown();
    let _ = stop_tx.send(true);
    let deadline = Duration::from_secs(args.shutdown_timeout);
    let both = async {
        let _ = http.await;
        let _ = grpc.await;
    };
    if tokio::time::timeout(deadline, both).await.is_err() {
        let (accepted, answered, _) = app.counts();
        tracing::warn!(
            accepted,
            answered,
            "connections still open after {}s; exiting",
            deadline.as_secs()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_comes_first_then_modelseal_log_then_the_flags() {
        let f = |r, m, v, q| log_filter(r, m, v, q);
        let env = |d: &str, var| LogFilter {
            directives: d.into(),
            from_env: Some(var),
        };
        let flags = |d: &str| LogFilter {
            directives: d.into(),
            from_env: None,
        };
        assert_eq!(
            f(Some("debug"), Some("warn"), 0, true),
            env("debug", "RUST_LOG")
        );
        assert_eq!(
            f(None, Some("modelseal_serve=trace"), 3, false),
            env("modelseal_serve=trace", "MODELSEAL_LOG")
        );
        assert_eq!(
            f(Some(" "), Some("warn"), 0, false),
            env("warn", "MODELSEAL_LOG")
        );
        assert_eq!(f(None, None, 0, false), flags("info"));
        assert_eq!(f(None, Some(""), 1, false), flags("info"));
        assert_eq!(f(None, None, 2, false), flags("debug"));
        assert_eq!(f(None, None, 5, false), flags("trace"));
        assert_eq!(f(None, None, 0, true), flags("error"));
    }
}
