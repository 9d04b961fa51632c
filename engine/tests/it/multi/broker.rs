//! Two engines consuming the same queues of a private RabbitMQ node (never the shared broker)
//! and sharing one Redis prefix: the node is stopped and booted again on its data, and both
//! engines reconnect and consume again; nothing published before or after is lost.

use std::sync::{Arc, Mutex};

use semalink_engine::{
    Engine, EngineHandle,
    config::{AmqpConfig, Secret},
};
use semalink_loadtest::{
    loadgen::{
        amqp::{self, AmqpOptions, Waiter, lock},
        mix::MixOptions,
    },
    scenario::{procs::free_port, services::PrivateRabbit, status},
    sim::Behaviour,
};
use tokio_util::sync::CancellationToken;

use super::sim_with_limit;
use crate::pipeline::{TIMEOUT, config};
use crate::shared::{REDIS_URL, cleanup, prefix, redis_config};

const RATE: &str = "rate = 1000.0\nburst = 100";
const BATCH: u64 = 150;

/// Deliveries an engine took from the broker so far.
fn delivered(engine: &EngineHandle) -> u64 {
    engine
        .pipeline()
        .metrics
        .amqp
        .with_label_values(&["delivered"])
        .get()
}

/// Publishes `BATCH` messages of a fresh seed and waits until each has a final state.
async fn publish_and_wait(url: &str, waiter: &Mutex<Waiter>) {
    let mut opts = AmqpOptions::new(url, BATCH);
    opts.mix = MixOptions {
        seed: fastrand::u64(..),
        ..MixOptions::default()
    };
    let published = amqp::publish(&opts, waiter).await.unwrap();
    assert_eq!((published.confirmed, published.refused), (BATCH, 0));
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !lock(waiter).all_final() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            lock(waiter).report()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn two_engines_consume_again_after_the_broker_restarts() {
    let dir = std::env::temp_dir().join(format!("sl-it-rabbit-{:08x}", fastrand::u32(..)));
    let tag = format!("it-{:08x}", fastrand::u32(..));
    let mut rabbit = PrivateRabbit::start(&dir, &tag, free_port().unwrap(), free_port().unwrap())
        .await
        .expect("rabbitmq-server is installed");
    let sim = sim_with_limit(Behaviour::default(), 4).await;
    let prefix = prefix();
    let engine_config = || {
        let mut c = config(&sim, "binds = 2", RATE);
        c.amqp = Some(AmqpConfig {
            url: Secret::new(rabbit.url()),
            reconnect_min_ms: 50,
            reconnect_max_ms: 500,
            ..AmqpConfig::default()
        });
        c.redis = Some(redis_config(
            REDIS_URL,
            &prefix,
            std::time::Duration::from_secs(600),
        ));
        c
    };
    let a = Engine::start(engine_config()).await.unwrap();
    let b = Engine::start(engine_config()).await.unwrap();
    assert!(a.wait_ready(TIMEOUT).await && b.wait_ready(TIMEOUT).await);

    let waiter = Arc::new(Mutex::new(Waiter::default()));
    let stop = CancellationToken::new();
    let reader = tokio::spawn(status::consume(
        rabbit.url(),
        "sms.status".into(),
        Arc::clone(&waiter),
        stop.clone(),
    ));
    publish_and_wait(&rabbit.url(), &waiter).await;

    rabbit.restart().await.unwrap();
    // Both reconnect by themselves; neither is ready before it has.
    assert!(a.wait_ready(TIMEOUT).await && b.wait_ready(TIMEOUT).await);
    let before = (delivered(&a), delivered(&b));
    publish_and_wait(&rabbit.url(), &waiter).await;
    let after = (delivered(&a), delivered(&b));
    assert!(
        after.0 > before.0 && after.1 > before.1,
        "both engines consume after the restart: {before:?} → {after:?}"
    );
    let report = lock(&waiter).report();
    assert_eq!((report.finals, report.lost), (2 * BATCH, 0), "{report:?}");
    assert_eq!(report.duplicates, 0, "one final per message: {report:?}");

    stop.cancel();
    let _ = reader.await;
    a.shutdown().await;
    b.shutdown().await;
    rabbit.stop().await.unwrap();
    cleanup(&prefix).await;
    let _ = std::fs::remove_dir_all(&dir);
}
