//! Results: the status consumer applies the engine's status events — monotonic per message
//! and per part, settlement exactly once, rollups equal to a direct count, campaign
//! completion with its report — directly and as the `status_consumer` worker on the
//! in-process bus.

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

async fn status(app: &TestApp, id: Uuid) -> String {
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
async fn a_campaign_completes_with_its_report_and_its_owner_is_told(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "campaign@example.com", "10").await;
    let ids = sent(
        &app,
        &user.access,
        json!({"to": numbers(3), "text": "Promo"}),
    )
    .await;
    let campaign = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO campaigns (id, account_id, name, message, status, total_recipients,
                                dispatched_count, reserved_cost)
         VALUES ($1, $2, 'December promo', 'Promo', 'sending', 3, 3, 2.4)",
    )
    .bind(campaign)
    .bind(user.account_id)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("UPDATE messages SET campaign_id = $1 WHERE id = ANY($2)")
        .bind(campaign)
        .bind(&ids)
        .execute(&app.db)
        .await
        .unwrap();
    let a = apply(
        &app.app_pool,
        &[
            event(ids[0], DeliveryState::Delivered, 1_000),
            event(ids[1], DeliveryState::Delivered, 2_000),
        ],
    )
    .await;
    assert!(a.completed.is_empty(), "one message still open");
    let a = apply(
        &app.app_pool,
        &[event(ids[2], DeliveryState::Failed, 3_000)],
    )
    .await;
    assert_eq!(a.completed, [campaign]);
    let (status, report): (String, serde_json::Value) =
        sqlx::query_as("SELECT status::text, report FROM campaigns WHERE id = $1")
            .bind(campaign)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(status, "completed");
    assert_eq!(report["recipients"], 3);
    assert_eq!(report["delivered"], 2);
    assert_eq!(report["failed"], 1);
    assert_eq!(report["cost"], "1.6000");
    assert_eq!(report["delivery_rate"].as_f64(), Some(0.6667));
    let ops = report["by_operator"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "{report}");
    assert_eq!(ops[0]["country"], "KE");
    assert_eq!(ops[0]["delivered"], 2);
    let (sent_count, delivered, failed): (i32, i32, i32) = sqlx::query_as(
        "SELECT sent_count, delivered_count, failed_count FROM campaigns WHERE id = $1",
    )
    .bind(campaign)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((sent_count, delivered, failed), (3, 2, 1));
    let told: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'campaign.completed'
           AND data->>'campaign_id' = $2",
    )
    .bind(user.account_id)
    .bind(campaign.to_string())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(told, 1);
    // Replaying the last event completes nothing twice.
    let a = apply(
        &app.app_pool,
        &[event(ids[2], DeliveryState::Failed, 3_000)],
    )
    .await;
    assert!(a.completed.is_empty());
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

