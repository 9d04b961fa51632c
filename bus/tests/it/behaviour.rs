//! Behaviours every bus must show, written once against [`Bus`].

use std::collections::HashSet;
use std::time::Duration;

use semalink_bus::{Bus, Delivery, Publisher, Subscription};
use semalink_protocol::contracts::{InboundMessage, VERSION};
use time::OffsetDateTime;
use uuid::Uuid;

/// Long enough for anything on a loaded machine; never reached when things work.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Keys are offset by this in the id (the nil UUID is not a valid id).
const BASE: u128 = 1 << 64;

/// A message whose key is `n`.
pub fn message(n: u128) -> InboundMessage {
    InboundMessage {
        version: VERSION,
        id: Uuid::from_u128(BASE + n),
        from: "254712345678".into(),
        to: "20880".into(),
        text: format!("message {n}"),
        received_at: OffsetDateTime::UNIX_EPOCH,
        upstream: "sim".into(),
        segments: 1,
    }
}

/// The next delivery, or a panic after [`LIMIT`].
pub async fn next(sub: &mut Subscription<InboundMessage>) -> Delivery<InboundMessage> {
    tokio::time::timeout(LIMIT, sub.recv())
        .await
        .expect("a delivery in time")
        .expect("the subscription is open")
}

/// The keys of a delivery (every item readable).
pub fn keys(d: &Delivery<InboundMessage>) -> Vec<u128> {
    d.items()
        .iter()
        .map(|i| i.as_ref().expect("a readable item").id.as_u128() - BASE)
        .collect()
}

/// Publishes keys `from..to` and waits for every confirm.
pub async fn publish_all(p: &Publisher<InboundMessage>, keys: std::ops::Range<u128>) {
    let mut confirms = Vec::new();
    for n in keys {
        confirms.push(p.send(message(n)).await.unwrap());
    }
    for c in confirms {
        tokio::time::timeout(LIMIT, c)
            .await
            .expect("confirmed in time")
            .unwrap();
    }
}

/// 120 messages through a publisher batching by 50: every one arrives exactly once, some of
/// them together in one envelope, and acked envelopes do not come back.
pub async fn batch_round_trip(bus: &Bus, queue: &str) {
    let publisher = bus.publisher::<InboundMessage>(queue).unwrap();
    publish_all(&publisher, 0..120).await;
    let mut sub = bus.subscribe::<InboundMessage>(queue, 8).unwrap();
    let mut seen = HashSet::new();
    let mut largest = 0;
    while seen.len() < 120 {
        let d = next(&mut sub).await;
        largest = largest.max(d.len());
        for k in keys(&d) {
            assert!(seen.insert(k), "{k} delivered twice");
        }
        assert!(d.ack().await);
    }
    assert!(largest > 1, "nothing was batched");
    assert!(largest <= 50, "a batch of {largest} beyond max_items");
    nothing_more(&mut sub).await;
}

/// One envelope of 10: 6 decided, 4 not → only those 4 come back, in one envelope; requeued
/// whole, the same 4 come back again, marked redelivered.
pub async fn partial_failure_redelivers_only_the_undecided(bus: &Bus, queue: &str) {
    let publisher = bus.publisher::<InboundMessage>(queue).unwrap();
    publish_all(&publisher, 1000..1010).await;
    let mut sub = bus.subscribe::<InboundMessage>(queue, 8).unwrap();
    let mut first = next(&mut sub).await;
    assert_eq!(
        keys(&first),
        (1000..1010).collect::<Vec<_>>(),
        "one envelope of 10"
    );
    let undecided: Vec<InboundMessage> = first
        .take_items()
        .into_iter()
        .map(Result::unwrap)
        .filter(|m| m.id.as_u128() - BASE >= 1006)
        .collect();
    assert!(first.requeue(undecided).await);
    let again = next(&mut sub).await;
    assert_eq!(keys(&again), [1006, 1007, 1008, 1009]);
    let all: Vec<InboundMessage> = again
        .items()
        .iter()
        .map(|i| i.as_ref().unwrap().clone())
        .collect();
    assert!(again.requeue(all).await);
    let third = next(&mut sub).await;
    assert_eq!(keys(&third), [1006, 1007, 1008, 1009]);
    assert!(third.redelivered());
    assert!(third.ack().await);
    nothing_more(&mut sub).await;
}

/// No delivery arrives within a short while.
pub async fn nothing_more(sub: &mut Subscription<InboundMessage>) {
    if let Ok(Some(d)) = tokio::time::timeout(Duration::from_millis(500), sub.recv()).await {
        panic!("unexpected delivery of {:?}", keys(&d));
    }
}

/// Sends until one send has waited `patience`; returns how many were accepted and the
/// pending sender (still waiting).
pub async fn fill(
    p: &Publisher<InboundMessage>,
    from: u128,
    patience: Duration,
) -> (u128, tokio::task::JoinHandle<()>) {
    let mut n = 0;
    loop {
        let send = p.send(message(from + n));
        match tokio::time::timeout(patience, send).await {
            Ok(confirm) => {
                drop(confirm.unwrap());
                n += 1;
                assert!(n < 10_000, "the publisher never pushed back");
            }
            Err(_) => {
                let p = p.clone();
                let blocked = tokio::spawn(async move {
                    p.publish(message(from + n)).await.unwrap();
                });
                return (n, blocked);
            }
        }
    }
}
