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
    metrics: Arc<Metrics>,
}

const TOKEN: &str = "test-ingress-token-0123";

/// The real screen of a one-upstream config.
fn screen() -> Screen {
    let config = crate::config::Config::from_toml(
        r#"
        [http]
        listen = "127.0.0.1:0"
        [[upstreams]]
        name = "sim"
        host = "127.0.0.1"
        port = 1
        system_id = "x"
        password = "p"
        [default_route]
        upstream = "sim"
        rate = 5.0
        "#,
        Vec::new(),
    )
    .unwrap();
    let router = crate::routing::Router::new(&config).unwrap();
    Arc::new(move |r| {
        crate::dispatch::check(&router, &config.upstreams, r).map_err(|e| e.to_string())
    })
}

fn harness(capacity: usize, max_batch: usize) -> Harness {
    let (queue, rx) = mpsc::channel(capacity);
    let ready = Arc::new(AtomicBool::new(false));
    let flag = ready.clone();
    let metrics = Arc::new(Metrics::new());
    let state = IngressState {
        queue,
        tracker: Arc::new(Tracker::new(Duration::from_secs(60))),
        metrics: metrics.clone(),
        ready: Arc::new(move || flag.load(Ordering::Relaxed)),
        screen: screen(),
        max_batch,
        max_body_bytes: 64 * 1024,
        token: Some(Arc::from(TOKEN)),
        callbacks: Arc::default(),
    };
    Harness {
        app: router(state),
        rx,
        ready,
        metrics,
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
    let auth = format!("Bearer {TOKEN}");
    call_with(
        app,
        method,
        uri,
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        body,
    )
    .await
}

async fn call_with(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (StatusCode, String) {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
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
    let (status, _) = call(&h.app, "POST", "/v1/messages", Some("[]".into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let batch = json!([message(1), message(2), message(3)]).to_string();
    let (status, text) = call(&h.app, "POST", "/v1/messages", Some(batch)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
    assert_problem(&text, 413);
    // A body over http.max_body_bytes: the same JSON problem, not axum's plain text.
    let mut huge = message(4);
    huge["client_reference"] = json!("x".repeat(70 * 1024));
    let (status, text) = call(&h.app, "POST", "/v1/messages", Some(huge.to_string())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
    assert_problem(&text, 413);
}

fn assert_problem(text: &str, status: u16) {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(v["status"], status, "{text}");
    assert!(
        v["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{text}"
    );
}

#[tokio::test]
async fn the_content_type_must_be_json() {
    let mut h = harness(16, 10);
    let auth = format!("Bearer {TOKEN}");
    let body = Some(message(1).to_string());
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut headers = vec![("authorization", auth.as_str())];
        headers.extend(content_type.map(|c| ("content-type", c)));
        let (status, text) =
            call_with(&h.app, "POST", "/v1/messages", &headers, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_problem(&text, 415);
    }
    assert!(h.rx.try_recv().is_err(), "nothing queued");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json; charset=utf-8"),
    ];
    let (status, _) = call_with(&h.app, "POST", "/v1/messages", &headers, body).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_ingress_and_metrics_need_the_token() {
    let mut h = harness(16, 10);
    let body = Some(message(1).to_string());
    for auth in [None, Some("Bearer wrong-token-0000000"), Some(TOKEN)] {
        let mut headers = vec![("content-type", "application/json")];
        headers.extend(auth.map(|a| ("authorization", a)));
        let (status, text) =
            call_with(&h.app, "POST", "/v1/messages", &headers, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_problem(&text, 401);
        let (status, _) = call_with(&h.app, "GET", "/metrics", &headers, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
    }
    assert!(h.rx.try_recv().is_err(), "nothing queued");
    assert_eq!(
        call_with(&h.app, "GET", "/health", &[], None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&h.app, "GET", "/metrics", None).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let h = harness(16, 10);
    let (status, text) = call(&h.app, "GET", "/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_problem(&text, 404);
    let (status, text) = call(&h.app, "GET", "/v1/messages", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_problem(&text, 405);
}

#[tokio::test]
async fn what_cannot_be_sent_is_refused_at_once_and_all_refused_is_422() {
    let mut h = harness(16, 10);
    let mut unassigned = message(1);
    unassigned["destination"] = json!("+999123456789");
    let mut ucs2 = message(2);
    // 256 UCS-2 parts of 67 units: over the 255-part limit, though under the text cap.
    ucs2["body"] = json!({"text": "ж".repeat(67 * 255 + 1)});
    let mut forced = message(3);
    forced["encoding"] = json!("gsm7");
    forced["body"] = json!({"text": "Привет"});
    let mut long_part = message(4);
    long_part["body"] = json!({"segments": ["a", "b".repeat(154)]});
    let mut upstream = message(5);
    upstream["route"] = json!({"upstream": "elsewhere"});
    let batch = json!([unassigned, ucs2, forced, long_part, upstream]).to_string();
    let (status, text) = call(&h.app, "POST", "/v1/messages", Some(batch)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    let r: SubmitResponse = serde_json::from_str(&text).unwrap();
    assert_eq!((r.accepted, r.rejected), (0, 5));
    let reasons: Vec<_> = r
        .results
        .iter()
        .map(|x| x.reason.clone().unwrap())
        .collect();
    for (reason, word) in reasons.iter().zip([
        "destination",
        "segments",
        "GSM",
        "segment 2",
        "route.upstream",
    ]) {
        assert!(reason.contains(word), "{word} in {reason}");
    }
    assert!(h.rx.try_recv().is_err(), "nothing queued");
    // A valid number in a national-looking form is named, not silently rewritten.
    let mut one = message(6);
    one["destination"] = json!("+2540712345678");
    let (status, _) = call(&h.app, "POST", "/v1/messages", Some(one.to_string())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
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

#[tokio::test]
async fn unmatched_receipts_are_served_with_the_token() {
    let h = harness(16, 10);
    let (status, text) = call(&h.app, "GET", "/v1/receipts/unmatched", None).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let empty: crate::unmatched::UnmatchedReport = serde_json::from_str(&text).unwrap();
    assert_eq!((empty.total, empty.recent.len()), (0, 0));
    h.metrics
        .unmatched_log
        .record(crate::unmatched::UnmatchedReceipt {
            upstream: "sim".into(),
            smsc_message_id: "0A1B".into(),
            stat: "DELIVRD".into(),
            err: Some("000".into()),
            at: time::OffsetDateTime::UNIX_EPOCH,
        });
    let (_, text) = call(&h.app, "GET", "/v1/receipts/unmatched", None).await;
    let report: crate::unmatched::UnmatchedReport = serde_json::from_str(&text).unwrap();
    assert_eq!(report.total, 1);
    assert_eq!(report.recent[0].smsc_message_id, "0A1B");
    let (status, _) = call_with(&h.app, "GET", "/v1/receipts/unmatched", &[], None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