/// Measurement, not a check (ignored; run in release):
/// `cargo test --release -p semalink-control-plane --test it -- --ignored --nocapture results::measure`.
/// 100,000 messages (half of them a campaign's) get `sent` and a final receipt — 200,000
/// events applied and settled in batches of 5,000 as the consumer takes them — then the
/// overview is asked over a year of rollups standing for 10,000,000 messages. Two appliers
/// take the batches, as the two status consumers of the default `[results] consumers` do.
#[ignore = "measurement; run in release with --ignored --nocapture"]
#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn measure_status_consumer_throughput_and_overview_latency(db: PgPool) {
    use semalink_control_plane::credits::ledger;
    const N: i64 = 100_000;
    let app = spawn_app(db);
    let user = ready(&app, "measure@example.com", "1000000").await;
    let mut conn = app.app_pool.acquire().await.unwrap();
    ledger::reserve(
        &mut conn,
        &crate::credits::entry(user.account_id, "measure"),
        d("0.8") * Decimal::from(N),
    )
    .await
    .unwrap();
    drop(conn);
    let campaign = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO campaigns (id, account_id, name, message, status, total_recipients,
                                dispatched_count)
         VALUES ($1, $2, 'Measure', 'x', 'sending', $3, $3)",
    )
    .bind(campaign)
    .bind(user.account_id)
    .bind(i32::try_from(N / 2).unwrap())
    .execute(&app.db)
    .await
    .unwrap();
    let ids: Vec<Uuid> = (0..N).map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "INSERT INTO messages (id, account_id, campaign_id, sender, destination, country, mno_id,
                               body, encoding, parts, unit_price, cost, status, reservation)
         SELECT u.id, $2, CASE WHEN u.n % 2 = 0 THEN $3 END, 'AcmeCorp',
                '+2547' || lpad(u.n::text, 8, '0'), 'KE',
                CASE WHEN u.n % 3 = 0 THEN 'ke-airtel' ELSE 'ke-safaricom' END,
                'x', 'gsm7', 1, 0.8, 0.8, 'queued', 'measure'
         FROM unnest($1::uuid[]) WITH ORDINALITY AS u (id, n)",
    )
    .bind(&ids)
    .bind(user.account_id)
    .bind(campaign)
    .execute(&app.db)
    .await
    .unwrap();
    let mut events = Vec::with_capacity(ids.len() * 2);
    for (i, id) in ids.iter().enumerate() {
        let at = i64::try_from(i).unwrap();
        events.push(event(*id, DeliveryState::Sent, at));
    }
    for (i, id) in ids.iter().enumerate() {
        let at = i64::try_from(i).unwrap();
        let fin = if i % 10 == 0 {
            DeliveryState::Failed
        } else {
            DeliveryState::Delivered
        };
        events.push(event(*id, fin, 5_000 + at));
    }
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    let chunks: Vec<Vec<StatusEvent>> = events.chunks(5_000).map(<[StatusEvent]>::to_vec).collect();
    let shared = std::sync::Arc::new(std::sync::Mutex::new(chunks.into_iter()));
    for _ in 0..2 {
        let pool = app.app_pool.clone();
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let next = shared.lock().unwrap().next();
                let Some(chunk) = next else { break };
                loop {
                    match apply_batch(&pool, &chunk, &ResultsConfig::default(), BASE).await {
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
    let took = started.elapsed();
    let per_s = events.len() as f64 / took.as_secs_f64();
    println!(
        "status consumer (2 appliers): {} events ({} messages settled) in {:.2} s = {:.0} events/s",
        events.len(),
        N,
        took.as_secs_f64(),
        per_s
    );
    assert!(
        credits_store::verify(&app.db, user.account_id)
            .await
            .unwrap()
    );
    let done: String = sqlx::query_scalar("SELECT status::text FROM campaigns WHERE id = $1")
        .bind(campaign)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(done, "completed");

    // A year of rollups standing for 10,000,000 messages: 365 days × 30 campaigns × 3
    // operators, 304 messages each.
    let other = ready(&app, "year@example.com", "0").await;
    sqlx::query(
        "INSERT INTO message_rollups (account_id, day, campaign_id, country, mno_id, sent,
                                      delivered, failed, cost, refunded, deliver_seconds, timed)
         SELECT $1, current_date - d, c, 'KE', m, 304, 290, 14, 232.0, 11.2, 870.0, 290
         FROM generate_series(0, 364) d,
              (SELECT gen_random_uuid() AS c FROM generate_series(1, 30)) cs,
              unnest(ARRAY['ke-safaricom', 'ke-airtel', 'ke-telkom']) m",
    )
    .bind(other.account_id)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("ANALYZE message_rollups")
        .execute(&app.db)
        .await
        .unwrap();
    let from = (OffsetDateTime::now_utc().date() - time::Duration::days(364)).to_string();
    let uri = format!("/v1/analytics/overview?from={from}");
    let mut times = Vec::new();
    for _ in 0..50 {
        let t = std::time::Instant::now();
        let r = app.get(&uri, &other.access).await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.json["sent"], 365 * 30 * 3 * 304, "{}", r.text);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "overview over 10,000,000 messages (33,000 rollup rows): p50 {:.1} ms, max of 50 {:.1} ms",
        times[25], times[49]
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn campaign_progress_streams_the_counters_until_the_end(db: PgPool) {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let app = spawn_app(db);
    let user = ready(&app, "progress@example.com", "10").await;
    let other = ready(&app, "peek@example.com", "10").await;
    let ids = sent(
        &app,
        &user.access,
        json!({"to": numbers(2), "text": "Live"}),
    )
    .await;
    let campaign = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO campaigns (id, account_id, name, message, status, total_recipients,
                                dispatched_count)
         VALUES ($1, $2, 'Live', 'Live', 'sending', 2, 2)",
    )
    .bind(campaign)
    .bind(user.account_id)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("UPDATE messages SET campaign_id = $1 WHERE id = ANY($2)")
        .bind(campaign)
        .bind(&ids)
        .execute(&app.db)
        .await
        .unwrap();
    let uri = format!("/v1/campaigns/{campaign}/progress");
    let r = app.get(&uri, &other.access).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another organisation's campaign"
    );

    let request = Request::builder()
        .uri(&uri)
        .header("authorization", format!("Bearer {}", user.access))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    // The events of the stream, read until it ends (bounded, so a bug fails, never hangs).
    let reader = async {
        let mut text = String::new();
        let mut applied = false;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                text.push_str(std::str::from_utf8(&data).unwrap());
            }
            if !applied && text.contains("event: progress") {
                applied = true;
                apply(&app.app_pool, &[event(ids[0], DeliveryState::Delivered, 1)]).await;
                apply(&app.app_pool, &[event(ids[1], DeliveryState::Failed, 2)]).await;
            }
        }
        text
    };
    let text = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("the stream ends once the campaign is completed");
    let events: Vec<(String, serde_json::Value)> = text
        .split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name.to_owned(), serde_json::from_str(data).unwrap()))
        })
        .collect();
    assert_eq!(events.first().unwrap().0, "progress");
    assert_eq!(events.first().unwrap().1["delivered"], 0);
    let (last, counts) = events.last().unwrap();
    assert_eq!(last, "end", "{text}");
    assert_eq!(counts["status"], "completed");
    assert_eq!(counts["delivered"], 1);
    assert_eq!(counts["failed"], 1);
    assert_eq!(counts["spent"], "0.8000");
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_dispatched_campaign_completes_and_a_stop_reply_keeps_the_number_out_of_the_next(
    db: PgPool,
) {
    use crate::campaigns::{campaign, dispatcher, list_of, queued, sender_ready};
    let app = spawn_app(db);
    let (user, sender) = sender_ready(&app, "loop@example.com").await;
    let list = list_of(&app, &user, "Loop", 0, 5).await;
    let id = queued(
        &app,
        &user,
        &sender,
        &list,
        "Hi {first_name|there}! Reply STOP to opt out",
    )
    .await;
    let dispatcher = dispatcher(&app, 2);
    dispatcher.drain().await.unwrap();
    let c = campaign(&app, &user, &id).await;
    assert_eq!(
        (c["status"].as_str(), c["dispatched_count"].as_i64()),
        (Some("sending"), Some(5))
    );
    let messages: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, destination FROM messages WHERE campaign_id = $1::uuid ORDER BY destination",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(messages.len(), 5);
    let mut events = Vec::new();
    for (i, (m, _)) in messages.iter().enumerate() {
        events.push(event(*m, DeliveryState::Sent, 0));
        let fin = if i == 4 {
            DeliveryState::Failed
        } else {
            DeliveryState::Delivered
        };
        events.push(event(*m, fin, 2_000));
    }
    let a = apply(&app.app_pool, &events).await;
    assert_eq!(a.completed.len(), 1);
    let c = campaign(&app, &user, &id).await;
    assert_eq!(c["status"], "completed", "{c}");
    let (report,): (serde_json::Value,) =
        sqlx::query_as("SELECT report FROM campaigns WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(report["delivered"], 4);
    assert_eq!(report["cost"], "3.2000");
    assert_eq!(money(&app, user.account_id).await, (d("96.8"), d("0")));
    assert!(
        credits_store::verify(&app.db, user.account_id)
            .await
            .unwrap()
    );

    // The first recipient replies STOP: opted out, counted on the campaign, and the next
    // campaign to the same list leaves the number out.
    let stop = semalink_protocol::contracts::InboundMessage {
        version: VERSION,
        id: Uuid::now_v7(),
        from: messages[0].1.trim_start_matches('+').to_owned(),
        to: "AcmeCorp".into(),
        text: "STOP".into(),
        received_at: OffsetDateTime::now_utc(),
        upstream: "celcom-1".into(),
        segments: 1,
        numbering: None,
    };
    semalink_control_plane::inbound::store::apply_batch(
        &app.app_pool,
        &[stop],
        &Default::default(),
        BASE,
    )
    .await
    .unwrap();
    assert_eq!(campaign(&app, &user, &id).await["opted_out_count"], 1);
    let next = queued(&app, &user, &sender, &list, "Again! Reply STOP to opt out").await;
    dispatcher.drain().await.unwrap();
    let n = campaign(&app, &user, &next).await;
    assert_eq!(n["total_recipients"], 4, "{n}");
    let reached: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM messages WHERE campaign_id = $1::uuid AND destination = $2)",
    )
    .bind(&next)
    .bind(&messages[0].1)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(!reached);
}
