//! The HTTP surface, driven in-process with `tower::ServiceExt::oneshot`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use semalink_protocol::contracts::SubmitRequest;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tower::ServiceExt;

use super::submit::{ResultStatus, SubmitResponse};
use super::*;

struct Harness {
    app: Router,
    rx: mpsc::Receiver<SubmitRequest>,
    ready: Arc<AtomicBool>,
}

fn harness(capacity: usize, max_batch: usize) -> Harness {
    let (queue, rx) = mpsc::channel(capacity);
    let ready = Arc::new(AtomicBool::new(false));
    let flag = ready.clone();
    let state = IngressState {
        queue,
        tracker: Arc::new(Tracker::new(Duration::from_secs(60))),
        metrics: Arc::new(Metrics::new()),
        ready: Arc::new(move || flag.load(Ordering::Relaxed)),
        max_batch,
    };
    Harness {
        app: router(state),
        rx,
        ready,
    }
}

fn message(n: u128) -> Value {
    json!({
        "version": 1,
        "message_id": uuid::Uuid::from_u128(n),
        "account_id": uuid::Uuid::from_u128(1000),
        "destination": "+254712345678",
        "sender": "SEMA",
        "body": {"text": "Hello"},
        "created_at": "2026-11-26T04:00:00Z"
    })
}

async fn call(app: &Router, method: &str, uri: &str, body: Option<String>) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map(Body::from).unwrap_or_else(Body::empty))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn post(app: &Router, body: Value) -> (StatusCode, SubmitResponse) {
    let (status, text) = call(app, "POST", "/v1/messages", Some(body.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    (status, serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn one_message_is_accepted_and_queued_once() {
    let mut h = harness(16, 10);
    let (_, r) = post(&h.app, message(1)).await;
    assert_eq!((r.accepted, r.rejected), (1, 0));
    assert_eq!(r.results[0].status, ResultStatus::Accepted);
    let queued = h.rx.recv().await.unwrap();
    assert_eq!(queued.message_id, uuid::Uuid::from_u128(1));
    // The same id again: answered duplicate, not queued a second time.
    let (_, r) = post(&h.app, message(1)).await;
    assert_eq!(r.results[0].status, ResultStatus::Duplicate);
    assert!(h.rx.try_recv().is_err());
}

#[tokio::test]
async fn a_batch_is_answered_per_message() {
    let mut h = harness(16, 10);
    let mut bad = message(3);
    bad["destination"] = json!("0712345678");
    let mut future = message(4);
    future["version"] = json!(2);
    let batch = json!([
        message(2),
        bad,
        future,
        json!({"nonsense": true}),
        message(2)
    ]);
    let (_, r) = post(&h.app, batch).await;
    let statuses: Vec<_> = r.results.iter().map(|x| x.status).collect();
    use ResultStatus::*;
    assert_eq!(
        statuses,
        vec![Accepted, Rejected, Rejected, Rejected, Duplicate]
    );
    assert!(
        r.results[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("destination")
    );
    assert_eq!(r.results[1].message_id, Some(uuid::Uuid::from_u128(3)));
    assert!(r.results[2].reason.as_deref().unwrap().contains("version"));
    assert_eq!((r.accepted, r.rejected), (2, 3));
    assert_eq!(
        h.rx.recv().await.unwrap().message_id,
        uuid::Uuid::from_u128(2)
    );
    assert!(h.rx.try_recv().is_err());
}

#[tokio::test]
async fn bad_bodies_and_oversized_batches_are_refused_whole() {
    let h = harness(16, 2);
    let (status, _) = call(&h.app, "POST", "/v1/messages", Some("{not json".into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&h.app, "POST", "/v1/messages", Some("42".into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let batch = json!([message(1), message(2), message(3)]).to_string();
    let (status, text) = call(&h.app, "POST", "/v1/messages", Some(batch)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
}

#[tokio::test]
async fn a_closed_queue_answers_503_and_frees_the_id() {
    let h = harness(16, 10);
    let Harness { app, rx, .. } = h;
    drop(rx);
    let body = message(7).to_string();
    let (status, _) = call(&app, "POST", "/v1/messages", Some(body.clone())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _) = call(&app, "POST", "/v1/messages", Some(body)).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "not a duplicate: it was never queued"
    );
}

#[tokio::test]
async fn health_ready_and_metrics() {
    let h = harness(16, 10);
    assert_eq!(call(&h.app, "GET", "/health", None).await.0, StatusCode::OK);
    assert_eq!(
        call(&h.app, "GET", "/ready", None).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    h.ready.store(true, Ordering::Relaxed);
    assert_eq!(call(&h.app, "GET", "/ready", None).await.0, StatusCode::OK);
    post(&h.app, message(9)).await;
    let (status, text) = call(&h.app, "GET", "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("semalink_engine_ingress_total{result=\"accepted\"} 1"),
        "{text}"
    );
}
