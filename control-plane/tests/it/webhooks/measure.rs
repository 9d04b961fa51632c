//! Delivery throughput to a local receiver (a measurement, ignored).

use std::time::Instant;

use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::receiver::Receiver;
use super::*;

/// Measurement, not a check (ignored; run in release):
/// `cargo test --release -p semalink-control-plane --test it -- --ignored --nocapture webhooks::measure`.
/// 20,000 signed deliveries (4 endpoints allowing 256 in flight each, 256 in flight in the process) through the `webhook_sender`
/// worker to a receiver on 127.0.0.1; the figure is deliveries recorded per second.
#[ignore = "measurement; run in release with --ignored --nocapture"]
#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn measure_webhook_deliveries_per_second(db: PgPool) {
    const N: i64 = 20_000;
    let mut config = quick();
    config.database.max_connections = 10;
    config.webhooks.timeout_ms = 15_000;
    let app = spawn_app_with(db, config.clone());
    let user = app.verified("measure@example.com").await;
    let rx = Receiver::on(TcpListener::bind("127.0.0.1:0").await.unwrap(), false).await;
    let mut endpoints = Vec::new();
    for i in 0..4 {
        let (id, _) = endpoint(
            &app,
            &user,
            &rx.url(&format!("/{i}")),
            &["message.delivered"],
        )
        .await;
        sqlx::query("UPDATE webhook_endpoints SET max_in_flight = 256 WHERE id = $1")
            .bind(id)
            .execute(&app.db)
            .await
            .unwrap();
        endpoints.push(id);
    }
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, account_id, endpoint_id, event_type, ordering_key, body)
         SELECT webhook_id_v7(), $1, ($2::uuid[])[1 + n % 4], 'message.delivered', gen_random_uuid(),
                jsonb_build_object('type', 'message.delivered', 'timestamp', now()::text,
                    'data', jsonb_build_object('message_id', gen_random_uuid(), 'n', n))::text
         FROM generate_series(1, $3) AS n",
    )
    .bind(user.account_id)
    .bind(&endpoints)
    .bind(N)
    .execute(&app.db)
    .await
    .unwrap();
    // As autovacuum would after a bulk insert.
    sqlx::query("ANALYZE webhook_deliveries")
        .execute(&app.db)
        .await
        .unwrap();
    let stop = CancellationToken::new();
    let started = Instant::now();
    let worker = tokio::spawn(sender(&app, &config).run(stop.clone()));
    while undelivered(&app).await > 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    stop.cancel();
    worker.await.unwrap();
    let (avg, p99): (f64, f64) = sqlx::query_as(
        "SELECT avg(latency_ms)::float8,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms)::float8
         FROM webhook_attempts",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    println!("webhooks: attempt latency mean {avg:.1} ms, p99 {p99:.0} ms");
    println!(
        "webhooks: {N} deliveries in {secs:.2} s = {:.0} deliveries/s (receiver got {})",
        N as f64 / secs,
        rx.count()
    );
}
