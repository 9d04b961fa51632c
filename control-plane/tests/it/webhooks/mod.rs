//! Webhooks against a real local HTTP receiver: Standard Webhooks signatures (and their
//! refusal with a wrong secret, a changed body, an old timestamp), rotation overlap, the
//! outbox written by the status consumer's transaction and surviving a crash, retries after
//! 500s and timeouts, 410 and 24 hours of failure disabling, order per message after an
//! outage, replay, test-fire, the SSRF guard at registration and at connect time.

mod callbacks;
mod delivery;
mod failures;
mod measure;
mod outage;
mod receiver;
mod ssrf;

use std::time::Duration;

use axum::http::StatusCode;
use semalink_control_plane::config::Config;
use semalink_control_plane::webhooks::sender::Sender;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// The test configuration with quick retries and short deadlines.
pub fn quick() -> Config {
    let mut config = test_config();
    config.webhooks.retry_min_ms = 20;
    config.webhooks.retry_max_ms = 80;
    config.webhooks.timeout_ms = 400;
    config.webhooks.connect_timeout_ms = 400;
    config
}

/// Registers an endpoint for `url` subscribed to `types`; its id and secret.
pub async fn endpoint(app: &TestApp, user: &User, url: &str, types: &[&str]) -> (Uuid, String) {
    let r = app
        .post(
            "/v1/webhooks/endpoints",
            Some(&user.access),
            json!({"url": url, "event_types": types, "description": "test"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    (
        r.json["endpoint"]["id"].as_str().unwrap().parse().unwrap(),
        r.json["secret"].as_str().unwrap().to_owned(),
    )
}

/// `n` queued messages of the account (inserted directly; no reservation to settle).
pub async fn messages(app: &TestApp, account: Uuid, n: usize) -> Vec<Uuid> {
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "INSERT INTO messages (id, account_id, client_reference, sender, destination, country,
                               mno_id, body, encoding, parts, unit_price, cost, status)
         SELECT u.id, $2, 'ref-' || u.n, 'AcmeCorp', '+2547' || lpad(u.n::text, 8, '0'), 'KE',
                'ke-safaricom', 'x', 'gsm7', 1, 0.8, 0.8, 'queued'
         FROM unnest($1::uuid[]) WITH ORDINALITY AS u (id, n)",
    )
    .bind(&ids)
    .bind(account)
    .execute(&app.db)
    .await
    .unwrap();
    ids
}

pub fn sender(app: &TestApp, config: &Config) -> Sender {
    Sender::new(app.app_pool.clone(), &config.webhooks, "http://app.test").unwrap()
}

/// Runs sender passes until `done` holds (at most ~10 s of passes).
pub async fn until(sender: &Sender, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..500 {
        if done().await {
            return;
        }
        sender.run_once().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the deliveries did not reach the expected state");
}

/// Deliveries not delivered yet (of every account).
pub async fn undelivered(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// A delivery with its attempts, through the API.
pub async fn delivery(app: &TestApp, user: &User, id: &str) -> Value {
    let r = app
        .get(&format!("/v1/webhooks/deliveries/{id}"), &user.access)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json
}

/// Queues a test-fire of `event_type` to the endpoint; the delivery id.
pub async fn test_fire(app: &TestApp, user: &User, endpoint: Uuid, event_type: &str) -> String {
    let r = app
        .post(
            &format!("/v1/webhooks/endpoints/{endpoint}/test"),
            Some(&user.access),
            json!({"event_type": event_type}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    r.json["id"].as_str().unwrap().to_owned()
}
