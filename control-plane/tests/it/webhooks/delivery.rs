//! Signed deliveries of status events, notices and test-fires; rotation; replay; the outbox
//! across a crash.

use semalink_control_plane::webhooks::sender::store as sender_store;
use semalink_control_plane::webhooks::signing::{self, VerifyError};
use semalink_protocol::contracts::DeliveryState;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::receiver::Receiver;
use super::*;
use crate::results::{apply, event};

fn verify(secret: &str, r: &receiver::Received, body: &[u8], now: i64) -> Result<(), VerifyError> {
    signing::verify(
        secret,
        &r.header("webhook-id"),
        r.header("webhook-timestamp").parse().unwrap(),
        &r.header("webhook-signature"),
        body,
        now,
    )
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn status_events_arrive_signed_in_order_and_tampering_is_refused(db: PgPool) {
    let app = spawn_app_with(db, quick());
    let user = app.verified("hooks@example.com").await;
    let rx = Receiver::start().await;
    let (endpoint_id, secret) = endpoint(
        &app,
        &user,
        &rx.url("/hooks"),
        &["message.sent", "message.delivered", "message.failed"],
    )
    .await;
    // A second account without an endpoint: its events write no outbox rows.
    let other = app.verified("quiet@example.com").await;
    let ids = messages(&app, user.account_id, 2).await;
    let quiet = messages(&app, other.account_id, 1).await;
    apply(
        &app.app_pool,
        &[
            event(ids[0], DeliveryState::Sent, 1),
            event(ids[0], DeliveryState::Delivered, 2),
            event(ids[1], DeliveryState::Failed, 3),
            event(quiet[0], DeliveryState::Delivered, 4),
        ],
    )
    .await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        rows, 3,
        "one row per subscribed event of the account with an endpoint"
    );

    let s = sender(&app, &quick());
    until(&s, async || rx.count() >= 3).await;
    let got = rx.got();
    assert_eq!(got.len(), 3);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    for r in &got {
        verify(&secret, r, &r.body, now).unwrap();
        assert_eq!(r.header("content-type"), "application/json");
        assert_eq!(
            verify(&signing::new_secret(), r, &r.body, now),
            Err(VerifyError::Signature),
            "a wrong secret"
        );
        let mut changed = r.body.to_vec();
        changed.extend_from_slice(b" ");
        assert_eq!(
            verify(&secret, r, &changed, now),
            Err(VerifyError::Signature)
        );
        assert_eq!(
            verify(&secret, r, &r.body, now + 10 * 60),
            Err(VerifyError::Timestamp),
            "an old timestamp"
        );
    }
    let types: Vec<(String, String)> = got
        .iter()
        .map(|r| {
            let j = r.json();
            (
                j["data"]["message_id"].as_str().unwrap().to_owned(),
                j["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let first = ids[0].to_string();
    let of_first: Vec<&str> = types
        .iter()
        .filter(|(m, _)| *m == first)
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(
        of_first,
        ["message.sent", "message.delivered"],
        "in order per message"
    );
    let failed = got
        .iter()
        .map(|r| r.json())
        .find(|j| j["type"] == "message.failed")
        .unwrap();
    assert_eq!(failed["data"]["message_id"], json!(ids[1]));
    assert_eq!(failed["data"]["client_reference"], "ref-2");
    assert_eq!(failed["data"]["status"], "failed");
    assert_eq!(failed["data"]["error"]["code"], 1);
    assert_eq!(failed["data"]["parts"], 1);
    assert_eq!(failed["data"]["cost"], "0.8000");
    assert!(failed["timestamp"].as_str().unwrap().ends_with('Z'));

    // The log, through the API.
    let list = app
        .get(
            &format!("/v1/webhooks/deliveries?endpoint_id={endpoint_id}&state=delivered"),
            &user.access,
        )
        .await;
    assert_eq!(
        list.json["data"].as_array().unwrap().len(),
        3,
        "{}",
        list.text
    );
    let id = list.json["data"][0]["id"].as_str().unwrap().to_owned();
    let one = delivery(&app, &user, &id).await;
    assert_eq!(one["attempts_log"][0]["status_code"], 200);
    assert_eq!(one["attempts_log"][0]["response_excerpt"], "ok");
    assert!(got.iter().any(|r| r.header("webhook-id") == id));
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn both_secrets_sign_during_the_rotation_overlap(db: PgPool) {
    let app = spawn_app_with(db, quick());
    let user = app.verified("rotate@example.com").await;
    let rx = Receiver::start().await;
    let (id, old) = endpoint(&app, &user, &rx.url("/"), &["credit.low"]).await;
    let r = app
        .post(
            &format!("/v1/webhooks/endpoints/{id}/rotate-secret"),
            Some(&user.access),
            json!({"overlap_seconds": 3600}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let new = r.json["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old);
    test_fire(&app, &user, id, "credit.low").await;
    let s = sender(&app, &quick());
    until(&s, async || rx.count() >= 1).await;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let got = &rx.got()[0];
    assert_eq!(got.header("webhook-signature").split(' ').count(), 2);
    verify(&old, got, &got.body, now).unwrap();
    verify(&new, got, &got.body, now).unwrap();
    assert_eq!(got.json()["data"]["test"], true);
    assert_eq!(got.json()["type"], "credit.low");

    // Without overlap the previous secret stops signing at once.
    let r = app
        .post(
            &format!("/v1/webhooks/endpoints/{id}/rotate-secret"),
            Some(&user.access),
            json!({"overlap_seconds": 0}),
        )
        .await;
    let newest = r.json["secret"].as_str().unwrap().to_owned();
    test_fire(&app, &user, id, "message.delivered").await;
    until(&s, async || rx.count() >= 2).await;
    let got = &rx.got()[1];
    assert_eq!(got.header("webhook-signature").split(' ').count(), 1);
    verify(&newest, got, &got.body, now).unwrap();
    assert!(verify(&new, got, &got.body, now).is_err());
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn replay_of_one_delivery_and_of_a_range(db: PgPool) {
    let app = spawn_app_with(db, quick());
    let user = app.verified("replay@example.com").await;
    let rx = Receiver::start().await;
    let (id, _) = endpoint(&app, &user, &rx.url("/"), &["message.delivered"]).await;
    let first = test_fire(&app, &user, id, "message.delivered").await;
    test_fire(&app, &user, id, "campaign.completed").await;
    let s = sender(&app, &quick());
    until(&s, async || rx.count() >= 2).await;
    let r = app
        .post(
            &format!("/v1/webhooks/deliveries/{first}/replay"),
            Some(&user.access),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["state"], "pending");
    until(&s, async || rx.count() >= 3).await;
    let got = rx.got();
    assert_eq!(
        got[2].header("webhook-id"),
        first,
        "a replay keeps the webhook-id"
    );
    // The two test-fires went out concurrently: find the first one's original.
    let original = got[..2]
        .iter()
        .find(|r| r.header("webhook-id") == first)
        .unwrap();
    assert_eq!(got[2].body, original.body);
    assert_eq!(
        delivery(&app, &user, &first).await["attempts_log"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let r = app
        .post(
            &format!("/v1/webhooks/endpoints/{id}/replay"),
            Some(&user.access),
            json!({}),
        )
        .await;
    assert_eq!(r.json["replayed"], 2, "{}", r.text);
    until(&s, async || rx.count() >= 5).await;
    let r = app
        .post(
            &format!("/v1/webhooks/endpoints/{id}/replay"),
            Some(&user.access),
            json!({"only_failed": true}),
        )
        .await;
    assert_eq!(r.json["replayed"], 0);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn the_outbox_is_written_with_the_event_and_survives_a_crash(db: PgPool) {
    let app = spawn_app_with(db, quick());
    let user = app.verified("crash@example.com").await;
    let rx = Receiver::start().await;
    endpoint(&app, &user, &rx.url("/"), &["message.delivered"]).await;
    let ids = messages(&app, user.account_id, 3).await;
    // Applied in a transaction that does not commit: no event, no outbox row.
    let mut tx = app.app_pool.begin().await.unwrap();
    semalink_control_plane::results::store::apply_on(
        &mut tx,
        &[event(ids[0], DeliveryState::Delivered, 1)],
        &Default::default(),
        "http://app.test",
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    let rows = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    assert_eq!(rows().await, 0);
    apply(
        &app.app_pool,
        &ids.iter()
            .map(|id| event(*id, DeliveryState::Delivered, 1))
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(rows().await, 3);
    // A sender claims them and dies before recording anything.
    let claimed = sender_store::claim(&app.app_pool, 10, 60.0).await.unwrap();
    assert_eq!(claimed.len(), 3);
    let s = sender(&app, &quick());
    assert_eq!(s.run_once().await.unwrap(), 0, "leased to the dead sender");
    // Its lease runs out (moved to the past here instead of waiting a minute).
    sqlx::query("UPDATE webhook_deliveries SET locked_until = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    until(&s, async || rx.count() >= 3).await;
    assert_eq!(rows().await, 0);
    let mut got: Vec<String> = rx
        .got()
        .iter()
        .map(|r| r.json()["data"]["message_id"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    let mut want: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    want.sort();
    assert_eq!(got, want);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn inbound_replies_and_opt_outs_are_events(db: PgPool) {
    let app = spawn_app_with(db, quick());
    let user = app.verified("inbound@example.com").await;
    let rx = Receiver::start().await;
    endpoint(
        &app,
        &user,
        &rx.url("/"),
        &["inbound.received", "contact.opted_out"],
    )
    .await;
    messages(&app, user.account_id, 1).await;
    let stop = semalink_protocol::contracts::InboundMessage {
        version: semalink_protocol::contracts::VERSION,
        id: Uuid::now_v7(),
        from: "254700000001".into(),
        to: "AcmeCorp".into(),
        text: "STOP".into(),
        received_at: OffsetDateTime::now_utc(),
        upstream: "celcom-1".into(),
        segments: 1,
        numbering: None,
    };
    semalink_control_plane::inbound::store::apply_batch(
        &app.app_pool,
        std::slice::from_ref(&stop),
        &Default::default(),
        "http://app.test",
    )
    .await
    .unwrap();
    let s = sender(&app, &quick());
    until(&s, async || rx.count() >= 2).await;
    let mut types: Vec<String> = rx
        .got()
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    types.sort();
    assert_eq!(types, ["contact.opted_out", "inbound.received"]);
    let inbound = rx
        .got()
        .iter()
        .map(|r| r.json())
        .find(|j| j["type"] == "inbound.received")
        .unwrap();
    assert_eq!(inbound["data"]["text"], "STOP");
    assert_eq!(inbound["data"]["action"], "opt_out");
    assert_eq!(inbound["data"]["from"], "+254700000001");
}
