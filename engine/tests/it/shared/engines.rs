//! Two engines on one simulator account and one Redis prefix: the simulator hands receipts
//! to the account's binds in turn, so about half of engine A's receipts arrive on engine B.

use std::collections::HashMap;
use std::time::Duration;

use semalink_engine::sink::Published;
use semalink_loadtest::sim::Behaviour;
use semalink_protocol::contracts::{DeliveryState, StatusEvent};
use uuid::Uuid;

use super::{REDIS_URL, cleanup, prefix, redis_config};
use crate::pipeline::{Running, TIMEOUT, config, engine, get, request, sim};

const RATE: &str = "rate = 1000.0\nburst = 100";

fn shared_config(
    sim: &semalink_loadtest::SimHandle,
    prefix: &str,
) -> semalink_engine::config::Config {
    let mut c = config(sim, "", RATE);
    c.redis = Some(redis_config(REDIS_URL, prefix, Duration::from_secs(600)));
    c
}

/// Every status event either engine published, per message, tagged with the engine.
#[derive(Default)]
struct Seen(HashMap<Uuid, Vec<(char, StatusEvent)>>);

impl Seen {
    fn record(&mut self, engine: char, item: Option<Published>) {
        if let Some(Published::Status(e)) = item {
            self.0.entry(e.message_id).or_default().push((engine, e));
        }
    }

    fn finals(&self, id: Uuid) -> Vec<&(char, StatusEvent)> {
        self.0
            .get(&id)
            .map(|v| v.iter().filter(|(_, e)| e.state.is_final()).collect())
            .unwrap_or_default()
    }

    /// Reads both engines' events until every id has a final event, then a moment more so a
    /// second final (the bug this guards against) would be seen.
    async fn until_final(&mut self, a: &mut Running, b: &mut Running, ids: &[Uuid]) {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        while !ids.iter().all(|id| !self.finals(*id).is_empty()) {
            tokio::select! {
                item = a.events.recv() => self.record('A', item),
                item = b.events.recv() => self.record('B', item),
                _ = tokio::time::sleep_until(deadline) => {
                    let missing = ids.iter().filter(|id| self.finals(**id).is_empty()).count();
                    panic!("{missing} of {} messages not final", ids.len());
                }
            }
        }
        let grace = tokio::time::Instant::now() + Duration::from_millis(500);
        loop {
            tokio::select! {
                item = a.events.recv() => self.record('A', item),
                item = b.events.recv() => self.record('B', item),
                _ = tokio::time::sleep_until(grace) => break,
            }
        }
    }
}

#[tokio::test]
async fn receipts_correlate_on_whichever_engine_they_arrive() {
    // Some receipts beat their response (parked on one engine, picked up by the other's
    // insert) and some come twice (possibly once on each engine).
    let mut behaviour = Behaviour::default();
    behaviour.receipts.before_resp_rate = 0.3;
    behaviour.receipts.duplicate_rate = 0.3;
    let sim = sim(behaviour).await;
    let prefix = prefix();
    let mut a = engine(shared_config(&sim, &prefix)).await;
    let mut b = engine(shared_config(&sim, &prefix)).await;
    let (status, _) = get(b.engine.local_addr(), "/ready").await;
    assert_eq!(status, 200);
    // Single-part and three-part messages, all submitted through engine A.
    let mut msgs: Vec<_> = (0..20)
        .map(|i| request(&format!("+25471{i:07}"), "across engines"))
        .collect();
    msgs.extend((0..6).map(|i| request(&format!("+25472{i:07}"), &"Sema Link ".repeat(40))));
    a.submit(&msgs).await;
    let ids: Vec<_> = msgs.iter().map(|m| m.message_id).collect();
    let mut seen = Seen::default();
    seen.until_final(&mut a, &mut b, &ids).await;
    let mut on_b = 0;
    for (i, m) in msgs.iter().enumerate() {
        let finals = seen.finals(m.message_id);
        assert_eq!(finals.len(), 1, "exactly one final event: {finals:?}");
        let (engine, event) = finals[0];
        assert_eq!(event.state, DeliveryState::Delivered, "{event:?}");
        assert_eq!(event.upstream.as_deref(), Some("sim"));
        if i < 20 {
            // Single-part: the final event names the SMSC id, as on the submitting engine.
            assert!(event.smsc_message_id.is_some(), "{event:?}");
        }
        on_b += usize::from(*engine == 'B');
    }
    let stats = sim.stats();
    assert!(stats.receipts_before_resp > 0, "{stats:?}");
    assert!(on_b > 0, "no receipt was decided on engine B");
    assert!(on_b < msgs.len(), "no receipt was decided on engine A");
    assert_eq!(sim.stats().submits, 20 + 6 * 3);

    // The broker redelivering a message to an engine that never saw it (a third one: A and
    // B may know it from its receipts): its parts were accepted, so nothing is submitted
    // again and `sent` is reported from the store's record.
    let mut c = engine(shared_config(&sim, &prefix)).await;
    let again = msgs.last().unwrap().clone();
    c.submit(std::slice::from_ref(&again)).await;
    let sent = tokio::time::timeout(TIMEOUT, async {
        loop {
            match c.events.recv().await {
                Some(Published::Status(e)) if e.message_id == again.message_id => return e,
                Some(_) => {}
                None => panic!("event stream closed"),
            }
        }
    })
    .await
    .expect("no sent event for the redelivered message");
    assert_eq!(sent.state, DeliveryState::Sent);
    assert_eq!(sim.stats().submits, 20 + 6 * 3, "nothing submitted twice");
    let (_, metrics) = get(c.engine.local_addr(), "/metrics").await;
    assert!(
        metrics.contains("semalink_engine_redelivered_segments_total{result=\"skipped\"} 3"),
        "{metrics}"
    );
    a.engine.shutdown().await;
    b.engine.shutdown().await;
    c.engine.shutdown().await;
    cleanup(&prefix).await;
}

