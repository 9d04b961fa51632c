//! `POST /v1/messages`: one [`SubmitRequest`] (a JSON object) or a batch (a JSON array).
//!
//! Each message is answered on its own, in request order: `accepted` (queued for sending),
//! `duplicate` (its `message_id` is already known — the earlier copy is what will be sent,
//! so a client retrying after a lost response sees success), or `rejected` with the reason
//! (the invalid field, or an unsupported contract version). One bad message does not reject
//! the batch.
//!
//! Everything that can be decided without sending is decided here, so a refused message is
//! refused at once rather than failed later: the contract's field rules, a destination that
//! is a valid number of an assigned country code by the numbering plans (not only
//! E.164-shaped), and the dispatcher's own checks ([`super::Screen`]: routing hints, a text —
//! GSM-7 or UCS-2 — that splits into more parts than allowed, a pre-split part longer than
//! one SMS).
//!
//! The HTTP status is 200 when at least one message was accepted (or a duplicate), 422 when
//! every one was rejected; 415 without `Content-Type: application/json`, 400 for a body that
//! is not a JSON object or a non-empty array, 413 for a body over `http.max_body_bytes` or a
//! batch over `http.max_batch`, 503 when the engine is shutting down.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use semalink_protocol::contracts::{Contract, SubmitRequest, VERSION};
use semalink_protocol::mno;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{IngressState, problem};
use crate::tracker::Begin;

/// The answer for one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MessageResult {
    /// The message id, when the item had a readable one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<Uuid>,
    /// `accepted`, `duplicate` or `rejected`.
    pub status: ResultStatus,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Outcome of one message at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    /// Queued for sending.
    Accepted,
    /// Already known by its message id; not queued again.
    Duplicate,
    /// Not queued; see the reason.
    Rejected,
}

/// The response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SubmitResponse {
    /// One result per message, in request order.
    pub results: Vec<MessageResult>,
    /// How many were accepted (duplicates included: they will be, or were, sent once).
    pub accepted: usize,
    /// How many were rejected.
    pub rejected: usize,
}

pub(super) async fn handler(
    State(state): State<IngressState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !is_json(&headers) {
        return problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let detail = format!("the body is larger than {} bytes", state.max_body_bytes);
            return problem(StatusCode::PAYLOAD_TOO_LARGE, &detail);
        }
        Err(e) => return problem(e.status(), &e.body_text()),
    };
    let parsed = match fast_read(&body) {
        Some(parsed) => parsed,
        None => match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Array(items)) => items.into_iter().map(read).collect(),
            Ok(item @ Value::Object(_)) => vec![read(item)],
            Ok(_) => return problem(StatusCode::BAD_REQUEST, "expected a JSON object or array"),
            Err(e) => return problem(StatusCode::BAD_REQUEST, &format!("malformed JSON: {e}")),
        },
    };
    if parsed.is_empty() {
        return problem(StatusCode::BAD_REQUEST, "the batch holds no message");
    }
    if parsed.len() > state.max_batch {
        let detail = format!("at most {} messages per request", state.max_batch);
        return problem(StatusCode::PAYLOAD_TOO_LARGE, &detail);
    }
    let mut results = Vec::with_capacity(parsed.len());
    for item in parsed {
        let item = item.and_then(|request| screen(&state, request));
        let result = match item {
            Ok(request) => match queue(&state, request).await {
                Some(result) => result,
                None => {
                    return problem(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the engine is shutting down",
                    );
                }
            },
            Err((message_id, reason)) => MessageResult {
                message_id,
                status: ResultStatus::Rejected,
                reason: Some(reason),
            },
        };
        let label = match result.status {
            ResultStatus::Accepted => "accepted",
            ResultStatus::Duplicate => "duplicate",
            ResultStatus::Rejected => "rejected",
        };
        state.metrics.ingress.with_label_values(&[label]).inc();
        results.push(result);
    }
    let rejected = results
        .iter()
        .filter(|r| r.status == ResultStatus::Rejected)
        .count();
    let status = if rejected == results.len() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let response = SubmitResponse {
        accepted: results.len() - rejected,
        rejected,
        results,
    };
    (status, Json(response)).into_response()
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// The checks beyond the contract's: the destination exists in its country's numbering
/// plan, and the dispatcher could send the message as it is.
fn screen(state: &IngressState, request: SubmitRequest) -> Item {
    let message_id = Some(request.message_id);
    if let Err(reason) = mno::check_destination(&request.destination) {
        return Err((message_id, format!("destination: {reason}")));
    }
    (state.screen)(&request).map_err(|reason| (message_id, reason))?;
    Ok(request)
}

/// One item of a body: the request, or the id (if readable) and why it was rejected.
type Item = Result<SubmitRequest, (Option<Uuid>, String)>;

/// The common case: a body whose every item deserializes is parsed straight into the
/// requests (building a `serde_json::Value` tree first costs as much again, a profile showed).
/// `None` sends the body down the per-item path, which explains each bad item.
fn fast_read(body: &[u8]) -> Option<Vec<Item>> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    let requests = match first {
        b'[' => serde_json::from_slice::<Vec<SubmitRequest>>(body).ok()?,
        b'{' => vec![serde_json::from_slice::<SubmitRequest>(body).ok()?],
        _ => return None,
    };
    Some(requests.into_iter().map(check).collect())
}

/// The checks of [`read`] on an already deserialized request.
fn check(request: SubmitRequest) -> Item {
    let message_id = Some(request.message_id);
    if request.version != VERSION {
        return Err((
            message_id,
            format!("version: this engine reads contract version {VERSION}"),
        ));
    }
    Contract::validate(&request).map_err(|e| (message_id, e.to_string()))?;
    Ok(request)
}

/// Parses and validates one item; the error carries the id if one was readable.
fn read(item: Value) -> Item {
    let message_id = item
        .get("message_id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok());
    let version = item.get("version").and_then(Value::as_u64);
    if version != Some(u64::from(VERSION)) {
        return Err((
            message_id,
            format!("version: this engine reads contract version {VERSION}"),
        ));
    }
    let request: SubmitRequest =
        serde_json::from_value(item).map_err(|e| (message_id, e.to_string()))?;
    Contract::validate(&request).map_err(|e| (message_id, e.to_string()))?;
    Ok(request)
}

/// Claims the id and queues the request; `None` when the queue is closed.
async fn queue(state: &IngressState, request: SubmitRequest) -> Option<MessageResult> {
    let id = request.message_id;
    let mut result = MessageResult {
        message_id: Some(id),
        status: ResultStatus::Accepted,
        reason: None,
    };
    if state.tracker.begin(id, 1) == Begin::Duplicate {
        result.status = ResultStatus::Duplicate;
        return Some(result);
    }
    if state.queue.send(request).await.is_err() {
        state.tracker.forget(id);
        return None;
    }
    Some(result)
}
