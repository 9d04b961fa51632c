//! The happy path through RabbitMQ: priority before normal without starving it, status events
//! and MO messages on their queues.

use futures::StreamExt;
use semalink_loadtest::sim::Behaviour;
use semalink_protocol::contracts::{self, DeliveryState, InboundMessage, Priority};

use super::{Broker, consume, in_queues, start, with_amqp};
use crate::pipeline::{TIMEOUT, config, request, sim};
use semalink_engine::config::AmqpConfig;

#[tokio::test]
async fn priority_goes_first_without_starving_normal_and_events_reach_the_status_queue() {
    in_queues(priority_goes_first_without_starving_normal_and_events_reach_the_status_queue_body)
        .await;
}

async fn priority_goes_first_without_starving_normal_and_events_reach_the_status_queue_body(
    mut amqp: AmqpConfig,
) {
    let sim = sim(Behaviour::default()).await;
    amqp.prefetch = 4;
    let mut broker = Broker::new(&amqp).await;
    // Queued before the engine starts: 120 normal, then 24 priority.
    let normal: Vec<_> = (0..120)
        .map(|i| request(&format!("+25471{i:07}"), "normal lane"))
        .collect();
    let mut priority: Vec<_> = (0..24)
        .map(|i| request(&format!("+25472{i:07}"), "priority lane"))
        .collect();
    for r in &mut priority {
        r.priority = Priority::High;
    }
    for r in &normal {
        broker.publish(r).await;
    }
    for r in &priority {
        broker.publish_to(&amqp.priority_queue, r).await;
    }
    // One bind with a window of one: messages are submitted one at a time, in the order the
    // consumer hands them on.
    let mut base = config(&sim, "", "rate = 10000.0\nburst = 100");
    base.upstreams[0].window = 1;
    let engine = start(with_amqp(base, &amqp)).await;
    let ids: Vec<_> = normal
        .iter()
        .chain(&priority)
        .map(|r| r.message_id)
        .collect();
    broker.until_final(&ids).await;
    for id in &ids {
        let states = broker.seen.states(*id);
        assert_eq!(
            broker.seen.final_state(*id).map(|e| e.state),
            Some(DeliveryState::Delivered),
            "{states:?}"
        );
        assert_eq!(
            states.iter().filter(|s| s.is_final()).count(),
            1,
            "{states:?}"
        );
    }
    let position = |id| {
        broker
            .seen
            .sent_order
            .iter()
            .position(|s| *s == id)
            .unwrap()
    };
    let last_priority = priority
        .iter()
        .map(|r| position(r.message_id))
        .max()
        .unwrap();
    let normal_before = normal
        .iter()
        .filter(|r| position(r.message_id) < last_priority)
        .count();
    // Priority first: all 24 within the first 24 + a few normal ones (at most the normal
    // prefetch plus one per run of priority deliveries) …
    assert!(
        normal_before <= 12,
        "{normal_before} normal before the last priority"
    );
    // … but normal traffic still moved meanwhile.
    assert!(normal_before >= 1, "normal traffic was starved");
    engine.shutdown().await;
    // Everything was acknowledged: nothing is left in the submit queues.
    broker
        .until_counts(&amqp.normal_queue, |_, consumers| consumers == 0)
        .await;
    assert_eq!(broker.counts(&amqp.normal_queue).await.0, 0);
    assert_eq!(broker.counts(&amqp.priority_queue).await.0, 0);
}

#[tokio::test]
async fn mobile_originated_messages_are_published_to_the_inbound_queue() {
    in_queues(mobile_originated_messages_are_published_to_the_inbound_queue_body).await;
}

