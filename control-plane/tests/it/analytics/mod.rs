//! Analytics: the reports read the rollups the status consumer keeps, so after events are
//! applied the overview, the daily trend, the operators report (with the median time to
//! deliver) and the dashboard show exactly what happened; CSV downloads; bad ranges name
//! their field; another organisation sees none of it.

use axum::http::StatusCode;
use semalink_protocol::contracts::DeliveryState;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;
use crate::messages::{ready, sent};
use crate::results::{apply, event};

/// Sends to `n` numbers and applies: all sent, the first `delivered` delivered (3 s after
/// sent), the rest failed.
async fn traffic(app: &TestApp, token: &str, n: usize, delivered: usize) {
    let to: Vec<String> = (0..n).map(|i| format!("+2547130{i:05}")).collect();
    let ids = sent(app, token, json!({"to": to, "text": "Report me"})).await;
    let mut events = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        events.push(event(*id, DeliveryState::Sent, 0));
        let fin = if i < delivered {
            DeliveryState::Delivered
        } else {
            DeliveryState::Failed
        };
        events.push(event(*id, fin, 3_000));
    }
    apply(&app.app_pool, &events).await;
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn the_reports_show_what_the_status_consumer_applied(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "analytics@example.com", "100").await;
    let other = ready(&app, "rival@example.com", "100").await;
    traffic(&app, &user.access, 8, 6).await;

    let r = app.get("/v1/analytics/overview", &user.access).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["sent"], 8);
    assert_eq!(r.json["delivered"], 6);
    assert_eq!(r.json["failed"], 2);
    assert_eq!(r.json["delivery_rate"], "0.75");
    assert_eq!(r.json["cost"], "4.8000");
    assert_eq!(r.json["refunded"], "1.6000");
    assert_eq!(r.json["opt_outs"], 0);

    let r = app.get("/v1/analytics/daily", &user.access).await;
    let days = r.json["data"].as_array().unwrap();
    assert_eq!(
        days.len(),
        30,
        "the default range is 30 days, zeros included"
    );
    // The events are dated 2027-01-15 by the helper, the rollup by the message's creation:
    // today.
    let today = &days[29];
    assert_eq!(today["sent"], 8, "{}", r.text);
    assert_eq!(days[0]["sent"], 0);

    let r = app.get("/v1/analytics/operators", &user.access).await;
    let ops = r.json["data"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "{}", r.text);
    assert_eq!(ops[0]["country"], "KE");
    assert_eq!(ops[0]["delivered"], 6);
    assert_eq!(ops[0]["median_seconds_to_deliver"], 3.5);
    assert_eq!(ops[0]["mean_seconds_to_deliver"], 3.0);

    let r = app
        .get("/v1/analytics/daily?format=csv", &user.access)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let mut lines = r.text.trim_start_matches('\u{feff}').lines();
    assert_eq!(lines.next(), Some("day,sent,delivered,failed,cost"));
    assert_eq!(lines.clone().count(), 30);
    assert!(
        lines.last().unwrap().ends_with(",8,6,2,4.8000"),
        "{}",
        r.text
    );

    let r = app.get("/v1/dashboard", &user.access).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["messages_sent"], 8);
    assert_eq!(r.json["delivery_rate"], "0.75");
    assert_eq!(r.json["balance"], "95.2000");
    assert_eq!(r.json["reserved"], "0.0000");
    assert_eq!(r.json["active_campaigns"], 0);
    assert_eq!(r.json["activity"].as_array().unwrap().len(), 7);

    // The other organisation sees nothing of it.
    let r = app.get("/v1/analytics/overview", &other.access).await;
    assert_eq!(r.json["sent"], 0);
    assert!(r.json["delivery_rate"].is_null());
    let r = app.get("/v1/analytics/operators", &other.access).await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 0);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn bad_ranges_and_formats_name_their_field(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "ranges@example.com", "0").await;
    for (query, field) in [
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-05-02&to=2026-05-01", "to"),
        ("from=2024-01-01&to=2026-01-01", "from"),
    ] {
        let r = app
            .get(&format!("/v1/analytics/daily?{query}"), &user.access)
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            r.text
        );
        assert_eq!(r.json["errors"][0]["field"], field, "{query}: {}", r.text);
    }
    let r = app
        .get("/v1/analytics/overview?format=csv", &user.access)
        .await;
    assert_eq!(r.json["errors"][0]["field"], "format", "{}", r.text);
    let r = app
        .get("/v1/analytics/campaigns?sort=nonsense", &user.access)
        .await;
    assert!(r.status.is_client_error(), "{}", r.text);
    let r = app
        .get("/v1/analytics/campaigns?sort=cost&order=asc", &user.access)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}