/// The sink refusing a receipt's event: the `deliver_sm` is answered "retry later", never
/// acknowledged (in-process store; the sink's channel is closed by dropping its reader).
#[tokio::test]
async fn a_receipt_the_sink_refused_is_not_acknowledged() {
    let sim = sim(Behaviour::default()).await;
    let run = engine(config(&sim, "", RATE)).await;
    let Running {
        engine: handle,
        events,
        ..
    } = run;
    drop(events);
    let msg = request("+254712345678", "nobody listens");
    let (status, _) = crate::pipeline::post(
        handle.local_addr(),
        "/v1/messages",
        &serde_json::to_vec(&[msg]).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let deferred = handle
            .pipeline()
            .metrics
            .receipts_deferred
            .with_label_values(&["sink"])
            .get();
        if deferred > 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the receipt was acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    handle.shutdown().await;
}

/// The sink refusing an MO message: its `deliver_sm` is answered "retry later" and the
/// simulator (like an SMSC) delivers it again, instead of the message being acknowledged
/// and lost.
#[tokio::test]
async fn an_mo_message_the_sink_refused_is_delivered_again() {
    let sim = sim(Behaviour::default()).await;
    let Running {
        engine: handle,
        events,
        ..
    } = engine(config(&sim, "", RATE)).await;
    drop(events);
    assert!(sim.inject_mo(None, "254712345678", "20880", b"STOP"));
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while sim.stats().deliver_sm_redelivered == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the MO message was acknowledged although nothing took it"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    handle.shutdown().await;
}

/// An engine killed after claiming a message's final event, before publishing it (run 8 of
/// the fault run lost 2 messages so): the receipt meets the dead claimant's live lease and is
/// answered "retry later" — and so is every redelivery while the lease lasts (the first one
/// used to be acknowledged because this engine's tracker had seen the outcome already) —
/// until the lease lapses and the redelivered receipt publishes the final event.
#[tokio::test]
async fn a_final_claimed_by_a_dead_engine_is_published_after_its_lease() {
    use semalink_engine::correlation::CorrelationStore;
    let mut behaviour = Behaviour::default();
    behaviour.receipts.delay = semalink_loadtest::sim::latency::Latency::Fixed(3000);
    let sim = sim(behaviour).await;
    let prefix = prefix();
    let mut a = engine(shared_config(&sim, &prefix)).await;
    let msg = request("+254712345678", "claimed by the dead");
    a.submit(std::slice::from_ref(&msg)).await;
    // Once it is sent, the "dead engine" claims its final event and never publishes it.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !a.states(msg.message_id).contains(&DeliveryState::Sent) {
        let item = tokio::time::timeout_at(deadline, a.events.recv())
            .await
            .expect("never sent")
            .expect("event stream closed");
        if let Published::Status(e) = item {
            a.seen.record(e);
        }
    }
    let dead = super::redis_store(&prefix, Duration::from_secs(600), Duration::from_secs(60));
    assert!(dead.claim_final(msg.message_id).await.unwrap());
    a.until_final(&[msg.message_id]).await;
    a.assert_all_delivered(&[msg.message_id]);
    // The receipt really met the live lease (more than once: redeliveries come every second).
    let deferred = a
        .engine
        .pipeline()
        .metrics
        .receipts_deferred
        .with_label_values(&["store"])
        .get();
    assert!(deferred >= 2, "deferred {deferred}");
    assert!(dead.final_published(msg.message_id).await.unwrap());
    a.engine.shutdown().await;
    cleanup(&prefix).await;
}