async fn mobile_originated_messages_are_published_to_the_inbound_queue_body(amqp: AmqpConfig) {
    let sim = sim(Behaviour::default()).await;
    let broker = Broker::new(&amqp).await;
    let engine = start(with_amqp(config(&sim, "", "rate = 100.0"), &amqp)).await;
    let (_reader, mut inbound) = consume(&broker.conn, &amqp.inbound_queue).await;
    assert!(sim.inject_mo(None, "254712345678", "20880", b"STOP"));
    let delivery = tokio::time::timeout(TIMEOUT, inbound.next())
        .await
        .expect("an inbound message")
        .unwrap()
        .unwrap();
    let mut messages = contracts::decode_batch::<InboundMessage>(&delivery.data).unwrap();
    let message = messages.remove(0).unwrap();
    assert_eq!(
        (
            message.from.as_str(),
            message.to.as_str(),
            message.text.as_str()
        ),
        ("254712345678", "20880", "STOP")
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn an_invalid_request_is_rejected_with_a_status_event_and_acked() {
    in_queues(an_invalid_request_is_rejected_with_a_status_event_and_acked_body).await;
}

async fn an_invalid_request_is_rejected_with_a_status_event_and_acked_body(amqp: AmqpConfig) {
    let sim = sim(Behaviour::default()).await;
    let mut broker = Broker::new(&amqp).await;
    let engine = start(with_amqp(config(&sim, "", "rate = 100.0"), &amqp)).await;
    let bad = request("0712345678", "national number: not E.164");
    broker.publish(&bad).await;
    let good = request("+254712345678", "fine");
    broker.publish(&good).await;
    broker.until_final(&[bad.message_id, good.message_id]).await;
    let event = broker.seen.final_state(bad.message_id).unwrap();
    assert_eq!(event.state, DeliveryState::Rejected);
    let text = event.error_text.clone().unwrap_or_default();
    assert!(text.contains("destination"), "{text}");
    assert_eq!(
        broker.seen.final_state(good.message_id).unwrap().state,
        DeliveryState::Delivered
    );
    assert_eq!(sim.stats().submits, 1, "the invalid request was not sent");
    engine.shutdown().await;
    broker
        .until_counts(&amqp.normal_queue, |_, consumers| consumers == 0)
        .await;
    assert_eq!(broker.counts(&amqp.normal_queue).await.0, 0, "both acked");
}

#[tokio::test]
async fn a_batch_envelope_is_consumed_message_by_message_and_acked_once_all_are_decided() {
    in_queues(a_batch_envelope_is_consumed_message_by_message_body).await;
}

async fn a_batch_envelope_is_consumed_message_by_message_body(amqp: AmqpConfig) {
    let sim = sim(Behaviour::default()).await;
    let mut broker = Broker::new(&amqp).await;
    let engine = start(with_amqp(config(&sim, "", "rate = 1000.0"), &amqp)).await;
    let good: Vec<_> = (0..5)
        .map(|i| request(&format!("+25471{i:07}"), "in an envelope"))
        .collect();
    let mut bad = request("+254710000099", "invalid");
    bad.destination = "not a number".into();
    let mut parts: Vec<Vec<u8>> = good.iter().map(|r| contracts::encode(r).unwrap()).collect();
    parts.push(contracts::encode(&bad).unwrap());
    broker
        .publish_raw(&amqp.normal_queue, &contracts::join_batch(&parts))
        .await;
    // A bare copy of one of them, as an older publisher would send it: de-duplicated.
    broker.publish(&good[0]).await;
    let mut ids: Vec<_> = good.iter().map(|r| r.message_id).collect();
    ids.push(bad.message_id);
    broker.until_final(&ids).await;
    for r in &good {
        let states = broker.seen.states(r.message_id);
        assert_eq!(
            broker.seen.final_state(r.message_id).map(|e| e.state),
            Some(DeliveryState::Delivered),
            "{states:?}"
        );
        assert_eq!(
            states.iter().filter(|s| s.is_final()).count(),
            1,
            "{states:?}"
        );
    }
    assert_eq!(
        broker.seen.final_state(bad.message_id).map(|e| e.state),
        Some(DeliveryState::Rejected)
    );
    engine.shutdown().await;
    broker
        .until_counts(&amqp.normal_queue, |_, consumers| consumers == 0)
        .await;
    assert_eq!(broker.counts(&amqp.normal_queue).await.0, 0, "all acked");
}
