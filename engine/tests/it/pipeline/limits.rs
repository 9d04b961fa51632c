//! The engine's own limits against the upstream: the configured rate holds (the simulator's
//! per-second counters say so), and bad credentials keep the engine unready while it retries.

use std::time::Duration;

use semalink_engine::Engine;
use semalink_loadtest::sim::Behaviour;

use super::{TIMEOUT, config, engine, get, request, sim};

#[tokio::test]
async fn the_route_rate_holds_at_the_upstream() {
    let sim = sim(Behaviour::default()).await;
    let mut run = engine(config(&sim, "binds = 2", "rate = 40.0\nburst = 1")).await;
    let msgs: Vec<_> = (0..100)
        .map(|i| request(&format!("+25471{i:07}"), "paced"))
        .collect();
    run.submit(&msgs).await;
    let ids: Vec<_> = msgs.iter().map(|m| m.message_id).collect();
    run.until_final(&ids).await;
    run.assert_all_delivered(&ids);
    let stats = sim.stats();
    assert_eq!(stats.submits, 100);
    // Summed over the binds: no one-second window above the rate (plus the burst token and
    // one window edge of slack). A slow machine only sends slower.
    let peak: u64 = stats
        .peak_tps
        .iter()
        .filter(|(k, _)| k.starts_with("bind:"))
        .map(|(_, v)| *v)
        .max()
        .unwrap_or(0);
    assert!(peak > 0, "{:?}", stats.peak_tps);
    assert!(
        peak <= 42,
        "peak {peak}/s over a 40/s route: {:?}",
        stats.peak_tps
    );
    run.engine.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_keep_the_engine_unready_while_it_retries() {
    let sim = sim(Behaviour::default()).await;
    let mut cfg = config(&sim, "", "rate = 100.0");
    cfg.upstreams[0].password = semalink_engine::config::Secret::new("wrong");
    let engine = Engine::start(cfg).await.unwrap();
    assert!(!engine.wait_ready(Duration::from_millis(500)).await);
    let (status, _) = get(engine.local_addr(), "/ready").await;
    assert_eq!(status, 503);
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    // The bind is refused, then tried again after the back-off.
    while sim.stats().binds_rejected < 2 {
        assert!(tokio::time::Instant::now() < deadline, "{:?}", sim.stats());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reconnects = engine
        .pipeline()
        .metrics
        .reconnects
        .with_label_values(&["sim"])
        .get();
    assert!(reconnects >= 1);
    engine.shutdown().await;
}
