//! Results: the status consumer applies the engine's status events — monotonic per message
//! and per part, settlement exactly once, rollups equal to a direct count, campaign
//! completion with its report — directly and as the `status_consumer` worker on the
//! in-process bus.

mod campaigns;
mod measure;
mod progress;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use rust_decimal::Decimal;
use semalink_control_plane::credits::store as credits_store;
use semalink_control_plane::metrics::Metrics;
use semalink_control_plane::results::consumer::StatusConsumer;
use semalink_control_plane::results::store::{Applied, ResultsConfig, apply_batch};
use semalink_protocol::contracts::{
    DeliveryState, ErrorCode, ErrorKind, SegmentRef, StatusEvent, VERSION,
};
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::credits::d;
use crate::helpers::*;
use crate::messages::{SAFARICOM, SAFARICOM_2, money, ready, sent};

const BASE: &str = "http://localhost:3000";

pub fn event(id: Uuid, state: DeliveryState, at_ms: i64) -> StatusEvent {
    StatusEvent {
        version: VERSION,
        message_id: id,
        segment: None,
        state,
        upstream: Some("celcom-1".into()),
        smsc_message_id: Some(format!("smsc-{}", id.simple())),
        error: match state {
            DeliveryState::Failed => Some(ErrorCode {
                kind: ErrorKind::Receipt,
                code: 1,
            }),
            _ => None,
        },
        error_text: match state {
            DeliveryState::Failed => Some("UNDELIV".into()),
            _ => None,
        },
        occurred_at: OffsetDateTime::UNIX_EPOCH
            + Duration::from_secs(1_800_000_000)
            + time::Duration::milliseconds(at_ms),
        done_at: None,
    }
}

fn part(id: Uuid, state: DeliveryState, index: u16, total: u16, at_ms: i64) -> StatusEvent {
    StatusEvent {
        segment: Some(SegmentRef { index, total }),
        smsc_message_id: Some(format!("smsc-{}-{index}", id.simple())),
        ..event(id, state, at_ms)
    }
}

pub async fn apply(pool: &PgPool, events: &[StatusEvent]) -> Applied {
    apply_batch(pool, events, &ResultsConfig::default(), BASE)
        .await
        .unwrap()
}

