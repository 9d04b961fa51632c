//! Inbound messages: STOP opts the number out for the account that talks to it (and the next
//! send excludes it), START lifts it, replies are listed per conversation, a redelivered
//! message acts once, an address nobody talks from stays unrouted, tenant walls, and the
//! `inbound_consumer` worker on the in-process bus.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use semalink_control_plane::inbound::InboundConsumer;
use semalink_control_plane::inbound::keywords::InboundConfig;
use semalink_control_plane::inbound::store::apply_batch;
use semalink_control_plane::metrics::Metrics;
use semalink_protocol::contracts::{InboundMessage, VERSION};
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::*;
use crate::messages::{SAFARICOM, ready, send_json, sent};

const BASE: &str = "http://localhost:3000";

fn mo(from: &str, to: &str, text: &str) -> InboundMessage {
    InboundMessage {
        version: VERSION,
        id: Uuid::now_v7(),
        from: from.into(),
        to: to.into(),
        text: text.into(),
        received_at: OffsetDateTime::now_utc(),
        upstream: "celcom-1".into(),
        segments: 1,
        numbering: None,
    }
}

async fn apply(app: &TestApp, messages: &[InboundMessage]) {
    apply_batch(&app.app_pool, messages, &InboundConfig::default(), BASE)
        .await
        .unwrap();
}

/// Why sending to `to` alone is refused (`opted_out`, `suppressed`), None when accepted.
async fn send_error(app: &TestApp, token: &str, to: &str) -> Option<String> {
    let r = send_json(app, token, json!({"to": [to], "text": "Offer"}), None).await;
    if r.status == StatusCode::CREATED {
        return None;
    }
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.json["errors"][0]["field"], "to[0]", "{}", r.text);
    let message = r.json["errors"][0]["message"].as_str().unwrap();
    Some(message.split(':').next().unwrap().to_owned())
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn stop_opts_the_number_out_for_the_account_that_talks_to_it_and_start_lifts_it(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "stop@example.com", "100").await;
    let other = ready(&app, "other@example.com", "100").await;
    let contact = app
        .post(
            "/v1/contacts",
            Some(&user.access),
            json!({"phone": SAFARICOM, "first_name": "Wanjiku"}),
        )
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.text);
    let contact_id = contact.json["id"].as_str().unwrap().to_owned();
    sent(
        &app,
        &user.access,
        json!({"to": [SAFARICOM], "text": "Promo"}),
    )
    .await;

    // The upstream gives the MSISDN without `+`; the Swahili keyword in mixed case.
    apply(&app, &[mo("254712345678", "AcmeCorp", "Simama tafadhali")]).await;
    let r = app
        .get(&format!("/v1/contacts/{contact_id}"), &user.access)
        .await;
    assert_eq!(r.json["is_opted_out"], true, "{}", r.text);
    assert_eq!(
        send_error(&app, &user.access, SAFARICOM).await.as_deref(),
        Some("opted_out")
    );
    // Only the account that talks to the number: nothing changed for the other one.
    let suppressed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM suppressions WHERE account_id = $1")
            .bind(other.account_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(suppressed, 0);
    let told: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'contact.opted_out'",
    )
    .bind(user.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(told, 1);
    let r = app.get("/v1/inbound?action=opt_out", &user.access).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["data"][0]["from"], SAFARICOM);
    assert_eq!(r.json["data"][0]["keyword"], "SIMAMA");
    assert_eq!(r.json["data"][0]["contact_id"], contact_id.as_str());

    apply(&app, &[mo("+254712345678", "AcmeCorp", "START")]).await;
    let r = app
        .get(&format!("/v1/contacts/{contact_id}"), &user.access)
        .await;
    assert_eq!(r.json["is_opted_out"], false, "{}", r.text);
    assert_eq!(send_error(&app, &user.access, SAFARICOM).await, None);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn replies_are_listed_per_conversation_once_and_behind_the_tenant_wall(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "replies@example.com", "100").await;
    let other = ready(&app, "wall@example.com", "100").await;
    let ids = sent(
        &app,
        &user.access,
        json!({"to": [SAFARICOM], "text": "Hello"}),
    )
    .await;
    let reply = mo("254712345678", "AcmeCorp", "Asante, nitakuja kesho");
    // Redelivered: stored once, and no action twice.
    apply(&app, &[reply.clone(), reply.clone()]).await;
    apply(&app, std::slice::from_ref(&reply)).await;
    // An address nobody sends from: kept for staff, nobody's.
    apply(&app, &[mo("254712345678", "99999", "STOP")]).await;

    let r = app.get("/v1/inbound?from=0712345678", &user.access).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let data = r.json["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{}", r.text);
    assert_eq!(data[0]["text"], "Asante, nitakuja kesho");
    assert_eq!(data[0]["action"], "none");
    assert_eq!(data[0]["message_id"], ids[0].to_string());
    let unrouted: i64 =
        sqlx::query_scalar("SELECT count(*) FROM inbound_messages WHERE account_id IS NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(unrouted, 1);
    // The unrouted STOP opted nobody out.
    assert_eq!(send_error(&app, &user.access, SAFARICOM).await, None);

    let id = reply.id;
    let r = app.get(&format!("/v1/inbound/{id}"), &user.access).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.get(&format!("/v1/inbound/{id}"), &other.access).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get("/v1/inbound", &other.access).await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 0);
    let r = app.get("/v1/inbound?from=12", &user.access).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.json["errors"][0]["field"], "from", "{}", r.text);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn the_inbound_consumer_worker_takes_messages_from_the_in_process_bus(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "mo@example.com", "100").await;
    sent(
        &app,
        &user.access,
        json!({"to": [SAFARICOM], "text": "Hello"}),
    )
    .await;
    let bus = semalink_control_plane::bus::memory();
    let stop = CancellationToken::new();
    let consumer = InboundConsumer::new(
        app.app_pool.clone(),
        Arc::new(Metrics::new()),
        BASE.into(),
        InboundConfig::default(),
    );
    let worker = tokio::spawn(consumer.run(bus.clone(), "sms.inbound".into(), stop.clone()));
    let publisher = bus.publisher::<InboundMessage>("sms.inbound").unwrap();
    publisher
        .send(mo("254712345678", "AcmeCorp", "stop"))
        .await
        .unwrap()
        .await
        .unwrap();
    let mut opted_out = false;
    for _ in 0..200 {
        if send_error(&app, &user.access, SAFARICOM).await.as_deref() == Some("suppressed") {
            opted_out = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(opted_out, "the worker applied the STOP");
    stop.cancel();
    worker.await.unwrap();
}
