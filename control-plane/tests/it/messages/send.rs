//! `POST /v1/messages`: per-recipient answers, one reservation per request, all-invalid 422,
//! 402 with the shortfall and nothing written, Idempotency-Key, API-key scopes, 10,000
//! recipients in one request.

use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use super::*;
use crate::credits::d;
use crate::sender_ids::api_key;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn each_recipient_is_answered_and_the_request_reserves_once(db: PgPool) {
    let app = spawn_app(db);
    let owner = ready(&app, "owner@example.com", "100").await;
    // An opted-out contact and a suppressed number.
    let contact = app
        .post(
            "/v1/contacts",
            Some(&owner.access),
            json!({"phone": "+254711000001"}),
        )
        .await;
    let contact_id = contact.json["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/v1/contacts/{contact_id}/opt-out"),
            Some(&owner.access),
            json!({}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let r = app
        .post(
            "/v1/suppressions",
            Some(&owner.access),
            json!({"phone": "+254711000002"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let r = send_json(
        &app,
        &owner.access,
        json!({
            "to": [SAFARICOM, "12", "0712 345 678", "+254711000001", "+254711000002", "0722000111"],
            "text": "Your code is 1234",
            "client_reference": "order-7",
        }),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["accepted"], 2);
    assert_eq!(r.json["rejected"], 4);
    assert_eq!(r.json["from"], "AcmeCorp");
    assert_eq!(r.json["encoding"], "gsm7");
    assert_eq!(r.json["total_cost"], "1.6000");
    let errors: Vec<&str> = r.json["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["error"].as_str().unwrap_or("ok"))
        .collect();
    assert_eq!(
        errors,
        [
            "ok",
            "invalid_number",
            "duplicate",
            "opted_out",
            "suppressed",
            "ok"
        ]
    );
    let last = &r.json["recipients"][5];
    assert_eq!(last["destination"], SAFARICOM_2);
    assert_eq!(last["status"], "submitted");
    assert_eq!(last["parts"], 1);
    assert_eq!(last["cost"], "0.8000");

    // One reservation of the whole cost; two messages, their events and outbox rows.
    assert_eq!(money(&app, owner.account_id).await, (d("98.4"), d("1.6")));
    let reservations: Vec<(String, rust_decimal::Decimal)> = sqlx::query_as(
        "SELECT reference, reserved_delta FROM credit_transactions
         WHERE account_id = $1 AND type = 'reservation'",
    )
    .bind(owner.account_id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(reservations.len(), 1);
    assert_eq!(reservations[0].1, d("1.6"));
    assert_eq!(count(&app, "messages", owner.account_id).await, 2);
    assert_eq!(count(&app, "message_events", owner.account_id).await, 2);
    assert_eq!(outbox(&app, owner.account_id).await, 2);
    let refs: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT reservation FROM messages WHERE account_id = $1")
            .bind(owner.account_id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(refs, [reservations[0].0.clone()]);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn no_valid_recipient_or_no_sender_is_a_422_and_writes_nothing(db: PgPool) {
    let app = spawn_app(db);
    let owner = ready(&app, "owner@example.com", "10").await;
    let r = send_json(
        &app,
        &owner.access,
        json!({"to": ["12", "abc", "+1"], "text": "hi"}),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let fields = crate::sender_ids::field_errors(&r);
    assert_eq!(fields, ["to[0]", "to[1]", "to[2]"]);
    assert!(
        r.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid_number")
    );
    let r = send_json(
        &app,
        &owner.access,
        json!({"to": [SAFARICOM], "text": "hi", "from": "NotOurs"}),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(crate::sender_ids::field_errors(&r), ["from"]);
    let r = send_json(&app, &owner.access, json!({"to": [], "text": ""}), None).await;
    assert_eq!(crate::sender_ids::field_errors(&r), ["to", "text"]);
    assert_eq!(count(&app, "messages", owner.account_id).await, 0);
    assert_eq!(money(&app, owner.account_id).await, (d("10"), d("0")));
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn insufficient_credit_is_a_402_naming_the_shortfall_and_nothing_is_reserved(db: PgPool) {
    let app = spawn_app(db);
    let owner = ready(&app, "owner@example.com", "1").await;
    let ledger_rows = count(&app, "credit_transactions", owner.account_id).await;
    let r = send_json(
        &app,
        &owner.access,
        json!({"to": [SAFARICOM, SAFARICOM_2], "text": "hi"}),
        Some("k-402"),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{}", r.text);
    assert_eq!(problem_type(&r), "insufficient-credit");
    assert_eq!(r.json["shortfall"], "0.6000");
    assert!(
        r.json["detail"].as_str().unwrap().contains("1.6000"),
        "{}",
        r.text
    );
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(
        count(&app, "credit_transactions", owner.account_id).await,
        ledger_rows
    );
    assert_eq!(money(&app, owner.account_id).await, (d("1"), d("0")));
    assert_eq!(count(&app, "messages", owner.account_id).await, 0);
    assert_eq!(count(&app, "idempotency_keys", owner.account_id).await, 0);
    // After a top-up the same key sends: a failed request left no claim behind.
    fund(&app, owner.account_id, "more", "5").await;
    let r = send_json(
        &app,
        &owner.access,
        json!({"to": [SAFARICOM, SAFARICOM_2], "text": "hi"}),
        Some("k-402"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn an_idempotency_key_replays_the_same_answer_and_refuses_another_request(db: PgPool) {
    let app = spawn_app(db);
    let owner = ready(&app, "owner@example.com", "10").await;
    let first = post_raw(
        &app,
        &owner.access,
        r#"{"to": ["+254712345678"], "text": "Your code is 1234", "priority": "high"}"#,
        Some("otp-1"),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    // The same request with its keys in another order and other spacing.
    let again = post_raw(
        &app,
        &owner.access,
        r#"{"priority":"high","text":"Your code is 1234","to":["+254712345678"]}"#,
        Some("otp-1"),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.json, first.json);
    assert_eq!(count(&app, "messages", owner.account_id).await, 1);
    assert_eq!(money(&app, owner.account_id).await, (d("9.2"), d("0.8")));
    // Same key, another request: 409, nothing sent.
    let other = post_raw(
        &app,
        &owner.access,
        r#"{"to": ["+254712345678"], "text": "Your code is 9999", "priority": "high"}"#,
        Some("otp-1"),
    )
    .await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.text);
    assert!(
        other.json["detail"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key")
    );
    assert_eq!(count(&app, "messages", owner.account_id).await, 1);
    // Keys are per organisation and kept 24 hours.
    let stranger = ready(&app, "stranger@example.com", "10").await;
    let theirs = post_raw(
        &app,
        &stranger.access,
        r#"{"to": ["+254712345678"], "text": "Your code is 9999"}"#,
        Some("otp-1"),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text);
    let ttl: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - created_at)::float8 FROM idempotency_keys
         WHERE account_id = $1",
    )
    .bind(owner.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(ttl, 86_400.0);
    // An expired key is free again.
    sqlx::query("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let later = post_raw(
        &app,
        &owner.access,
        r#"{"to": ["+254712345678"], "text": "Your code is 9999"}"#,
        Some("otp-1"),
    )
    .await;
    assert_eq!(later.status, StatusCode::CREATED, "{}", later.text);
    // A bad key is named.
    let bad = post_raw(
        &app,
        &owner.access,
        r#"{"to": ["+254712345678"], "text": "x"}"#,
        Some(" "),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(crate::sender_ids::field_errors(&bad), ["Idempotency-Key"]);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn api_keys_need_messages_send(db: PgPool) {
    let app = spawn_app(db);
    let owner = ready(&app, "owner@example.com", "10").await;
    let body = json!({"to": [SAFARICOM], "text": "hi"});
    let reader = api_key(&app, &owner, json!(["contacts:read", "reports:read"])).await;
    let r = send_json(&app, &reader, body.clone(), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(count(&app, "messages", owner.account_id).await, 0);
    let sender = api_key(&app, &owner, json!(["messages:send"])).await;
    let ids = sent(&app, &sender, body).await;
    let key_id: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT api_key_id FROM messages WHERE id = $1")
            .bind(ids[0])
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(key_id.is_some(), "the message records the key that sent it");
    // Reading: a reports:read key may, a contacts-only key may not.
    assert_eq!(
        app.get(&format!("/v1/messages/{}", ids[0]), &reader)
            .await
            .status,
        StatusCode::OK
    );
    let contacts_only = api_key(&app, &owner, json!(["contacts:read"])).await;
    assert_eq!(
        app.get("/v1/messages", &contacts_only).await.status,
        StatusCode::FORBIDDEN
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn ten_thousand_recipients_in_one_request(db: PgPool) {
    let mut config = test_config();
    config.server.body_limit_bytes = 1024 * 1024;
    let app = spawn_app_with(db, config);
    let owner = ready(&app, "owner@example.com", "10000").await;
    let to: Vec<String> = (0..10_000).map(|i| format!("+2547120{i:05}")).collect();
    let r = send_json(
        &app,
        &owner.access,
        json!({"to": to, "text": "Sale today"}),
        None,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        &r.text[..r.text.len().min(500)]
    );
    assert_eq!(r.json["accepted"], 10_000);
    assert_eq!(r.json["total_cost"], "8000.0000");
    assert_eq!(count(&app, "messages", owner.account_id).await, 10_000);
    assert_eq!(outbox(&app, owner.account_id).await, 10_000);
    assert_eq!(money(&app, owner.account_id).await, (d("2000"), d("8000")));
    let too_many: Vec<String> = (0..10_001).map(|i| format!("+2547120{i:05}")).collect();
    let r = send_json(
        &app,
        &owner.access,
        json!({"to": too_many, "text": "x"}),
        None,
    )
    .await;
    assert_eq!(crate::sender_ids::field_errors(&r), ["to"]);
}
