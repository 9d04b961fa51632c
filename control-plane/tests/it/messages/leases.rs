//! The outbox on the in-process bus, whose "confirm" keeps nothing across a stop: a
//! published row stays, leased; the engine's first status for the message ends the lease
//! (the RabbitMQ consumer does not touch the outbox); a new start publishes again what is
//! still `queued` — once, without a second `queued` step — and drops the leases of messages
//! past it. The status consumer skips a lease a publisher holds locked instead of waiting.

use std::time::Duration;

use semalink_bus::Subscription;
use semalink_control_plane::bus::Queues;
use semalink_control_plane::messages::publisher::{OutboxPublisher, PublisherConfig};
use semalink_control_plane::messages::store as messages_store;
use semalink_control_plane::results::store::{ResultsConfig, apply_leased_batch};
use semalink_protocol::contracts::{DeliveryState, SubmitRequest};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::*;
use crate::results::event;

const BASE: &str = "http://localhost:3000";

async fn take(sub: &mut Subscription<SubmitRequest>) -> Vec<Uuid> {
    let mut delivery = tokio::time::timeout(Duration::from_secs(10), sub.recv())
        .await
        .expect("a submit request within 10 s")
        .expect("subscription open");
    let ids = delivery
        .take_items()
        .into_iter()
        .map(|r| r.unwrap().message_id)
        .collect();
    delivery.ack().await;
    ids
}

async fn leased_ids(app: &TestApp) -> Vec<Uuid> {
    sqlx::query_scalar(
        "SELECT message_id FROM message_outbox WHERE leased_at IS NOT NULL ORDER BY message_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_request_lost_with_the_process_is_published_again_at_start(db: PgPool) {
    let app = spawn_app(db);
    let owner = ready(&app, "owner@example.com", "10").await;
    let queues = Queues::of(None);
    let mut normal = app
        .state
        .bus
        .subscribe::<SubmitRequest>(&queues.normal, 10)
        .unwrap();
    let mut ids = sent(
        &app,
        &owner.access,
        json!({"to": ["+254711000001", "+254711000002", "+254711000003"], "text": "hello"}),
    )
    .await;
    ids.sort();
    let (answered, stale, lost) = (ids[0], ids[1], ids[2]);
    let publisher = || {
        OutboxPublisher::new(
            app.app_pool.clone(),
            &app.state.bus,
            &queues,
            PublisherConfig::default(),
        )
        .unwrap()
    };
    assert_eq!(publisher().drain_once().await.unwrap(), 3);
    let mut got = take(&mut normal).await;
    got.sort();
    assert_eq!(got, ids);
    assert_eq!(leased_ids(&app).await, ids, "published, kept under a lease");

    // The engine answers `answered`: its lease ends with the status.
    let config = ResultsConfig::default();
    let sent = [event(answered, DeliveryState::Sent, 0)];
    apply_leased_batch(&app.app_pool, &sent, &config, BASE, true)
        .await
        .unwrap();
    // `stale` is answered by a consumer that does not end leases (as over RabbitMQ, or a
    // lease skipped because its publisher held it): the lease outlives the `queued`.
    let sent = [event(stale, DeliveryState::Sent, 0)];
    apply_leased_batch(&app.app_pool, &sent, &config, BASE, false)
        .await
        .unwrap();
    assert_eq!(leased_ids(&app).await, [stale, lost]);

    // The process stops with `lost` in memory; the next start publishes it again.
    let restarted = publisher();
    assert_eq!(
        messages_store::renew_leases(&app.app_pool).await.unwrap(),
        (1, 1),
        "one due again, one dropped"
    );
    assert_eq!(outbox(&app, owner.account_id).await, 1);
    assert_eq!(restarted.drain_once().await.unwrap(), 1);
    assert_eq!(take(&mut normal).await, [lost]);
    assert_eq!(timeline(&app, lost).await, ["submitted", "queued"]);
    assert_eq!(leased_ids(&app).await, [lost], "leased again");
    assert_eq!(restarted.drain_once().await.unwrap(), 0);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn ending_leases_skips_a_row_a_publisher_holds(db: PgPool) {
    let app = spawn_app(db);
    let owner = ready(&app, "owner@example.com", "10").await;
    let ids = sent(
        &app,
        &owner.access,
        json!({"to": [SAFARICOM], "text": "hi"}),
    )
    .await;
    sqlx::query("UPDATE message_outbox SET leased_at = now(), available_at = 'infinity'")
        .execute(&app.db)
        .await
        .unwrap();
    // A publisher's transaction holds the row (it is still waiting for room on the bus).
    let mut publisher = app.db.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM message_outbox WHERE message_id = $1 FOR UPDATE")
        .bind(ids[0])
        .execute(&mut *publisher)
        .await
        .unwrap();
    let mut consumer = app.app_pool.begin().await.unwrap();
    let ended = tokio::time::timeout(
        Duration::from_secs(10),
        messages_store::end_leases(&mut consumer, &ids),
    )
    .await
    .expect("no wait on the publisher's lock")
    .unwrap();
    assert_eq!(ended, 0);
    consumer.commit().await.unwrap();
    publisher.commit().await.unwrap();
    let mut consumer = app.app_pool.begin().await.unwrap();
    assert_eq!(
        messages_store::end_leases(&mut consumer, &ids)
            .await
            .unwrap(),
        1
    );
    consumer.commit().await.unwrap();
    assert_eq!(leased_ids(&app).await, Vec::<Uuid>::new());
}
