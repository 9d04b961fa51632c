//! The audit viewer (filters, cursor pages) and its streamed CSV export.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use semalink_control_plane::admin::permissions::{Level, Module};
use serde_json::json;
use sqlx::PgPool;
use tower::ServiceExt;

use super::*;
use crate::credits::staff_token;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn audit_permission_matrix_and_filters(db: PgPool) {
    let app = spawn_app(db);
    let tokens = tokens_per_level(&app, Module::Audit).await;
    let routes = [
        route(Method::GET, "/v1/admin/audit", None, Level::Read),
        route(
            Method::GET,
            "/v1/admin/audit?module=crm&action=org.suspend&limit=5",
            None,
            Level::Read,
        ),
        route(
            Method::GET,
            "/v1/admin/audit/export?module=staff",
            None,
            Level::Read,
        ),
    ];
    check_matrix(&app, &tokens, &routes).await;

    // Two suspensions by one staff member, one by another: filters and pages.
    let a = app.verified("a@example.com").await;
    let b = app.verified("b@example.com").await;
    let first = staff_token(&app, &[(Module::Crm, Level::Admin)]).await;
    let second = staff_token(&app, &[(Module::Crm, Level::Admin)]).await;
    let first_id = staff_id(&app, &first).await;
    for (who, org) in [(&first, a.account_id), (&second, b.account_id)] {
        let r = app
            .post(
                &format!("/v1/admin/crm/orgs/{org}/suspend"),
                Some(who),
                json!({"reason": "x"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let r = app
        .post(
            &format!("/v1/admin/crm/orgs/{}/reactivate", a.account_id),
            Some(&first),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let reader = &tokens[1].1;
    let by_first = app
        .get(
            &format!("/v1/admin/audit?module=crm&staff_id={first_id}"),
            reader,
        )
        .await;
    let actions: Vec<&str> = by_first.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["org.reactivate", "org.suspend"],
        "{}",
        by_first.text
    );
    let by_target = app
        .get(
            &format!(
                "/v1/admin/audit?target_type=account&target_id={}",
                b.account_id
            ),
            reader,
        )
        .await;
    assert_eq!(by_target.json["data"].as_array().unwrap().len(), 1);
    let page = app.get("/v1/admin/audit?module=crm&limit=2", reader).await;
    assert_eq!(page.json["data"].as_array().unwrap().len(), 2);
    let cursor = page.json["next_cursor"].as_str().unwrap();
    let next = app
        .get(
            &format!("/v1/admin/audit?module=crm&limit=2&cursor={cursor}"),
            reader,
        )
        .await;
    assert_eq!(
        next.json["data"].as_array().unwrap().len(),
        1,
        "{}",
        next.text
    );
    assert!(next.json["next_cursor"].is_null());
    let future = app
        .get("/v1/admin/audit?from=2999-01-01T00:00:00Z", reader)
        .await;
    assert_eq!(future.json["data"].as_array().unwrap().len(), 0);
    let bad = app.get("/v1/admin/audit?module=nope", reader).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn exporting_100k_audit_rows_streams(db: PgPool) {
    let app = spawn_app(db);
    let reader = staff_token(&app, &[(Module::Audit, Level::Read)]).await;
    sqlx::query(
        "INSERT INTO audit_log (id, staff_id, module, action, target_type, target_id, metadata, ip)
         SELECT gen_random_uuid(), NULL, 'crm', 'bulk.test', 'account', n::text,
                jsonb_build_object('n', n, 'note', 'a, \"quoted\" value'), '10.0.0.1'
           FROM generate_series(1, 100000) n",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let request = Request::builder()
        .method(Method::GET)
        .uri("/v1/admin/audit/export?action=bulk.test")
        .header("authorization", format!("Bearer {reader}"))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    // Read it frame by frame, as a client would: many chunks, none of them the whole file.
    let mut body = response.into_body();
    let (mut frames, mut largest, mut lines, mut total) = (0usize, 0usize, 0usize, 0usize);
    while let Some(frame) = body.frame().await {
        let frame = frame.expect("the export completes");
        if let Some(data) = frame.data_ref() {
            frames += 1;
            largest = largest.max(data.len());
            total += data.len();
            lines += data.iter().filter(|b| **b == b'\n').count();
        }
    }
    assert_eq!(lines, 100_001, "a header and one line per row");
    assert!(frames > 50, "{frames} frames");
    assert!(largest < total / 10, "largest chunk {largest} of {total}");
}
