//! The reconciliation list on the shared Redis: parts sent by an engine that is gone are
//! reconciled by the engines that remain, each part by exactly one of them.

use std::collections::HashMap;
use std::time::Duration;

use semalink_engine::sink::Published;
use semalink_loadtest::sim::Behaviour;
use semalink_protocol::contracts::{DeliveryState, StatusEvent};
use uuid::Uuid;

use super::{REDIS_URL, cleanup, prefix, redis_config};
use crate::pipeline::{TIMEOUT, config, engine, request, sim};

/// An engine on `prefix` that queries (`query_sm = true`) parts one second after they were
/// sent, looking for due parts every `period_ms`.
fn reconciling(
    sim: &semalink_loadtest::SimHandle,
    prefix: &str,
    period_ms: u64,
) -> semalink_engine::config::Config {
    let route = format!(
        "rate = 1000.0\nburst = 100\n[reconcile]\nwait_secs = 1\nperiod_ms = {period_ms}\nrate = 100.0\nrecheck_secs = 0\nmax_queries = 3"
    );
    let mut c = config(sim, "query_sm = true", &route);
    c.redis = Some(redis_config(REDIS_URL, prefix, Duration::from_secs(600)));
    c
}

#[tokio::test]
async fn a_gone_engines_parts_are_reconciled_once_by_the_others() {
    // No receipts; the simulator's own state for every message is UNDELIV at once.
    let mut behaviour = Behaviour::default();
    behaviour.receipts.enabled = false;
    behaviour.receipts.delay = "fixed:0".parse().unwrap();
    behaviour.receipts.mix.delivrd = 0.0;
    behaviour.receipts.mix.undeliv = 1.0;
    let sim = sim(behaviour).await;
    let prefix = prefix();
    // Engine A sends and goes away before its reconciliation round (an hour away) comes.
    let mut a = engine(reconciling(&sim, &prefix, 3_600_000)).await;
    let mut msgs: Vec<_> = (0..4)
        .map(|i| request(&format!("+25471{i:07}"), "no receipt"))
        .collect();
    msgs.push(request("+254720000001", &"long ".repeat(40)));
    a.submit(&msgs).await;
    let ids: Vec<Uuid> = msgs.iter().map(|m| m.message_id).collect();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !ids
        .iter()
        .all(|id| a.states(*id).contains(&DeliveryState::Sent))
    {
        let item = tokio::time::timeout_at(deadline, a.events.recv())
            .await
            .expect("not all sent")
            .expect("event stream closed");
        if let Published::Status(e) = item {
            a.seen.record(e);
        }
    }
    let parts: u64 = 4 + 2;
    a.engine.shutdown().await;
    assert_eq!(sim.stats().submits, parts);

    // B and C take the parts from Redis, each part once: one query per part, one final per
    // message, from the simulator's state.
    let mut b = engine(reconciling(&sim, &prefix, 50)).await;
    let mut c = engine(reconciling(&sim, &prefix, 50)).await;
    let mut finals: HashMap<Uuid, Vec<StatusEvent>> = HashMap::new();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !ids.iter().all(|id| finals.contains_key(id)) || sim.stats().queries < parts {
        tokio::select! {
            item = b.events.recv() => record(&mut finals, item),
            item = c.events.recv() => record(&mut finals, item),
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            _ = tokio::time::sleep_until(deadline) => panic!("not reconciled: {:?}", sim.stats()),
        }
    }
    // A moment more: a second query or a second final would show now.
    let grace = tokio::time::Instant::now() + Duration::from_millis(1500);
    loop {
        tokio::select! {
            item = b.events.recv() => record(&mut finals, item),
            item = c.events.recv() => record(&mut finals, item),
            _ = tokio::time::sleep_until(grace) => break,
        }
    }
    for id in &ids {
        let f = &finals[id];
        assert_eq!(f.len(), 1, "one final: {f:?}");
        assert_eq!(f[0].state, DeliveryState::Failed, "{f:?}");
        assert_eq!(f[0].error_text.as_deref(), Some("UNDELIV"), "{f:?}");
    }
    assert_eq!(sim.stats().queries, parts, "each part asked for once");
    let waiting = b.engine.pipeline().awaiting.waiting().await.unwrap();
    assert_eq!(waiting, 0, "settled parts leave the shared list");
    b.engine.shutdown().await;
    c.engine.shutdown().await;
    cleanup(&prefix).await;
}

fn record(finals: &mut HashMap<Uuid, Vec<StatusEvent>>, item: Option<Published>) {
    if let Some(Published::Status(e)) = item
        && e.state.is_final()
    {
        finals.entry(e.message_id).or_default().push(e);
    }
}
