//! Cross-cutting middleware: request ids, security headers, metrics and access logging, and
//! the fallbacks that keep every error a problem document.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::request_id::{MakeRequestId, RequestId};
use uuid::Uuid;

use crate::error::Error;
use crate::state::AppState;

/// The request id header, accepted from clients and always returned.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Makes a UUIDv7 request id when the client sent none.
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeUuid;

impl MakeRequestId for MakeUuid {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// Adds the security headers every response carries. The Swagger UI page needs scripts and
/// styles, so it gets a CSP that allows its own origin.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let is_docs = request.uri().path().starts_with("/docs");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(
        headers,
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=31536000; includeSubDomains",
    );
    let csp = if is_docs {
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; frame-ancestors 'none'"
    };
    set(headers, header::CONTENT_SECURITY_POLICY, csp);
    if !is_docs {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// Records request count and latency by route and status, and writes one access-log line.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let request_id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let response = next.run(request).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    state
        .metrics
        .record(method.as_str(), &route, status, elapsed.as_secs_f64());
    if status >= 500 {
        state
            .metrics
            .record_server_error(crate::metrics::ServerError {
                request_id: request_id.clone(),
                method: method.to_string(),
                route: route.clone(),
                status,
                at: crate::identity::jwt::now_secs(),
            });
    }
    tracing::info!(
        request_id,
        method = %method,
        route,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// 404 for unknown paths, as a problem document.
pub async fn not_found() -> Error {
    Error::NotFound
}

/// 405 for known paths with the wrong method, as a problem document.
pub async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

/// Turns errors from tower layers (timeouts) into problem documents.
pub async fn handle_layer_error(err: tower::BoxError) -> Response {
    if err.is::<tower::timeout::error::Elapsed>() {
        Error::Timeout.into_response()
    } else {
        Error::internal(err).into_response()
    }
}