/// The message's status.
pub async fn status(app: &TestApp, id: Uuid) -> String {
    sqlx::query_scalar("SELECT status::text FROM messages WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Ledger rows the status consumer wrote for the account.
async fn settlements(app: &TestApp, account: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM credit_transactions WHERE account_id = $1 AND reference LIKE 'settle:%'",
    )
    .bind(account)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// `n` distinct Safaricom numbers.
fn numbers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("+2547120{i:05}")).collect()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn finals_settle_once_and_replays_late_and_duplicate_events_move_nothing(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "results@example.com", "100").await;
    let ids = sent(
        &app,
        &user.access,
        json!({"to": [SAFARICOM, SAFARICOM_2], "text": "Habari"}),
    )
    .await;
    assert_eq!(money(&app, user.account_id).await, (d("98.4"), d("1.6")));
    let batch = vec![
        event(ids[0], DeliveryState::Accepted, 0),
        event(ids[0], DeliveryState::Sent, 10),
        event(ids[1], DeliveryState::Sent, 11),
        event(ids[0], DeliveryState::Delivered, 2_000),
        event(ids[1], DeliveryState::Failed, 3_000),
    ];
    let a = apply(&app.app_pool, &batch).await;
    assert_eq!((a.applied, a.unchanged, a.unknown, a.finals), (4, 1, 0, 2));
    assert_eq!(status(&app, ids[0]).await, "delivered");
    assert_eq!(status(&app, ids[1]).await, "failed");
    // Delivered is charged, failed refunded: 0.80 gone, nothing held.
    assert_eq!(money(&app, user.account_id).await, (d("99.2"), d("0")));
    assert!(
        credits_store::verify(&app.db, user.account_id)
            .await
            .unwrap()
    );
    assert_eq!(settlements(&app, user.account_id).await, 2);

    // The same batch again (a redelivered envelope), a late `sent`, a contradicting final.
    let mut replay = batch.clone();
    replay.push(event(ids[0], DeliveryState::Sent, 5_000));
    replay.push(event(ids[1], DeliveryState::Delivered, 6_000));
    let a = apply(&app.app_pool, &replay).await;
    assert_eq!((a.applied, a.finals), (0, 0), "{a:?}");
    assert_eq!(a.unchanged, replay.len());
    assert_eq!(status(&app, ids[0]).await, "delivered");
    assert_eq!(status(&app, ids[1]).await, "failed");
    assert_eq!(money(&app, user.account_id).await, (d("99.2"), d("0")));
    assert_eq!(settlements(&app, user.account_id).await, 2);

    // The customer sees the timeline with times, upstream ids and the error.
    let r = app
        .get(&format!("/v1/messages/{}/events", ids[1]), &user.access)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let steps: Vec<&str> = r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["submitted", "sent", "failed"]);
    let failed = &r.json["data"][2];
    assert_eq!(failed["detail"]["error"]["code"], 1);
    assert_eq!(failed["detail"]["error_text"], "UNDELIV");
    assert_eq!(failed["detail"]["upstream"], "celcom-1");
    let r = app
        .get(&format!("/v1/messages/{}", ids[1]), &user.access)
        .await;
    assert_eq!(r.json["status"], "failed", "{}", r.text);
    assert_eq!(r.json["error_kind"], "receipt");
    assert_eq!(r.json["settled"], true);
    assert!(r.json["final_at"].is_string() && r.json["sent_at"].is_string());
    let r = app
        .get(&format!("/v1/messages/{}", ids[0]), &user.access)
        .await;
    assert_eq!(
        r.json["smsc_message_id"],
        format!("smsc-{}", ids[0].simple())
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_long_message_with_one_failed_part_is_failed_and_refunded(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "long@example.com", "10").await;
    let text = "x".repeat(200);
    let ids = sent(&app, &user.access, json!({"to": [SAFARICOM], "text": text})).await;
    let id = ids[0];
    assert_eq!(money(&app, user.account_id).await, (d("8.4"), d("1.6")));
    let a = apply(
        &app.app_pool,
        &[
            part(id, DeliveryState::Sent, 1, 2, 0),
            part(id, DeliveryState::Sent, 2, 2, 1),
            part(id, DeliveryState::Delivered, 1, 2, 1_000),
        ],
    )
    .await;
    assert_eq!(a.finals, 0);
    assert_eq!(status(&app, id).await, "sent", "one part still open");
    apply(
        &app.app_pool,
        &[part(id, DeliveryState::Expired, 2, 2, 9_000)],
    )
    .await;
    assert_eq!(status(&app, id).await, "expired");
    assert_eq!(money(&app, user.account_id).await, (d("10"), d("0")));
    let parts: Vec<(i32, String)> = sqlx::query_as(
        "SELECT part, status::text FROM message_parts WHERE message_id = $1 ORDER BY part",
    )
    .bind(id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        parts,
        [(1, "delivered".to_owned()), (2, "expired".to_owned())]
    );
    // A late receipt for the expired part changes nothing: final is final.
    let a = apply(
        &app.app_pool,
        &[part(id, DeliveryState::Delivered, 2, 2, 10_000)],
    )
    .await;
    assert_eq!(a.applied, 0);
    assert_eq!(money(&app, user.account_id).await, (d("10"), d("0")));
}

