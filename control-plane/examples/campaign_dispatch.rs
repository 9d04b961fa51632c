//! Measures a campaign from "send now" to every message `queued` (issue 14's target: 1,000,000
//! recipients in ≤ 60 s with the broker confirming). Not a test: it prints figures for
//! `docs/performance.md`.
//!
//! It creates the database `bench_campaigns` on `BENCH_PG` (a superuser URL, default
//! `postgres://postgres@127.0.0.1:5441/postgres`; dropped first), migrates it, seeds one
//! organisation (approved default sender ID, the KE rate, enough credit) and `BENCH_RECIPIENTS`
//! contacts (default 1,000,000) in one list, queues a personalised campaign to the list, then
//! runs `BENCH_DISPATCHERS` dispatchers (default: the worker's `dispatch::LOOPS`, batches of
//! `BENCH_BATCH`, default 5,000) and `BENCH_PUBLISHERS` outbox publishers (default 2, passes
//! of `BENCH_PUBLISH_BATCH`, default 5,000) on RabbitMQ (`AMQP_URL`; a consumer acks every
//! submit request, as the engine would) until every message is `queued`. Queues are named `bench.<uuid>.*` (left empty: every request is acked).
//!
//! ```sh
//! cargo run --release -p semalink-control-plane --example campaign_dispatch
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use semalink_control_plane::bus::{self, AmqpConfig, Queues};
use semalink_control_plane::campaigns::dispatch::{Dispatcher, DispatcherConfig};
use semalink_control_plane::config::Config;
use semalink_control_plane::messages::publisher::{OutboxPublisher, PublisherConfig};
use semalink_control_plane::{AppState, db};
use semalink_protocol::contracts::SubmitRequest;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

async fn seed(pool: &PgPool, recipients: i64) -> anyhow::Result<(Uuid, Uuid)> {
    let account = Uuid::now_v7();
    let campaign = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO accounts (id, name, status, billing_account_id) VALUES ($1, 'Bench', 'active', $1)",
    )
    .bind(account)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO credits (id, account_id) VALUES ($1, $2)")
        .bind(Uuid::now_v7())
        .bind(account)
        .execute(&mut *tx)
        .await?;
    let sender = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO sender_ids (id, account_id, name, kind, country, traffic_type, use_case,
             status, is_default)
         VALUES ($1, $2, 'BenchCo', 'alphanumeric', 'KE', 'transactional', 'benchmark sends',
                 'approved', true)",
    )
    .bind(sender)
    .bind(account)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO pricing_rates (id, scope, country, rate, effective_from)
         VALUES ($1, 'platform', 'KE', 0.80, now() - interval '1 day')",
    )
    .bind(Uuid::now_v7())
    .execute(&mut *tx)
    .await?;
    let list = Uuid::now_v7();
    sqlx::query("INSERT INTO contact_lists (id, account_id, name) VALUES ($1, $2, 'Everyone')")
        .bind(list)
        .bind(account)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "WITH c AS (
            INSERT INTO contacts (id, account_id, phone, phone_raw, status, country, first_name,
                                  attributes)
            SELECT gen_random_uuid(), $1, '+2547' || lpad((10000000 + i)::text, 8, '0'),
                   '+2547' || lpad((10000000 + i)::text, 8, '0'), 'valid', 'KE',
                   CASE WHEN i % 3 <> 0 THEN 'Name' || i END,
                   jsonb_build_object('city', 'Town' || (i % 50))
            FROM generate_series(1, $3::bigint) AS i
            RETURNING id
         )
         INSERT INTO contact_list_memberships (list_id, contact_id, account_id)
         SELECT $2, id, $1 FROM c",
    )
    .bind(account)
    .bind(list)
    .bind(recipients)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO campaigns (id, account_id, name, sender_id, message, status)
         VALUES ($1, $2, 'Bench', $3, 'Habari {first_name|rafiki}! Offers in {city} this week.', 'approved')",
    )
    .bind(campaign)
    .bind(account)
    .bind(sender)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO campaign_lists (campaign_id, account_id, list_id) VALUES ($1, $2, $3)",
    )
    .bind(campaign)
    .bind(account)
    .bind(list)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut conn = pool.acquire().await?;
    let entry = semalink_control_plane::credits::ledger::Entry {
        account_id: account,
        reference: "bench-topup",
        actor: semalink_control_plane::credits::types::Actor::System("bench"),
        reason: None,
        metadata: serde_json::json!({}),
        base_url: "http://bench",
    };
    let amount = rust_decimal::Decimal::from(recipients) * rust_decimal::Decimal::from(2);
    semalink_control_plane::credits::ledger::topup(&mut conn, &entry, amount).await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok((account, campaign))
}

