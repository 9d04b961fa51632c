//! Upstream trouble: early receipts, permanent errors, throttling, disconnects, shutdown.

use semalink_loadtest::sim::{Behaviour, latency::Latency};
use semalink_protocol::contracts::{DeliveryState, ErrorKind};

use super::{config, engine, request, sim};

const RATE: &str = "rate = 1000.0\nburst = 100";

fn batch(n: usize, text: &str) -> Vec<semalink_protocol::contracts::SubmitRequest> {
    (0..n)
        .map(|i| request(&format!("+25471{:07}", i), text))
        .collect()
}

#[tokio::test]
async fn receipts_that_arrive_before_their_response_still_correlate() {
    let mut behaviour = Behaviour::default();
    behaviour.receipts.before_resp_rate = 1.0;
    behaviour.receipts.delay = Latency::Fixed(0);
    let sim = sim(behaviour).await;
    let mut run = engine(config(&sim, "", RATE)).await;
    let msgs = batch(30, "early receipt");
    run.submit(&msgs).await;
    let ids: Vec<_> = msgs.iter().map(|m| m.message_id).collect();
    run.until_final(&ids).await;
    run.assert_all_delivered(&ids);
    assert!(sim.stats().receipts_before_resp > 0, "{:?}", sim.stats());
    run.engine.shutdown().await;
}

#[tokio::test]
async fn a_permanent_error_fails_the_message_with_its_smpp_code() {
    let mut behaviour = Behaviour::default();
    behaviour.flow.invdstadr_rate = 1.0;
    let sim = sim(behaviour).await;
    let mut run = engine(config(&sim, "", RATE)).await;
    let msg = request("+254712345678", "to nowhere");
    run.submit(std::slice::from_ref(&msg)).await;
    run.until_final(&[msg.message_id]).await;
    let event = run.final_state(msg.message_id).unwrap();
    assert_eq!(event.state, DeliveryState::Failed);
    let error = event.error.expect("error code");
    assert_eq!((error.kind, error.code), (ErrorKind::CommandStatus, 0x0B));
    assert_eq!(sim.stats().submits, 1, "permanent errors are not retried");
    run.engine.shutdown().await;
}

#[tokio::test]
async fn a_throttling_upstream_loses_nothing() {
    let mut behaviour = Behaviour::default();
    behaviour.flow.tps_per_bind = 20;
    let sim = sim(behaviour).await;
    // The engine may send far faster than the upstream takes: it must back off and retry.
    let mut run = engine(config(
        &sim,
        "",
        "rate = 1000.0\nburst = 200\nadaptive = true",
    ))
    .await;
    let msgs = batch(80, "throttled");
    run.submit(&msgs).await;
    let ids: Vec<_> = msgs.iter().map(|m| m.message_id).collect();
    run.until_final(&ids).await;
    run.assert_all_delivered(&ids);
    let stats = sim.stats();
    assert!(
        stats.throttled > 0,
        "the test must provoke throttling: {stats:?}"
    );
    let retries = run
        .engine
        .pipeline()
        .metrics
        .retries
        .with_label_values(&["default", "throttled"])
        .get();
    assert!(retries > 0);
    run.engine.shutdown().await;
}

#[tokio::test]
async fn disconnects_mid_stream_lose_nothing() {
    let mut behaviour = Behaviour::default();
    behaviour.flow.disconnect_rate = 0.05;
    let sim = sim(behaviour).await;
    let extra = "binds = 2\nresponse_timeout_ms = 2000";
    let mut run = engine(config(&sim, extra, "rate = 200.0\nburst = 20")).await;
    let msgs = batch(150, "bumpy");
    run.submit(&msgs).await;
    let ids: Vec<_> = msgs.iter().map(|m| m.message_id).collect();
    run.until_final(&ids).await;
    run.assert_all_delivered(&ids);
    assert!(sim.stats().disconnects_forced > 0, "{:?}", sim.stats());
    run.engine.shutdown().await;
}

#[tokio::test]
async fn transmitter_receiver_binds_carry_submits_and_receipts() {
    let sim = sim(Behaviour::default()).await;
    let extra = "bind_type = \"transmitter_receiver\"\nbinds = 2";
    let mut run = engine(config(&sim, extra, RATE)).await;
    let msgs = batch(20, "split binds");
    run.submit(&msgs).await;
    let ids: Vec<_> = msgs.iter().map(|m| m.message_id).collect();
    run.until_final(&ids).await;
    run.assert_all_delivered(&ids);
    let stats = sim.stats();
    assert_eq!((stats.binds_transmitter, stats.binds_receiver), (2, 2));
    run.engine.shutdown().await;
}

#[tokio::test]
async fn shutdown_settles_the_window_and_unbinds() {
    let mut behaviour = Behaviour {
        response_latency: Latency::Fixed(200),
        ..Behaviour::default()
    };
    behaviour.receipts.enabled = false;
    let sim = sim(behaviour).await;
    let mut run = engine(config(&sim, "", RATE)).await;
    let msgs = batch(10, "in flight at shutdown");
    run.submit(&msgs).await;
    // Wait until the submits are on the wire, then stop.
    let deadline = tokio::time::Instant::now() + super::TIMEOUT;
    while sim.stats().submits < 10 {
        assert!(tokio::time::Instant::now() < deadline, "{:?}", sim.stats());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    run.engine.shutdown().await;
    let mut sent = 0;
    while let Ok(item) = run.events.try_recv() {
        if let semalink_engine::sink::Published::Status(e) = item {
            sent += usize::from(e.state == DeliveryState::Sent);
        }
    }
    assert_eq!(sent, 10, "every response in the window was awaited");
    assert!(sim.stats().unbinds_received >= 1, "{:?}", sim.stats());
}

/// A submit whose answer came too late: the engine retried it, the SMSC took both copies and
/// sends a receipt for each. The first copy's SMSC id was never mapped; its receipt is matched
/// to the submit intent recorded before the first copy left, and reported as the receipt of a
/// duplicate — not as an unmatched receipt.
#[tokio::test]
async fn the_receipt_of_an_unanswered_copy_is_a_duplicate_not_unmatched() {
    let mut behaviour = Behaviour {
        response_latency: "fixed:1500".parse().unwrap(),
        ..Behaviour::default()
    };
    let sim = super::sim(behaviour.clone()).await;
    let route = "rate = 1000.0\nburst = 100\n[correlation]\nttl_secs = 600\nparked_ttl_secs = 1";
    let mut run = super::engine(super::config(&sim, "response_timeout_ms = 300", route)).await;
    let msg = super::request("+254712345678", "sent twice");
    run.submit(std::slice::from_ref(&msg)).await;
    let deadline = tokio::time::Instant::now() + super::TIMEOUT;
    while sim.stats().submits < 1 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // The retry (after the 300 ms timeout) is answered at once.
    behaviour.response_latency = "fixed:0".parse().unwrap();
    sim.set_behaviour(behaviour).unwrap();
    run.until_final(&[msg.message_id]).await;
    run.assert_all_delivered(&[msg.message_id]);
    let metrics = &run.engine.pipeline().metrics;
    while metrics.duplicate_submit_receipts.get() < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "submits {}, unmatched {}",
            sim.stats().submits,
            metrics.unmatched_receipts.get()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(sim.stats().submits, 2, "both copies reached the SMSC");
    assert_eq!(metrics.unmatched_receipts.get(), 0);
    assert_eq!(
        run.engine.pipeline().intents.local_len(),
        1,
        "only the unanswered copy's"
    );
    run.engine.shutdown().await;
}
