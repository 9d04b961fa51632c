//! Cross-cutting HTTP behaviour: problem documents for every failure, field-naming 400s,
//! request ids, security headers, health/ready/metrics, the OpenAPI document and Swagger UI.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn malformed_bodies_are_400_problems_naming_the_field(db: PgPool) {
    let app = spawn_app(db);
    let unknown = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": "a@b.co", "password": "x", "admin": true}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.headers["content-type"], "application/problem+json");
    assert_eq!(problem_type(&unknown), "malformed-request");
    assert!(unknown.json["detail"].as_str().unwrap().contains("admin"));

    let wrong_type = app
        .post("/v1/auth/login", None, json!({"email": 5, "password": "x"}))
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_type.json["errors"][0]["field"], "email");

    let syntax = Request::builder()
        .method("POST")
        .uri("/v1/auth/login")
        .header("content-type", "application/json")
        .body(Body::from("{"))
        .unwrap();
    assert_eq!(app.send(syntax).await.status, StatusCode::BAD_REQUEST);
    let not_json = Request::builder()
        .method("POST")
        .uri("/v1/auth/login")
        .header("content-type", "text/plain")
        .body(Body::from("hi"))
        .unwrap();
    assert_eq!(
        app.send(not_json).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let huge = "x".repeat(64 * 1024);
    let big = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": huge, "password": "x"}),
        )
        .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);

    let user = app.signup("uzo@example.com").await;
    let bad_id = app
        .call(
            Method::DELETE,
            "/v1/api-keys/not-a-uuid",
            Some(&user.access),
            None,
        )
        .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    let bad_query = app.get("/v1/accounts?limit=abc", &user.access).await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
    let bad_limit = app.get("/v1/accounts?limit=1000", &user.access).await;
    assert_eq!(bad_limit.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_limit.json["errors"][0]["field"], "limit");
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn errors_headers_and_request_ids(db: PgPool) {
    let app = spawn_app(db);
    let missing = app.call(Method::GET, "/v1/nothing-here", None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(problem_type(&missing), "not-found");
    let wrong_method = app.call(Method::DELETE, "/v1/auth/login", None, None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    let anonymous = app.call(Method::GET, "/v1/me", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers["www-authenticate"], "Bearer");
    let forged = app.get("/v1/me", "eyJhbGciOiJIUzI1NiJ9.e30.sig").await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);

    let given = Request::builder()
        .uri("/health")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let r = app.send(given).await;
    assert_eq!(r.headers["x-request-id"], "abc-123");
    let generated = app.call(Method::GET, "/health", None, None).await;
    assert_eq!(generated.headers["x-request-id"].len(), 36);
    for header in [
        "x-content-type-options",
        "x-frame-options",
        "content-security-policy",
        "referrer-policy",
        "strict-transport-security",
    ] {
        assert!(generated.headers.contains_key(header), "{header} missing");
    }
    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/v1/auth/login")
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .body(Body::empty())
        .unwrap();
    let cors = app.send(preflight).await;
    assert_eq!(
        cors.headers["access-control-allow-origin"],
        "http://localhost:5173"
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn health_ready_metrics_openapi_and_docs(db: PgPool) {
    let app = spawn_app(db);
    assert_eq!(
        app.call(Method::GET, "/health", None, None).await.json["status"],
        "ok"
    );
    assert_eq!(
        app.call(Method::GET, "/ready", None, None).await.status,
        StatusCode::OK
    );
    app.call(Method::GET, "/v1/me", None, None).await;
    let metrics = app.internal_get("/metrics").await;
    assert!(
        metrics.text.contains(
            r#"semalink_api_http_requests_total{method="GET",route="/v1/me",status="401"} 1"#
        ),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains("semalink_api_http_request_duration_seconds_bucket")
    );
    assert!(
        metrics
            .text
            .contains(r#"semalink_api_db_pool_connections{state="max"} 5"#)
    );

    let spec = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .json;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 30, "{} paths", paths.len());
    // Every operation documents at least one error response as a problem document.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("500"),
                "{method} {path} does not document 500"
            );
            let client_error = responses.keys().any(|code| code.starts_with('4'));
            let ops = ["/health", "/ready"].contains(&path.as_str());
            assert!(client_error || ops, "{method} {path} documents no 4xx");
        }
    }
    let docs = app.call(Method::GET, "/docs/", None, None).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.text.contains("swagger"));
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn missing_body_is_400_and_accounts_are_rate_limited(db: PgPool) {
    let mut config = test_config();
    config.rate_limit.api_per_second = 1;
    config.rate_limit.api_burst = 2;
    let app = spawn_app_with(db, config);
    let empty = app.call(Method::POST, "/v1/auth/login", None, None).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let user = app.signup("vera@example.com").await;
    // Burst of 2, then 1 per second: within 20 quick requests some must be refused, however
    // slowly a loaded machine runs them.
    let mut limited = None;
    for _ in 0..20 {
        let r = app.get("/v1/me", &user.access).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status, StatusCode::OK);
    }
    let limited = limited.expect("the per-account limit never applied");
    assert_eq!(problem_type(&limited), "rate-limited");
    assert!(limited.headers.contains_key("retry-after"));
    // Another account has its own bucket.
    let other = app.signup("wanjiru@example.com").await;
    assert_eq!(
        app.get("/v1/me", &other.access).await.status,
        StatusCode::OK
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_bad_cursor_is_a_400_naming_cursor_on_every_list(db: PgPool) {
    let app = spawn_app(db);
    let user = app.verified("cursor@example.com").await;
    for path in [
        "/v1/accounts",
        "/v1/account/members",
        "/v1/api-keys",
        "/v1/notifications?unread=true",
        "/v1/contacts?tag=vip",
        "/v1/contact-lists",
        "/v1/sender-ids",
        "/v1/credits/transactions",
        "/v1/auth/sessions",
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let r = app
            .get(&format!("{path}{sep}cursor=not-a-cursor"), &user.access)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text);
        assert_eq!(r.json["errors"][0]["field"], "cursor", "{path}: {}", r.text);
        // The endpoint's own parameters are still checked as before.
        let r = app
            .get(&format!("{path}{sep}colour=red"), &user.access)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text);
        // And a good page still works.
        let r = app.get(&format!("{path}{sep}limit=1"), &user.access).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
}
