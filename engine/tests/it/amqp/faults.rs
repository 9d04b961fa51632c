//! Acks only after the outcome, connection loss, throttling through the retry queue, and the
//! attempt limit.

use semalink_engine::config::AmqpConfig;
use semalink_loadtest::sim::{Behaviour, latency::Latency};
use semalink_protocol::contracts::DeliveryState;
use std::time::Duration;

use super::{Broker, Proxy, in_queues, start, until_submits, with_amqp};
use crate::pipeline::{TIMEOUT, config, request, sim};

const RATE: &str = "rate = 1000.0\nburst = 100";

#[tokio::test]
async fn a_delivery_is_acked_after_its_outcome_and_consumption_resumes_after_a_connection_loss() {
    in_queues(
        a_delivery_is_acked_after_its_outcome_and_consumption_resumes_after_a_connection_loss_body,
    )
    .await;
}

async fn a_delivery_is_acked_after_its_outcome_and_consumption_resumes_after_a_connection_loss_body(
    mut amqp: AmqpConfig,
) {
    let sim = sim(Behaviour {
        response_latency: Latency::Fixed(1_500),
        ..Behaviour::default()
    })
    .await;
    let proxy = Proxy::start().await;
    let mut broker = Broker::new(&amqp).await;
    amqp.url = proxy.url();
    let engine = start(with_amqp(config(&sim, "", RATE), &amqp)).await;
    let queue = amqp.normal_queue.clone();

    // While the SMSC has not answered, the delivery is with the engine, unacknowledged …
    let first = request("+254712345678", "held");
    broker.publish(&first).await;
    until_submits(&sim, 1).await;
    assert_eq!(broker.counts(&queue).await, (0, 1));
    // … so losing the connection puts it back in the queue.
    proxy.cut().await;
    broker
        .until_counts(&queue, |_, consumers| consumers == 0)
        .await;
    assert_eq!(
        broker.counts(&queue).await.0,
        1,
        "the unacked delivery is requeued"
    );
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while engine.is_ready() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still ready while disconnected"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The engine reconnects by itself and consumes again: the redelivered message and a new
    // one both end delivered, each with one final event.
    proxy.restore();
    assert!(
        engine.wait_ready(TIMEOUT).await,
        "not ready after the broker came back"
    );
    let second = request("+254712345679", "after the reconnect");
    broker.publish(&second).await;
    broker
        .until_final(&[first.message_id, second.message_id])
        .await;
    for id in [first.message_id, second.message_id] {
        let states = broker.seen.states(id);
        assert_eq!(
            states.iter().filter(|s| s.is_final()).count(),
            1,
            "{states:?}"
        );
        assert_eq!(
            broker.seen.final_state(id).unwrap().state,
            DeliveryState::Delivered
        );
    }
    // Both were acknowledged: closing the connection leaves nothing to requeue.
    engine.shutdown().await;
    broker
        .until_counts(&queue, |_, consumers| consumers == 0)
        .await;
    assert_eq!(
        broker.counts(&queue).await.0,
        0,
        "a decided delivery was not acked"
    );
}

#[tokio::test]
async fn throttled_work_waits_in_the_retry_queue_not_in_a_requeue_loop() {
    in_queues(throttled_work_waits_in_the_retry_queue_not_in_a_requeue_loop_body).await;
}

async fn throttled_work_waits_in_the_retry_queue_not_in_a_requeue_loop_body(mut amqp: AmqpConfig) {
    let mut behaviour = Behaviour::default();
    behaviour.flow.msgqful_rate = 1.0;
    let sim = sim(behaviour.clone()).await;
    amqp.throttle_retries = 1;
    amqp.retry_delays_ms = vec![300];
    amqp.max_attempts = 1_000;
    let mut broker = Broker::new(&amqp).await;
    let engine = start(with_amqp(config(&sim, "", RATE), &amqp)).await;
    let msg = request("+254712345678", "throttled");
    broker.publish(&msg).await;
    // Two throttle answers (one in-process retry), then the message waits in the broker.
    let retry_queue = AmqpConfig::retry_queue(&amqp.normal_queue, Duration::from_millis(300));
    broker
        .until_counts(&retry_queue, |ready, _| ready == 1)
        .await;
    assert!(sim.stats().submits >= 2, "{:?}", sim.stats());
    // The upstream recovers: the next delivery from the retry queue goes through.
    behaviour.flow.msgqful_rate = 0.0;
    sim.set_behaviour(behaviour).unwrap();
    broker.until_final(&[msg.message_id]).await;
    let states = broker.seen.states(msg.message_id);
    assert_eq!(
        states,
        vec![DeliveryState::Sent, DeliveryState::Delivered],
        "{states:?}"
    );
    let deferred = engine
        .pipeline()
        .metrics
        .amqp
        .with_label_values(&["deferred"])
        .get();
    assert!(deferred >= 1, "deferred {deferred} times");
    engine.shutdown().await;
}

#[tokio::test]
async fn after_the_attempt_limit_the_message_fails_with_a_status_event() {
    in_queues(after_the_attempt_limit_the_message_fails_with_a_status_event_body).await;
}

async fn after_the_attempt_limit_the_message_fails_with_a_status_event_body(mut amqp: AmqpConfig) {
    let mut behaviour = Behaviour::default();
    behaviour.flow.msgqful_rate = 1.0;
    let sim = sim(behaviour).await;
    amqp.throttle_retries = 0;
    amqp.retry_delays_ms = vec![50];
    amqp.max_attempts = 3;
    let mut broker = Broker::new(&amqp).await;
    let engine = start(with_amqp(config(&sim, "", RATE), &amqp)).await;
    let msg = request("+254712345678", "never accepted");
    broker.publish(&msg).await;
    broker.until_final(&[msg.message_id]).await;
    let event = broker.seen.final_state(msg.message_id).unwrap();
    assert_eq!(event.state, DeliveryState::Failed);
    let text = event.error_text.clone().unwrap_or_default();
    assert!(text.contains("3 attempts"), "{text}");
    // One submit per delivery (no in-process throttle retries), three deliveries.
    assert_eq!(sim.stats().submits, 3, "{:?}", sim.stats());
    engine.shutdown().await;
    broker
        .until_counts(&amqp.normal_queue, |_, consumers| consumers == 0)
        .await;
    let retry_queue = AmqpConfig::retry_queue(&amqp.normal_queue, Duration::from_millis(50));
    assert_eq!(broker.counts(&retry_queue).await.0, 0);
    assert_eq!(broker.counts(&amqp.normal_queue).await.0, 0);
}
