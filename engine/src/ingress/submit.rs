//! `POST /v1/messages`: one [`SubmitRequest`] (a JSON object) or a batch (a JSON array).
//!
//! Each message is answered on its own, in request order: `accepted` (queued for sending),
//! `duplicate` (its `message_id` is already known — the earlier copy is what will be sent,
//! so a client retrying after a lost response sees success), or `rejected` with the reason
//! (the invalid field, or an unsupported contract version). One bad message does not reject
//! the batch. The HTTP status is 200 when the body was read; 400 for a body that is not a
//! JSON object or array, 413 for a batch over `http.max_batch`, 503 when the engine is
//! shutting down.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use semalink_protocol::contracts::{Contract, SubmitRequest, VERSION};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::IngressState;
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
    body: axum::body::Bytes,
) -> Response {
    let parsed = match fast_read(&body) {
        Some(parsed) => parsed,
        None => match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Array(items)) => items.into_iter().map(read).collect(),
            Ok(item @ Value::Object(_)) => vec![read(item)],
            Ok(_) => return problem(StatusCode::BAD_REQUEST, "expected a JSON object or array"),
            Err(e) => return problem(StatusCode::BAD_REQUEST, &format!("malformed JSON: {e}")),
        },
    };
    if parsed.len() > state.max_batch {
        let detail = format!("at most {} messages per request", state.max_batch);
        return problem(StatusCode::PAYLOAD_TOO_LARGE, &detail);
    }
    let mut results = Vec::with_capacity(parsed.len());
    for item in parsed {
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
    let response = SubmitResponse {
        accepted: results.len() - rejected,
        rejected,
        results,
    };
    (StatusCode::OK, Json(response)).into_response()
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

fn problem(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({ "status": status.as_u16(), "detail": detail });
    (status, Json(body)).into_response()
}
