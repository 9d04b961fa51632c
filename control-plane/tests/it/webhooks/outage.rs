//! The target "10,000 events to an endpoint that is down for 10 minutes are all delivered
//! after it comes back, in order per message", with the back-off compressed by config: the
//! real schedule (5 s doubling to an hour) scaled by 1/500 (10 ms doubling to 7.2 s) and the
//! 10 minutes by the same factor (1.2 s), through the `webhook_sender` worker.

use std::collections::HashMap;
use std::time::Instant;

use semalink_protocol::contracts::DeliveryState;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::receiver::Receiver;
use super::*;
use crate::results::{apply, event};

/// 1/500 of the production schedule.
const SCALE: u64 = 500;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn ten_thousand_events_survive_a_ten_minute_outage_in_order(db: PgPool) {
    const MESSAGES: usize = 5_000;
    let mut config = quick();
    config.database.max_connections = 10;
    config.webhooks.retry_min_ms = 5_000 / SCALE;
    config.webhooks.retry_max_ms = 3_600_000 / SCALE;
    config.webhooks.timeout_ms = 2_000;
    config.webhooks.connect_timeout_ms = 1_000;
    let app = spawn_app_with(db, config.clone());
    let user = app.verified("outage10k@example.com").await;
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let (endpoint_id, _) = endpoint(
        &app,
        &user,
        &format!("http://{port}/hooks"),
        &["message.sent", "message.delivered"],
    )
    .await;
    sqlx::query("UPDATE webhook_endpoints SET max_in_flight = 256 WHERE id = $1")
        .bind(endpoint_id)
        .execute(&app.db)
        .await
        .unwrap();
    let ids = messages(&app, user.account_id, MESSAGES).await;
    for chunk in ids.chunks(500) {
        let mut events = Vec::new();
        for (i, id) in chunk.iter().enumerate() {
            let at = i64::try_from(i).unwrap();
            events.push(event(*id, DeliveryState::Sent, at));
            events.push(event(*id, DeliveryState::Delivered, 100_000 + at));
        }
        apply(&app.app_pool, &events).await;
    }
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(queued, 2 * MESSAGES as i64);

    // The endpoint is down for "10 minutes" while the worker retries.
    let stop = CancellationToken::new();
    let worker = tokio::spawn(sender(&app, &config).run(stop.clone()));
    tokio::time::sleep(Duration::from_millis(600_000 / SCALE)).await;
    let (failed, delivered): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM webhook_attempts WHERE status_code IS NULL),
                (SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    // Attempts were made (each message's first event only, at most 256 in flight for the
    // endpoint) and failed; nothing got through.
    assert!(failed > 0, "{failed}");
    assert_eq!(delivered, 0);

    // It comes back.
    let back = Instant::now();
    let rx = Receiver::on(TcpListener::bind(port).await.unwrap(), true).await;
    loop {
        let left = undelivered(&app).await;
        if left == 0 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(300),
            "{left} deliveries still pending"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let secs = back.elapsed().as_secs_f64();
    stop.cancel();
    worker.await.unwrap();
    let (failed_for_good,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM webhook_deliveries WHERE state = 'failed'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(failed_for_good, 0);
    // Every event arrived (at least once), each message's in order.
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    for r in rx.got() {
        let j = r.json();
        let types = seen
            .entry(j["data"]["message_id"].as_str().unwrap().to_owned())
            .or_default();
        let t = j["type"].as_str().unwrap().to_owned();
        if types.last() != Some(&t) {
            types.push(t);
        }
    }
    assert_eq!(seen.len(), MESSAGES);
    for (id, types) in &seen {
        assert_eq!(types, &["message.sent", "message.delivered"], "{id}");
    }
    println!(
        "outage: {} deliveries of {MESSAGES} messages delivered {secs:.1} s after the endpoint \
         came back (receiver got {})",
        2 * MESSAGES,
        rx.count()
    );
}
