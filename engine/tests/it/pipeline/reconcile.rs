//! Receipts that never come: the simulator accepts but sends no receipt, and the engine
//! reconciles each part after a short wait — with `query_sm` where the upstream answers it,
//! else (or when the answers never become final) by expiring it with reason `no_receipt`.
//! Every message ends final either way.

use semalink_loadtest::sim::Behaviour;
use semalink_protocol::contracts::DeliveryState;

use super::{config, engine, request, sim};

/// A one-second wait, queries at once, asked again at once when not final.
fn route(max_queries: u32) -> String {
    format!(
        "rate = 1000.0\nburst = 100\n[reconcile]\nwait_secs = 1\nperiod_ms = 50\nrate = 100.0\nrecheck_secs = 0\nmax_queries = {max_queries}"
    )
}

/// No receipts; the outcome the simulator keeps is `UNDELIV` after `final_ms`.
fn silent(final_ms: u64) -> Behaviour {
    let mut b = Behaviour::default();
    b.receipts.enabled = false;
    b.receipts.delay = format!("fixed:{final_ms}").parse().unwrap();
    b.receipts.mix.delivrd = 0.0;
    b.receipts.mix.undeliv = 1.0;
    b
}

#[tokio::test]
async fn a_part_without_receipt_is_decided_by_query_sm() {
    let sim = sim(silent(0)).await;
    let mut run = engine(config(&sim, "query_sm = true", &route(3))).await;
    let long = request("+254712345678", &"q".repeat(200));
    let short = request("+254712345679", "short");
    let msgs = [long, short];
    run.submit(&msgs).await;
    let ids: Vec<_> = msgs.iter().map(|m| m.message_id).collect();
    run.until_final(&ids).await;
    for id in &ids {
        let last = run.final_state(*id).unwrap();
        assert_eq!(last.state, DeliveryState::Failed, "{last:?}");
        assert_eq!(last.error_text.as_deref(), Some("UNDELIV"));
    }
    // The long message was decided by its first part's answer; its second part is asked
    // for too (its own outcome settles in the store).
    let metrics = &run.engine.pipeline().metrics;
    let deadline = tokio::time::Instant::now() + super::TIMEOUT;
    while metrics
        .reconciled
        .with_label_values(&["sim", "final"])
        .get()
        < 3
    {
        assert!(tokio::time::Instant::now() < deadline, "{:?}", sim.stats());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(sim.stats().queries, 3, "one per part");
    assert_eq!(
        metrics
            .expired_without_receipt
            .with_label_values(&["sim"])
            .get(),
        0
    );
    assert!(run.engine.pipeline().awaiting.is_empty());
    run.engine.shutdown().await;
}

#[tokio::test]
async fn without_query_sm_the_part_expires_with_no_receipt() {
    let sim = sim(silent(0)).await;
    let mut run = engine(config(&sim, "", &route(3))).await;
    let msg = request("+254712345678", "never receipted");
    run.submit(std::slice::from_ref(&msg)).await;
    run.until_final(&[msg.message_id]).await;
    let last = run.final_state(msg.message_id).unwrap();
    assert_eq!(last.state, DeliveryState::Expired, "{last:?}");
    assert_eq!(last.error_text.as_deref(), Some("no_receipt"));
    assert_eq!(sim.stats().queries, 0);
    let metrics = &run.engine.pipeline().metrics;
    assert_eq!(
        metrics
            .expired_without_receipt
            .with_label_values(&["sim"])
            .get(),
        1
    );
    run.engine.shutdown().await;
}

#[tokio::test]
async fn answers_that_stay_enroute_end_in_no_receipt_after_max_queries() {
    // Final only in ten minutes: every answer is ENROUTE.
    let sim = sim(silent(600_000)).await;
    let mut run = engine(config(&sim, "query_sm = true", &route(2))).await;
    let msg = request("+254712345678", "still on its way");
    run.submit(std::slice::from_ref(&msg)).await;
    run.until_final(&[msg.message_id]).await;
    let last = run.final_state(msg.message_id).unwrap();
    assert_eq!(
        (last.state, last.error_text.as_deref()),
        (DeliveryState::Expired, Some("no_receipt"))
    );
    assert_eq!(sim.stats().queries, 2);
    let metrics = &run.engine.pipeline().metrics;
    assert_eq!(
        metrics
            .reconciled
            .with_label_values(&["sim", "not_final"])
            .get(),
        2
    );
    run.engine.shutdown().await;
}

#[tokio::test]
async fn a_receipt_that_does_come_leaves_nothing_to_reconcile() {
    let sim = sim(Behaviour::default()).await;
    let mut run = engine(config(&sim, "query_sm = true", &route(3))).await;
    let msg = request("+254712345678", &"r".repeat(300));
    run.submit(std::slice::from_ref(&msg)).await;
    run.until_final(&[msg.message_id]).await;
    run.assert_all_delivered(&[msg.message_id]);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(sim.stats().queries, 0);
    assert!(run.engine.pipeline().awaiting.is_empty());
    run.engine.shutdown().await;
}
