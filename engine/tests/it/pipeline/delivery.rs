//! The happy paths: single, long and UCS-2 messages, MO messages, idempotent ingress.

use semalink_engine::sink::Published;
use semalink_loadtest::sim::Behaviour;
use semalink_protocol::contracts::DeliveryState;

use super::{TIMEOUT, config, engine, get, request, sim};

const RATE: &str = "rate = 1000.0\nburst = 100";

#[tokio::test]
async fn a_single_gsm_message_is_sent_then_delivered() {
    let sim = sim(Behaviour::default()).await;
    let mut run = engine(config(&sim, "", RATE)).await;
    let (status, _) = get(run.engine.local_addr(), "/ready").await;
    assert_eq!(status, 200);
    let msg = request("+254712345678", "Hello from Sema Link");
    run.submit(std::slice::from_ref(&msg)).await;
    run.until_final(&[msg.message_id]).await;
    assert_eq!(
        run.states(msg.message_id),
        [DeliveryState::Sent, DeliveryState::Delivered]
    );
    let sent = &run.seen.all(msg.message_id)[0];
    assert_eq!(sent.upstream.as_deref(), Some("sim"));
    assert!(sent.smsc_message_id.is_some());
    assert_eq!(sim.stats().submits, 1);
    let (_, metrics) = get(run.engine.local_addr(), "/metrics").await;
    assert!(
        metrics.contains("semalink_engine_status_events_total{state=\"delivered\"} 1"),
        "{metrics}"
    );
    run.engine.shutdown().await;
}

#[tokio::test]
async fn long_and_ucs2_messages_go_as_their_parts_and_are_delivered_once() {
    let sim = sim(Behaviour::default()).await;
    let mut run = engine(config(&sim, "", RATE)).await;
    // 400 GSM-7 characters: 153 per part with an 8-bit concat UDH → 3 parts.
    let long = request("+254712345678", &"Sema Link ".repeat(40));
    // 90 Cyrillic characters: UCS-2, 67 per part → 2 parts.
    let ucs2 = request("+254712345679", &"Привет мир".repeat(9));
    run.submit(&[long.clone(), ucs2.clone()]).await;
    let ids = [long.message_id, ucs2.message_id];
    run.until_final(&ids).await;
    run.assert_all_delivered(&ids);
    assert_eq!(sim.stats().submits, 5, "3 + 2 parts");
    // `sent` comes once, when the last part is answered.
    for id in ids {
        let sent = run
            .states(id)
            .iter()
            .filter(|s| **s == DeliveryState::Sent)
            .count();
        assert_eq!(sent, 1);
    }
    run.engine.shutdown().await;
}

#[tokio::test]
async fn a_mobile_originated_message_becomes_an_inbound_event() {
    let sim = sim(Behaviour::default()).await;
    let mut run = engine(config(&sim, "", RATE)).await;
    assert!(sim.inject_mo(None, "254712345678", "20880", b"STOP"));
    let inbound = tokio::time::timeout(TIMEOUT, async {
        loop {
            if let Some(Published::Inbound(m)) = run.events.recv().await {
                return m;
            }
        }
    })
    .await
    .expect("no inbound message");
    assert_eq!(
        (
            inbound.from.as_str(),
            inbound.to.as_str(),
            inbound.text.as_str()
        ),
        ("254712345678", "20880", "STOP")
    );
    assert_eq!((inbound.upstream.as_str(), inbound.segments), ("sim", 1));
    // The handset's international number and the short code keep their types.
    assert_eq!(
        inbound.numbering,
        Some(semalink_protocol::contracts::Numbering {
            from_ton: 1,
            from_npi: 1,
            to_ton: 3,
            to_npi: 0
        })
    );
    run.engine.shutdown().await;
}

#[tokio::test]
async fn a_repeated_message_id_is_answered_duplicate_and_sent_once() {
    let sim = sim(Behaviour::default()).await;
    let mut run = engine(config(&sim, "", RATE)).await;
    let msg = request("+254712345678", "once");
    run.submit(std::slice::from_ref(&msg)).await;
    let (status, body) = run.post(std::slice::from_ref(&msg)).await;
    assert_eq!(status, 200);
    assert_eq!(body["results"][0]["status"], "duplicate", "{body}");
    run.until_final(&[msg.message_id]).await;
    run.assert_all_delivered(&[msg.message_id]);
    assert_eq!(sim.stats().submits, 1);
    run.engine.shutdown().await;
}