/// A deterministic shuffle (xorshift), so a failure can be replayed.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = usize::try_from(seed % (i as u64 + 1)).unwrap();
        items.swap(i, j);
    }
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_storm_of_concurrent_overlapping_batches_settles_each_message_once(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "storm@example.com", "1000").await;
    let to = numbers(300);
    let ids = sent(&app, &user.access, json!({"to": to, "text": "Storm"})).await;
    assert_eq!(ids.len(), 300);
    let mut events = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let at = i64::try_from(i).unwrap();
        events.push(event(*id, DeliveryState::Sent, at));
        let fin = match i % 4 {
            0 | 1 => DeliveryState::Delivered,
            2 => DeliveryState::Failed,
            _ => DeliveryState::Expired,
        };
        events.push(event(*id, fin, 60_000 + at));
        if i % 3 == 0 {
            // A contradicting duplicate receipt that must lose to whichever came first.
            events.push(event(*id, DeliveryState::Rejected, 60_000 + at));
        }
    }
    // Eight consumers, each with its own shuffled, overlapping share (every event is in at
    // least two shares), all at once on one account.
    let mut shares: Vec<Vec<StatusEvent>> = vec![Vec::new(); 8];
    for (i, e) in events.iter().enumerate() {
        shares[i % 8].push(e.clone());
        shares[(i + 3) % 8].push(e.clone());
    }
    let mut tasks = Vec::new();
    for (n, mut share) in shares.into_iter().enumerate() {
        shuffle(&mut share, 0x9E37_79B9 + n as u64);
        let pool = app.app_pool.clone();
        tasks.push(tokio::spawn(async move {
            // Small batches interleave more; deadlocks between them are retried by the
            // consumer, here by hand.
            for chunk in share.chunks(40) {
                loop {
                    match apply_batch(&pool, chunk, &ResultsConfig::default(), BASE).await {
                        Ok(_) => break,
                        Err(e) if format!("{e}").contains("deadlock") => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (finals, settled): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status IN ('delivered','failed','expired','rejected')),
                count(*) FILTER (WHERE settled)
         FROM messages WHERE account_id = $1",
    )
    .bind(user.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((finals, settled), (300, 300));
    let delivered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE account_id = $1 AND status = 'delivered'",
    )
    .bind(user.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let charged = d("0.8") * Decimal::from(delivered);
    assert_eq!(
        money(&app, user.account_id).await,
        (d("1000") - charged, d("0"))
    );
    assert!(
        credits_store::verify(&app.db, user.account_id)
            .await
            .unwrap()
    );
    // The rollups equal a direct count of the messages.
    let direct: (i64, i64, i64, i64, i64, Decimal) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE sent_at IS NOT NULL),
                count(*) FILTER (WHERE status = 'delivered'),
                count(*) FILTER (WHERE status = 'failed'),
                count(*) FILTER (WHERE status = 'expired'),
                count(*) FILTER (WHERE status = 'rejected'),
                coalesce(sum(cost) FILTER (WHERE status = 'delivered'), 0)
         FROM messages WHERE account_id = $1",
    )
    .bind(user.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let rolled: (i64, i64, i64, i64, i64, Decimal) = sqlx::query_as(
        "SELECT sum(sent)::int8, sum(delivered)::int8, sum(failed)::int8, sum(expired)::int8,
                sum(rejected)::int8, sum(cost)
         FROM message_rollups WHERE account_id = $1",
    )
    .bind(user.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(rolled, direct);
    assert_eq!(direct.0, 300);
    // Exactly one final step on every message's timeline (a `sent` that lost the race to
    // its receipt is not a step).
    let finals_per_message: Vec<i64> = sqlx::query_scalar(
        "SELECT count(e.id) FROM messages m LEFT JOIN message_events e
           ON e.message_id = m.id AND e.status IN ('delivered','failed','expired','rejected')
         WHERE m.account_id = $1 GROUP BY m.id",
    )
    .bind(user.account_id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(finals_per_message.len(), 300);
    assert!(finals_per_message.iter().all(|n| *n == 1));
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn events_for_unknown_messages_are_counted_and_change_nothing(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "unknown@example.com", "10").await;
    let ids = sent(&app, &user.access, json!({"to": [SAFARICOM], "text": "Hi"})).await;
    let stranger = Uuid::now_v7();
    let a = apply(
        &app.app_pool,
        &[
            event(stranger, DeliveryState::Delivered, 0),
            event(ids[0], DeliveryState::Sent, 1),
            event(Uuid::now_v7(), DeliveryState::Sent, 2),
        ],
    )
    .await;
    assert_eq!((a.applied, a.unknown), (1, 2));
    assert_eq!(status(&app, ids[0]).await, "sent");
    assert_eq!(money(&app, user.account_id).await, (d("9.2"), d("0.8")));
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn the_status_consumer_worker_applies_events_from_the_in_process_bus(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "worker@example.com", "10").await;
    let ids = sent(
        &app,
        &user.access,
        json!({"to": [SAFARICOM, SAFARICOM_2], "text": "Hi"}),
    )
    .await;
    let bus = semalink_control_plane::bus::memory();
    let metrics = Arc::new(Metrics::new());
    let stop = CancellationToken::new();
    let consumer = StatusConsumer::new(
        app.app_pool.clone(),
        metrics.clone(),
        BASE.into(),
        ResultsConfig::default(),
    );
    let worker = tokio::spawn(consumer.run(bus.clone(), "sms.status".into(), stop.clone()));
    let publisher = bus.publisher::<StatusEvent>("sms.status").unwrap();
    for e in [
        event(ids[0], DeliveryState::Sent, 0),
        event(ids[1], DeliveryState::Sent, 1),
        event(ids[0], DeliveryState::Delivered, 100),
        event(ids[1], DeliveryState::Delivered, 101),
        event(Uuid::now_v7(), DeliveryState::Delivered, 102),
    ] {
        publisher.send(e).await.unwrap().await.unwrap();
    }
    let mut done = false;
    for _ in 0..200 {
        if status(&app, ids[1]).await == "delivered" && status(&app, ids[0]).await == "delivered" {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(done, "the worker applied the events");
    assert_eq!(money(&app, user.account_id).await, (d("8.4"), d("0")));
    stop.cancel();
    worker.await.unwrap();
    let text = metrics.render(&app.app_pool);
    assert!(
        text.contains("semalink_api_status_events_total{outcome=\"applied\"} 4"),
        "{text}"
    );
    assert!(
        text.contains("semalink_api_status_events_total{outcome=\"unknown\"} 1"),
        "{text}"
    );
}
