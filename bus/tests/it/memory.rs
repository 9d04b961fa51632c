//! The in-process bus behind the same behaviours, and its back-pressure.

use std::collections::HashSet;
use std::time::Duration;

use semalink_bus::memory::MemoryBus;
use semalink_bus::{BatchConfig, Bus};
use semalink_protocol::contracts::InboundMessage;

use crate::behaviour::{self, keys, next};

fn bus(queue_capacity: usize, batch: BatchConfig) -> Bus {
    Bus::Memory(MemoryBus::new(queue_capacity, batch))
}

fn batching() -> BatchConfig {
    BatchConfig {
        max_items: 50,
        linger: Duration::from_millis(5),
        ..BatchConfig::default()
    }
}

#[tokio::test]
async fn a_batch_round_trips() {
    behaviour::batch_round_trip(&bus(64, batching()), "q").await;
}

#[tokio::test]
async fn a_partial_batch_failure_redelivers_only_the_undecided() {
    let batch = BatchConfig {
        max_items: 10,
        linger: Duration::from_secs(5),
        ..BatchConfig::default()
    };
    behaviour::partial_failure_redelivers_only_the_undecided(&bus(64, batch), "q").await;
}

#[tokio::test]
async fn a_full_queue_pushes_back_on_the_publisher_and_nothing_is_lost() {
    let batch = BatchConfig {
        max_items: 2,
        linger: Duration::ZERO,
        capacity: 2,
        max_in_flight: 1,
    };
    let bus = bus(1, batch);
    let p = bus.publisher::<InboundMessage>("q").unwrap();
    let (accepted, blocked) = behaviour::fill(&p, 0, Duration::from_millis(200)).await;
    // Queue: 1 envelope of 2; in flight: 1 batch of 2; waiting: 2; plus one being batched.
    assert!(accepted <= 7, "{accepted} accepted with room for 7");
    assert!(!blocked.is_finished());
    let mut sub = bus.subscribe::<InboundMessage>("q", 1).unwrap();
    let mut seen = HashSet::new();
    while seen.len() < accepted as usize + 1 {
        let d = next(&mut sub).await;
        seen.extend(keys(&d));
        assert!(d.ack().await);
    }
    blocked.await.unwrap();
    assert_eq!(seen, (0..=accepted).collect());
}

/// The only consumer of a full queue requeues what it could not apply: it must not wait for
/// room that only it can make (the embedded status consumer deadlocked so, its queue kept
/// full by the engine's status publisher, and the engine stopped behind it).
#[tokio::test]
async fn requeue_into_a_full_queue_does_not_block_its_only_consumer() {
    let batch = BatchConfig {
        max_items: 1,
        linger: Duration::ZERO,
        ..BatchConfig::default()
    };
    let bus = bus(1, batch);
    let p = bus.publisher::<InboundMessage>("q").unwrap();
    let mut sub = bus.subscribe::<InboundMessage>("q", 1).unwrap();
    behaviour::publish_all(&p, 0..1).await;
    let first = next(&mut sub).await;
    assert_eq!(keys(&first), vec![0]);
    // The queue (room for one envelope) is full again behind the delivery in hand.
    behaviour::publish_all(&p, 1..2).await;
    let requeued = tokio::time::timeout(
        Duration::from_secs(5),
        first.requeue(vec![behaviour::message(0)]),
    )
    .await
    .expect("requeue returns although the queue is full");
    assert!(requeued);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let d = next(&mut sub).await;
        seen.extend(keys(&d));
        assert!(d.ack().await);
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![0, 1],
        "nothing lost, the requeued one comes back"
    );
}

#[tokio::test]
async fn a_queue_has_one_message_type() {
    let bus = bus(4, batching());
    bus.publisher::<InboundMessage>("q").unwrap();
    let err = bus
        .subscribe::<semalink_protocol::contracts::StatusEvent>("q", 1)
        .unwrap_err();
    assert!(err.to_string().contains("another message type"), "{err}");
}

#[tokio::test]
async fn a_delayed_queue_moves_its_envelopes_to_the_target_after_the_delay() {
    let memory = MemoryBus::new(16, batching());
    let stop = tokio_util::sync::CancellationToken::new();
    let delay = Duration::from_millis(300);
    memory
        .forward_delayed::<InboundMessage>("q.retry.300ms", "q", delay, stop.clone())
        .unwrap();
    let mut target = memory.subscribe::<InboundMessage>("q").unwrap();
    let retry = memory.publisher::<InboundMessage>("q.retry.300ms").unwrap();
    let sent = std::time::Instant::now();
    behaviour::publish_all(&retry, 0..120).await;
    let mut seen = HashSet::new();
    while seen.len() < 120 {
        let d = next(&mut target).await;
        // Not before its delay (a lower bound, never an upper one: tests assert no timing).
        assert!(sent.elapsed() >= delay, "moved after {:?}", sent.elapsed());
        seen.extend(keys(&d));
        assert!(d.ack().await);
    }
    assert_eq!(seen, (0..120).collect());
    stop.cancel();
}