async fn count(pool: &PgPool, sql: &str, campaign: Uuid) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(campaign)
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(env(
            "RUST_LOG",
            "warn,semalink_control_plane::campaigns=debug",
        )))
        .init();
    let recipients: i64 = env("BENCH_RECIPIENTS", "1000000").parse()?;
    let dispatchers: usize = env(
        "BENCH_DISPATCHERS",
        &semalink_control_plane::campaigns::dispatch::LOOPS.to_string(),
    )
    .parse()?;
    let batch: i64 = env("BENCH_BATCH", "5000").parse()?;
    let publishers: usize = env("BENCH_PUBLISHERS", "2").parse()?;
    let publish_batch: i64 = env("BENCH_PUBLISH_BATCH", "5000").parse()?;
    let admin: PgConnectOptions =
        env("BENCH_PG", "postgres://postgres@127.0.0.1:5441/postgres").parse()?;
    let mut conn = PgConnection::connect_with(&admin).await?;
    conn.execute("DROP DATABASE IF EXISTS bench_campaigns WITH (FORCE)")
        .await?;
    conn.execute("CREATE DATABASE bench_campaigns").await?;
    conn.close().await?;
    let options = admin.clone().database("bench_campaigns");
    let owner = PgPool::connect_with(options.clone()).await?;
    db::MIGRATOR.run(&owner).await?;

    let mut config = Config::load(std::path::Path::new("configs/control-plane.toml"))?;
    let tag = Uuid::now_v7().simple().to_string();
    let amqp = AmqpConfig {
        priority_queue: format!("bench.{tag}.priority"),
        normal_queue: format!("bench.{tag}.normal"),
        ..AmqpConfig::new(&env("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f"))
    };
    config.amqp = Some(amqp.clone());
    config.database.max_connections = 16;
    let pool = db::app_pool(options.clone(), &config.database);
    let started = Instant::now();
    let (_account, campaign) = seed(&owner, recipients).await?;
    println!(
        "seeded {recipients} contacts in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let stop = CancellationToken::new();
    let bus = bus::connect(Some(&amqp), stop.clone());
    let state = AppState::new(config, pool.clone())?.with_bus(bus.clone());
    let queues = Queues::of(Some(&amqp));
    let mut sub = bus.subscribe::<SubmitRequest>(&queues.normal, 2000)?;
    let consumed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = consumed.clone();
    let consumer = tokio::spawn(async move {
        while let Some(mut delivery) = sub.recv().await {
            let n = delivery.take_items().len() as u64;
            delivery.ack().await;
            counter.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let publisher = OutboxPublisher::new(
        pool.clone(),
        &bus,
        &queues,
        PublisherConfig {
            batch: publish_batch,
            poll_interval_ms: 50,
            confirm_timeout_ms: 30_000,
        },
    )?;

    // "Send now".
    let t0 = Instant::now();
    sqlx::query("UPDATE campaigns SET status = 'queued', send_at = now() WHERE id = $1")
        .bind(campaign)
        .execute(&owner)
        .await?;
    let wake = state.outbox_wake.clone();
    let mut publishing = Vec::new();
    for _ in 0..publishers {
        let p = publisher.clone();
        let (wake, stop) = (wake.clone(), stop.clone());
        publishing.push(tokio::spawn(async move { p.run(wake, stop).await }));
    }
    let mut runs = Vec::new();
    for _ in 0..dispatchers {
        let d = Dispatcher::new(&state).with_config(DispatcherConfig {
            batch,
            poll_interval_ms: 50,
        });
        // The worker's loop, not `drain`: a second dispatcher finds nothing while the first
        // expands, and must keep looking.
        let stop = stop.clone();
        runs.push(tokio::spawn(async move { d.run(stop).await }));
    }
    let mut expanded_at = None;
    let mut dispatched_at = None;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let total = count(
            &pool,
            "SELECT total_recipients::bigint FROM campaigns WHERE id = $1",
            campaign,
        )
        .await;
        let dispatched = count(
            &pool,
            "SELECT dispatched_count::bigint FROM campaigns WHERE id = $1",
            campaign,
        )
        .await;
        // Cheap while it runs: dispatched messages leave the outbox only once confirmed.
        let waiting = count(
            &pool,
            "SELECT count(*) FROM message_outbox WHERE $1::uuid IS NOT NULL",
            campaign,
        )
        .await;
        let queued = dispatched - waiting;
        if expanded_at.is_none() && total > 0 {
            expanded_at = Some(t0.elapsed());
        }
        if dispatched_at.is_none() && total > 0 && dispatched == total {
            dispatched_at = Some(t0.elapsed());
        }
        println!(
            "{:6.1} s  recipients {total:>8}  dispatched {dispatched:>8}  queued {queued:>8}  consumed {:>8}",
            t0.elapsed().as_secs_f64(),
            consumed.load(std::sync::atomic::Ordering::Relaxed)
        );
        if total > 0 && queued == total {
            break;
        }
    }
    let all = t0.elapsed();
    let queued = count(
        &pool,
        "SELECT count(*) FROM messages WHERE campaign_id = $1 AND status = 'queued'",
        campaign,
    )
    .await;
    assert_eq!(queued, recipients, "every message queued exactly once");
    stop.cancel();
    for r in runs {
        r.await?;
    }
    for p in publishing {
        let _ = p.await;
    }
    consumer.abort();
    println!(
        "\n{recipients} recipients, {dispatchers} dispatcher(s), batch {batch}, {publishers} publisher(s) \
         of {publish_batch}: expanded by {:.1} s, \
         all dispatched (messages + outbox written, reserved) by {:.1} s, all queued (broker confirmed) \
         at {:.1} s",
        expanded_at.unwrap_or_default().as_secs_f64(),
        dispatched_at.unwrap_or_default().as_secs_f64(),
        all.as_secs_f64()
    );
    let _ = owner.close().await;
    Ok(())
}
