//! Messages: `POST /v1/messages` (per-recipient answers, one reservation, 402 with nothing
//! reserved, Idempotency-Key replay and conflict, API-key scopes), reading messages and their
//! timeline, and the outbox publisher on the in-process bus and on RabbitMQ (including a
//! broker that is away).

pub mod africastalking;
pub mod kannel;
mod leases;
pub mod publisher;
mod read;
mod send;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use rust_decimal::Decimal;
use semalink_control_plane::admin::permissions::{Level, Module};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::credits::{fund, staff_token};
use crate::helpers::*;
use crate::sender_ids::{decide, registered, reviewer};

/// Safaricom numbers (priced 0.80 by [`ready`]).
pub const SAFARICOM: &str = "+254712345678";
pub const SAFARICOM_2: &str = "+254722000111";

/// An organisation that can send: its approved default sender ID `AcmeCorp`, the platform
/// rate for KE at 0.80 a part, and `credits` credits.
pub async fn ready(app: &TestApp, email: &str, credits: &str) -> User {
    let user = app.verified(email).await;
    able_to_send(app, &user, credits).await;
    user
}

/// [`ready`] for an existing user with 100 credits; the sender ID's id.
pub async fn ready_to_send(app: &TestApp, user: &User) -> String {
    able_to_send(app, user, "100").await
}

async fn able_to_send(app: &TestApp, user: &User, credits: &str) -> String {
    let sender = registered(app, &user.access, "AcmeCorp").await;
    let staff = reviewer_once(app).await;
    let r = decide(app, &staff, &sender, "approve", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .call(
            Method::PUT,
            &format!("/v1/sender-ids/{sender}/default"),
            Some(&user.access),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let pricing = staff_token(app, &[(Module::Pricing, Level::Owner)]).await;
    let r = app
        .post(
            "/v1/admin/pricing/rates",
            Some(&pricing),
            json!({"scope": "platform", "country": "KE", "rate": "0.80"}),
        )
        .await;
    // A second organisation in the same test finds the rate already set for this instant.
    assert!(
        r.status == StatusCode::CREATED || r.status == StatusCode::CONFLICT,
        "{}",
        r.text
    );
    if credits != "0" {
        let reference = format!("fund-{}", user.account_id);
        fund(app, user.account_id, &reference, credits).await;
    }
    sender
}

/// The sender-ID reviewer's token (created once per test database).
async fn reviewer_once(app: &TestApp) -> String {
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM admin_staff WHERE email = 'reviewer@semalink.africa')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    if !exists {
        return reviewer(app).await;
    }
    let r = app
        .post(
            "/v1/admin/auth/login",
            None,
            json!({"email": "reviewer@semalink.africa", "password": PASSWORD}),
        )
        .await;
    r.json["access_token"].as_str().unwrap().to_owned()
}

/// `POST /v1/messages` with `credential` (a user token or an API key) and an optional
/// Idempotency-Key; `body` is sent as given.
pub async fn post_raw(app: &TestApp, credential: &str, body: &str, key: Option<&str>) -> Resp {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri("/v1/messages")
        .header("authorization", format!("Bearer {credential}"))
        .header("content-type", "application/json");
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    app.send(builder.body(Body::from(body.to_owned())).unwrap())
        .await
}

/// `POST /v1/messages` with a JSON body.
pub async fn send_json(app: &TestApp, credential: &str, body: Value, key: Option<&str>) -> Resp {
    post_raw(app, credential, &body.to_string(), key).await
}

/// Sends `text` to `to`, expecting 201; the message ids of the accepted recipients.
pub async fn sent(app: &TestApp, credential: &str, body: Value) -> Vec<Uuid> {
    let r = send_json(app, credential, body, None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["message_id"].as_str())
        .map(|s| s.parse().unwrap())
        .collect()
}

/// Balance and reserved credits.
pub async fn money(app: &TestApp, account_id: Uuid) -> (Decimal, Decimal) {
    crate::credits::balances(app, account_id).await
}

/// Rows of `table` for the account (`account_id` column).
pub async fn count(app: &TestApp, table: &str, account_id: Uuid) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {table} WHERE account_id = $1"
    )))
    .bind(account_id)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Outbox rows of the account's messages waiting to be published (not the leases the
/// in-process bus keeps of published ones: [`leased`]).
pub async fn outbox(app: &TestApp, account_id: Uuid) -> i64 {
    outbox_rows(app, account_id, false).await
}

/// Leased outbox rows of the account's messages (published on the in-process bus, no
/// status from the engine yet).
pub async fn leased(app: &TestApp, account_id: Uuid) -> i64 {
    outbox_rows(app, account_id, true).await
}

async fn outbox_rows(app: &TestApp, account_id: Uuid, leased: bool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM message_outbox o JOIN messages m ON m.id = o.message_id
         WHERE m.account_id = $1 AND (o.leased_at IS NOT NULL) = $2",
    )
    .bind(account_id)
    .bind(leased)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Statuses of the message's events, oldest first.
pub async fn timeline(app: &TestApp, id: Uuid) -> Vec<String> {
    sqlx::query_scalar("SELECT status::text FROM message_events WHERE message_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(&app.db)
        .await
        .unwrap()
}
