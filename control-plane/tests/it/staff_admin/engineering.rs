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
