//! The REST front end (Open Inference Protocol over HTTP/1.1 and h2c): health, metadata,
//! inference with JSON or binary tensors, `/metrics`; errors as `{"error": "..."}`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;

use crate::app::{App, EXTENSIONS, SERVER_NAME};
use crate::error::ApiError;
use crate::protocol;

/// The header that gives the JSON length of a binary request or answer.
pub const HEADER_LEN: &str = "inference-header-content-length";

/// Past the body limit, up to this many bytes are read and dropped so that the client sees the
/// 413 answer instead of a reset connection; a larger body closes the connection.
const DRAIN_LIMIT: usize = 512 << 20;

fn json(status: StatusCode, v: serde_json::Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        v.to_string(),
    )
        .into_response()
}

fn error(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        e.json_body(),
    )
        .into_response()
}

/// The REST routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v2", get(server_metadata))
        .route("/v2/health/live", get(live))
        .route("/v2/health/ready", get(ready))
        .route("/v2/models/{name}", get(model_metadata))
        .route(
            "/v2/models/{name}/versions/{version}",
            get(model_metadata_v),
        )
        .route("/v2/models/{name}/ready", get(model_ready))
        .route(
            "/v2/models/{name}/versions/{version}/ready",
            get(model_ready_v),
        )
        .route("/v2/models/{name}/infer", post(infer))
        .route("/v2/models/{name}/versions/{version}/infer", post(infer_v))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .with_state(app)
}

async fn not_found() -> Response {
    error(&ApiError::not_found("no such endpoint"))
}

async fn server_metadata() -> Response {
    json(
        StatusCode::OK,
        serde_json::json!({
            "name": SERVER_NAME,
            "version": env!("CARGO_PKG_VERSION"),
            "extensions": EXTENSIONS,
        }),
    )
}

async fn live() -> Response {
    json(StatusCode::OK, serde_json::json!({ "live": true }))
}

async fn ready(State(app): State<Arc<App>>) -> Response {
    let ready = !app.shutting_down();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json(status, serde_json::json!({ "ready": ready }))
}

fn metadata(app: &App, name: &str, version: Option<&str>) -> Response {
    match app.metadata_json(name, version) {
        Ok(v) => json(StatusCode::OK, v),
        Err(e) => error(&e),
    }
}

async fn model_metadata(State(app): State<Arc<App>>, Path(name): Path<String>) -> Response {
    metadata(&app, &name, None)
}

async fn model_metadata_v(
    State(app): State<Arc<App>>,
    Path((name, version)): Path<(String, String)>,
) -> Response {
    metadata(&app, &name, Some(&version))
}

fn readiness(app: &App, name: &str, version: Option<&str>) -> Response {
    match app.model_ready(name, version) {
        Ok(true) => json(
            StatusCode::OK,
            serde_json::json!({ "name": name, "ready": true }),
        ),
        Ok(false) => json(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "name": name, "ready": false }),
        ),
        Err(e) => error(&e),
    }
}

async fn model_ready(State(app): State<Arc<App>>, Path(name): Path<String>) -> Response {
    readiness(&app, &name, None)
}

async fn model_ready_v(
    State(app): State<Arc<App>>,
    Path((name, version)): Path<(String, String)>,
) -> Response {
    readiness(&app, &name, Some(&version))
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        app.metrics.render(),
    )
        .into_response()
}

async fn infer(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    infer_any(app, name, None, headers, body).await
}

async fn infer_v(
    State(app): State<Arc<App>>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    infer_any(app, name, Some(version), headers, body).await
}

/// Reads a body of at most `limit` bytes. A larger one is read on (and dropped) up to
/// 512 MiB in all so that the answer reaches the client, then refused with 413.
pub async fn read_body(body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = body;
    let mut out = Vec::new();
    let mut seen: usize = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen <= limit {
                out.extend_from_slice(&data);
            } else {
                out = Vec::new();
                if seen > DRAIN_LIMIT {
                    break;
                }
            }
        }
    }
    if seen > limit {
        return Err(ApiError::TooLarge(format!(
            "request body over the limit of {limit} bytes (--max-body-bytes)"
        )));
    }
    Ok(out)
}

fn header_len(headers: &HeaderMap) -> Result<Option<usize>, ApiError> {
    match headers.get(HEADER_LEN) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request("Inference-Header-Content-Length is not a byte count")
            }),
    }
}

async fn infer_any(
    app: Arc<App>,
    name: String,
    version: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let parsed = async {
        if let Some(enc) = headers.get(header::CONTENT_ENCODING) {
            if enc.as_bytes() != b"identity" {
                return Err(ApiError::bad_request(format!(
                    "Content-Encoding {:?} is not supported; send the body uncompressed",
                    String::from_utf8_lossy(enc.as_bytes())
                )));
            }
        }
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.parse::<u64>().ok());
        let expects_continue = headers
            .get(header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        if declared.is_some_and(|n| n > app.max_body as u64) && expects_continue {
            // The client waits for our answer before sending: refuse without reading.
            return Err(ApiError::TooLarge(format!(
                "request body over the limit of {} bytes (--max-body-bytes)",
                app.max_body
            )));
        }
        let bytes = read_body(body, app.max_body).await?;
        let hl = header_len(&headers)?;
        protocol::parse_rest(&bytes, hl)
    }
    .await;
    let req = match parsed {
        Ok(r) => r,
        Err(e) => {
            app.count_refused("rest", &name, &e);
            return error(&e);
        }
    };
    match app.infer("rest", &name, version.as_deref(), &req).await {
        Ok(resp) => {
            let (body, json_len) = protocol::encode_rest(&resp, &req);
            let mut r = Response::new(Body::from(body));
            let h = r.headers_mut();
            match json_len {
                Some(n) => {
                    h.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/octet-stream"),
                    );
                    h.insert(HEADER_LEN, HeaderValue::from(n));
                }
                None => {
                    h.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                }
            }
            r
        }
        Err(e) => error(&e),
    }
}
