//! Engineering: the permission matrix and what each view answers.

use axum::http::{Method, StatusCode};
use semalink_control_plane::admin::permissions::{Level, Module};
use sqlx::PgPool;

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn engineering_views(db: PgPool) {
    let app = spawn_app(db);
    let tokens = tokens_per_level(&app, Module::Engineering).await;
    let routes = [
        route(
            Method::GET,
            "/v1/admin/engineering/queues",
            None,
            Level::Read,
        ),
        route(
            Method::GET,
            "/v1/admin/engineering/failed-messages",
            None,
            Level::Read,
        ),
        route(
            Method::GET,
            "/v1/admin/engineering/migrations",
            None,
            Level::Read,
        ),
        route(
            Method::GET,
            "/v1/admin/engineering/health",
            None,
            Level::Read,
        ),
        route(
            Method::GET,
            "/v1/admin/engineering/errors",
            None,
            Level::Read,
        ),
    ];
    check_matrix(&app, &tokens, &routes).await;
    let reader = &tokens[1].1;
    let q = app.get("/v1/admin/engineering/queues", reader).await;
    assert_eq!(q.json["bus"], "memory", "{}", q.text);
    assert_eq!(q.json["data"].as_array().unwrap().len(), 4);
    let m = app.get("/v1/admin/engineering/migrations", reader).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    let versions: Vec<i64> = m.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["version"].as_i64().unwrap())
        .collect();
    assert!(versions.contains(&80), "{versions:?}");
    let h = app.get("/v1/admin/engineering/health", reader).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text);
    assert!(h.json["api"]["requests"].as_u64().unwrap() > 0);
    assert!(h.json["api"]["p99_seconds"].is_number());
    let f = app
        .get("/v1/admin/engineering/failed-messages", reader)
        .await;
    assert_eq!(f.json["data"].as_array().unwrap().len(), 0);
    let e = app.get("/v1/admin/engineering/errors", reader).await;
    assert!(e.json["data"].is_array());
}

/// A stand-in engine answering `GET /v1/receipts/unmatched` (the engine's own contract,
/// engine/src/unmatched.rs) behind a bearer token; its base URL.
async fn fake_engine(token: &'static str) -> String {
    use axum::http::HeaderMap;
    let app = axum::Router::new().route(
        "/v1/receipts/unmatched",
        axum::routing::get(move |headers: HeaderMap| async move {
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
            if auth != Some(&format!("Bearer {token}")) {
                return (StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({})));
            }
            (
                StatusCode::OK,
                axum::Json(serde_json::json!({
                    "total": 7,
                    "recent": [
                        {"upstream": "celcom-1", "smsc_message_id": "0A1B", "stat": "DELIVRD",
                         "err": "000", "at": "2026-12-04T10:00:00Z"},
                        {"upstream": "celcom-1", "smsc_message_id": "0A1A", "stat": "UNDELIV",
                         "err": null, "at": "2026-12-04T09:00:00Z"}
                    ]
                })),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn unmatched_receipts_come_from_the_engines_endpoint(db: PgPool) {
    // Not configured: said so, nothing fails.
    let app = spawn_app(db.clone());
    let tokens = tokens_per_level(&app, Module::Engineering).await;
    let routes = [route(
        Method::GET,
        "/v1/admin/engineering/unmatched-receipts",
        None,
        Level::Read,
    )];
    check_matrix(&app, &tokens, &routes).await;
    let r = app
        .get("/v1/admin/engineering/unmatched-receipts", &tokens[1].1)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["configured"], false);
    assert_eq!(r.json["total"], 0);

    let engine = fake_engine("engine-token-123").await;
    let mut config = test_config();
    config.engineering.engine_urls = vec![engine.clone(), "http://127.0.0.1:1".into()];
    config.engineering.engine_token = Some("engine-token-123".to_owned().into());
    let app = spawn_app_with(db, config);
    let reader = crate::credits::staff_token(&app, &[(Module::Engineering, Level::Read)]).await;
    let r = app
        .get("/v1/admin/engineering/unmatched-receipts", &reader)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["configured"], true);
    assert_eq!(r.json["total"], 7);
    assert_eq!(r.json["engines"][0]["reachable"], true);
    assert_eq!(r.json["engines"][1]["reachable"], false, "{}", r.text);
    assert!(r.json["engines"][1]["error"].is_string());
    let recent = r.json["recent"].as_array().unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[0]["smsc_message_id"], "0A1B", "newest first");
    assert_eq!(recent[0]["engine"], engine.as_str());
    assert_eq!(recent[1]["stat"], "UNDELIV");
}
