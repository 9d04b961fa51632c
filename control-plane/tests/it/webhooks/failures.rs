//! Retries with back-off after 500s and timeouts, 410 and 24 hours of failure disabling an
//! endpoint with a notification, and an outage: everything delivered after it, in order per
//! message.

use semalink_protocol::contracts::DeliveryState;
use sqlx::PgPool;
use tokio::net::TcpListener;

use super::receiver::{Receiver, Reply};
use super::*;
use crate::results::{apply, event};

async fn endpoint_row(app: &TestApp, id: Uuid) -> (bool, Option<String>) {
    sqlx::query_as("SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn disabled_notices(app: &TestApp, account: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM notifications WHERE account_id = $1
           AND kind = 'webhook.endpoint_disabled'",
    )
    .bind(account)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn retries_with_back_off_after_500s_and_a_timeout_then_delivers(db: PgPool) {
    let app = spawn_app_with(db, quick());
    let user = app.verified("retry@example.com").await;
    let rx = Receiver::start().await;
    rx.script(&[
        Reply::Status(500),
        Reply::Status(503),
        Reply::Slow(Duration::from_secs(2)),
    ]);
    let (id, _) = endpoint(&app, &user, &rx.url("/"), &["message.delivered"]).await;
    let delivery_id = test_fire(&app, &user, id, "message.delivered").await;
    let s = sender(&app, &quick());
    until(&s, async || {
        delivery(&app, &user, &delivery_id).await["state"] == "delivered"
    })
    .await;
    let d = delivery(&app, &user, &delivery_id).await;
    let attempts = d["attempts_log"].as_array().unwrap();
    let codes: Vec<Value> = attempts.iter().map(|a| a["status_code"].clone()).collect();
    assert_eq!(
        codes,
        [json!(500), json!(503), Value::Null, json!(200)],
        "{d}"
    );
    assert_eq!(attempts[0]["response_excerpt"], "answer 500");
    assert!(
        attempts[2]["error"].as_str().unwrap().contains("timed out"),
        "{}",
        attempts[2]
    );
    assert_eq!(d["attempts"], 4);
    // Each retry waited for its back-off: attempts are strictly later than the one before.
    let times: Vec<&str> = attempts
        .iter()
        .map(|a| a["attempted_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    // The endpoint recovered: no failure state.
    let e = app
        .get(&format!("/v1/webhooks/endpoints/{id}"), &user.access)
        .await;
    assert_eq!(e.json["failing_since"], Value::Null);
    assert_eq!(e.json["enabled"], true);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn gone_disables_the_endpoint_and_tells_the_organisation(db: PgPool) {
    let app = spawn_app_with(db, quick());
    let user = app.verified("gone@example.com").await;
    let rx = Receiver::start().await;
    rx.script(&[Reply::Status(410)]);
    let (id, _) = endpoint(&app, &user, &rx.url("/"), &["message.delivered"]).await;
    let delivery_id = test_fire(&app, &user, id, "message.delivered").await;
    let s = sender(&app, &quick());
    s.run_once().await.unwrap();
    assert_eq!(endpoint_row(&app, id).await, (false, Some("gone".into())));
    assert_eq!(delivery(&app, &user, &delivery_id).await["state"], "failed");
    assert_eq!(disabled_notices(&app, user.account_id).await, 1);
    // Disabled: no test-fire, no new events; enabling clears the reason.
    let r = app
        .post(
            &format!("/v1/webhooks/endpoints/{id}/test"),
            Some(&user.access),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .call(
            axum::http::Method::PATCH,
            &format!("/v1/webhooks/endpoints/{id}"),
            Some(&user.access),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(r.json["enabled"], true, "{}", r.text);
    assert_eq!(r.json["disabled_reason"], Value::Null);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn an_endpoint_failing_for_24_hours_is_disabled(db: PgPool) {
    let app = spawn_app_with(db, quick());
    let user = app.verified("failing@example.com").await;
    let rx = Receiver::start().await;
    rx.script(&[Reply::Status(500), Reply::Status(500)]);
    let (id, _) = endpoint(&app, &user, &rx.url("/"), &["message.delivered"]).await;
    test_fire(&app, &user, id, "message.delivered").await;
    let s = sender(&app, &quick());
    s.run_once().await.unwrap();
    assert_eq!(
        endpoint_row(&app, id).await,
        (true, None),
        "one failure is not 24 hours"
    );
    // Its failures started a day ago.
    sqlx::query(
        "UPDATE webhook_endpoints SET failing_since = now() - interval '25 hours' WHERE id = $1",
    )
    .bind(id)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = now()")
        .execute(&app.db)
        .await
        .unwrap();
    s.run_once().await.unwrap();
    assert_eq!(
        endpoint_row(&app, id).await,
        (false, Some("failing".into()))
    );
    assert_eq!(disabled_notices(&app, user.account_id).await, 1);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn after_an_outage_everything_arrives_in_order_per_message(db: PgPool) {
    let app = spawn_app_with(db, quick());
    let user = app.verified("outage@example.com").await;
    // The endpoint's port, with nothing listening on it yet.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{port}/hooks");
    endpoint(&app, &user, &url, &["message.sent", "message.delivered"]).await;
    let ids = messages(&app, user.account_id, 40).await;
    let mut events = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let at = i64::try_from(i).unwrap();
        events.push(event(*id, DeliveryState::Sent, at));
        events.push(event(*id, DeliveryState::Delivered, 1000 + at));
    }
    apply(&app.app_pool, &events).await;
    let s = sender(&app, &quick());
    for _ in 0..3 {
        s.run_once().await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let failed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_attempts WHERE status_code IS NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(failed > 0, "the endpoint was down");
    // It comes back.
    let rx = Receiver::on(TcpListener::bind(port).await.unwrap(), true).await;
    until(&s, async || rx.count() >= 80).await;
    let got = rx.got();
    for id in &ids {
        let id = id.to_string();
        let of: Vec<String> = got
            .iter()
            .map(|r| r.json())
            .filter(|j| j["data"]["message_id"] == id.as_str())
            .map(|j| j["type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(of, ["message.sent", "message.delivered"], "{id}");
    }
}
