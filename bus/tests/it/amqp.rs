//! The RabbitMQ bus: the shared broker with unique queue names (deleted afterwards) for the
//! behaviours on classic and quorum queues; a private node (`semalink_loadtest`'s
//! [`PrivateRabbit`]) for an unreachable broker and a restart.

use std::collections::HashSet;
use std::time::Duration;

use lapin::options::QueueDeleteOptions;
use lapin::{Connection, ConnectionProperties};
use semalink_bus::amqp::{AmqpBus, AmqpConfig};
use semalink_bus::{BatchConfig, Bus, QueueType, Topology};
use semalink_loadtest::scenario::procs::free_port;
use semalink_loadtest::scenario::services::PrivateRabbit;
use semalink_protocol::contracts::InboundMessage;
use tokio_util::sync::CancellationToken;

use crate::behaviour::{self, LIMIT, keys, next};

const SHARED: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// A bus on `url` with fresh queue names of `queue_type`, connected.
struct TestBus {
    bus: Bus,
    topology: Topology,
    url: String,
    stop: CancellationToken,
}

impl TestBus {
    async fn start(url: &str, queue_type: QueueType, batch: BatchConfig) -> TestBus {
        let bus = TestBus::new(url, queue_type, batch);
        bus.ready().await;
        bus
    }

    fn new(url: &str, queue_type: QueueType, batch: BatchConfig) -> TestBus {
        let tag = format!("bus-it-{:08x}", fastrand::u32(..));
        let topology = Topology {
            priority: format!("{tag}.priority"),
            normal: format!("{tag}.normal"),
            status: format!("{tag}.status"),
            inbound: format!("{tag}.inbound"),
            queue_type,
            delivery_limit: 3,
            ..Topology::default()
        }
        .with_delays(&[200]);
        let config = AmqpConfig {
            topology: topology.clone(),
            batch,
            reconnect_min: Duration::from_millis(50),
            reconnect_max: Duration::from_millis(500),
            ..AmqpConfig::new(url)
        };
        let stop = CancellationToken::new();
        TestBus {
            bus: Bus::Amqp(AmqpBus::start(config, stop.clone())),
            topology,
            url: url.to_owned(),
            stop,
        }
    }

    async fn ready(&self) {
        let mut ready = self.bus.readiness();
        tokio::time::timeout(LIMIT, ready.wait_for(|r| *r))
            .await
            .expect("connected in time")
            .unwrap();
    }

    /// Stops the bus and deletes the test's queues.
    async fn finish(self) {
        self.stop.cancel();
        let conn = Connection::connect(&self.url, ConnectionProperties::default())
            .await
            .unwrap();
        let channel = conn.create_channel().await.unwrap();
        for q in self.topology.all_queues() {
            let _ = channel
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        let _ = conn.close(200, "done".into()).await;
    }
}

fn batching(max_items: usize, linger_ms: u64) -> BatchConfig {
    BatchConfig {
        max_items,
        linger: Duration::from_millis(linger_ms),
        ..BatchConfig::default()
    }
}

#[tokio::test]
async fn a_batch_round_trips_on_classic_and_quorum_queues() {
    for queue_type in [QueueType::Classic, QueueType::Quorum] {
        let t = TestBus::start(SHARED, queue_type, batching(50, 20)).await;
        behaviour::batch_round_trip(&t.bus, &t.topology.normal).await;
        t.finish().await;
    }
}

#[tokio::test]
async fn a_partial_batch_failure_redelivers_only_the_undecided_on_both_queue_types() {
    for queue_type in [QueueType::Classic, QueueType::Quorum] {
        let t = TestBus::start(SHARED, queue_type, batching(10, 5_000)).await;
        behaviour::partial_failure_redelivers_only_the_undecided(&t.bus, &t.topology.normal).await;
        t.finish().await;
    }
}

#[tokio::test]
async fn a_quorum_queue_drops_a_message_requeued_past_its_delivery_limit() {
    let t = TestBus::start(SHARED, QueueType::Quorum, batching(10, 5)).await;
    let p = t
        .bus
        .publisher::<InboundMessage>(&t.topology.normal)
        .unwrap();
    behaviour::publish_all(&p, 7..8).await;
    let mut sub = t
        .bus
        .subscribe::<InboundMessage>(&t.topology.normal, 1)
        .unwrap();
    // delivery_limit 3: the first delivery and three redeliveries, then the broker drops it.
    for _ in 0..4 {
        let d = next(&mut sub).await;
        assert_eq!(keys(&d), [7]);
        let all = vec![behaviour::message(7)];
        assert!(d.requeue(all).await);
    }
    behaviour::nothing_more(&mut sub).await;
    t.finish().await;
}

#[tokio::test]
async fn publishing_is_bounded_while_the_broker_is_down_and_resumes_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("bus-it-rabbit-{:08x}", fastrand::u32(..)));
    let (port, dist) = (free_port().unwrap(), free_port().unwrap());
    let url = format!("amqp://guest:guest@127.0.0.1:{port}/%2f");
    let batch = BatchConfig {
        max_items: 2,
        linger: Duration::ZERO,
        capacity: 4,
        max_in_flight: 1,
    };
    // Nothing listens yet: the publisher takes what its bounds allow, then waits.
    let t = TestBus::new(&url, QueueType::Classic, batch);
    let p = t
        .bus
        .publisher::<InboundMessage>(&t.topology.status)
        .unwrap();
    let (accepted, blocked) = behaviour::fill(&p, 0, Duration::from_millis(300)).await;
    assert!(accepted <= 7, "{accepted} accepted with room for 7");
    assert!(!blocked.is_finished());
    let mut rabbit = PrivateRabbit::start(&dir, &format!("bus{port}"), port, dist)
        .await
        .unwrap();
    t.ready().await;
    tokio::time::timeout(LIMIT, blocked).await.unwrap().unwrap();
    let mut sub = t
        .bus
        .subscribe::<InboundMessage>(&t.topology.status, 4)
        .unwrap();
    let mut seen = HashSet::new();
    while seen.len() < accepted as usize + 1 {
        let d = next(&mut sub).await;
        seen.extend(keys(&d));
        assert!(d.ack().await);
    }
    assert_eq!(seen, (0..=accepted).collect());

    // One delivery taken and not settled, one message waiting: both survive a restart.
    behaviour::publish_all(&p, 100..101).await;
    let unsettled = next(&mut sub).await;
    assert_eq!(keys(&unsettled), [100]);
    rabbit.restart().await.unwrap();
    assert!(!unsettled.ack().await, "an ack on the dead channel");
    t.ready().await;
    behaviour::publish_all(&p, 101..102).await;
    let mut after = HashSet::new();
    while after.len() < 2 {
        let d = next(&mut sub).await;
        if keys(&d) == [100] {
            assert!(d.redelivered());
        }
        after.extend(keys(&d));
        assert!(d.ack().await);
    }
    assert_eq!(after, HashSet::from([100, 101]));
    t.stop.cancel();
    rabbit.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 13's lost finals: a broker restart while envelopes wait for their confirms. Every
/// item's confirm must resolve `Ok` (confirmed on the old connection, or republished and
/// confirmed on the new one) and every item so confirmed must be in the queue afterwards —
/// never a confirm resolved without the broker holding the item, never one left hanging.
#[tokio::test]
async fn every_confirm_outstanding_across_a_broker_restart_is_kept_or_republished() {
    let dir = std::env::temp_dir().join(format!("bus-it-rabbit-{:08x}", fastrand::u32(..)));
    let (port, dist) = (free_port().unwrap(), free_port().unwrap());
    let url = format!("amqp://guest:guest@127.0.0.1:{port}/%2f");
    let mut rabbit = PrivateRabbit::start(&dir, &format!("bus{port}"), port, dist)
        .await
        .unwrap();
    let t = TestBus::start(&url, QueueType::Classic, batching(50, 2)).await;
    let p = t
        .bus
        .publisher::<InboundMessage>(&t.topology.status)
        .unwrap();
    const N: u128 = 20_000;
    // Items go out without waiting for their confirms (as the engine's segment tasks do);
    // each confirm is awaited in a task of its own.
    let producer = tokio::spawn({
        let p = p.clone();
        async move {
            let mut waits = Vec::with_capacity(N as usize);
            for k in 0..N {
                let confirm = p.send(behaviour::message(k)).await.unwrap();
                waits.push(tokio::spawn(async move { (k, confirm.await) }));
            }
            waits
        }
    });
    // Restart while publishes and confirms are under way.
    tokio::time::sleep(Duration::from_millis(300)).await;
    rabbit.restart().await.unwrap();
    let waits = tokio::time::timeout(LIMIT * 4, producer)
        .await
        .expect("every item handed over")
        .unwrap();
    let mut confirmed = HashSet::new();
    for w in waits {
        let (k, r) = tokio::time::timeout(LIMIT * 4, w)
            .await
            .expect("every confirm resolves")
            .unwrap();
        assert!(r.is_ok(), "item {k}: {r:?} while the bus runs");
        confirmed.insert(k);
    }
    assert_eq!(confirmed.len(), N as usize);
    let mut sub = t
        .bus
        .subscribe::<InboundMessage>(&t.topology.status, 64)
        .unwrap();
    let mut seen = HashSet::new();
    while seen.len() < N as usize {
        let d = next(&mut sub).await;
        seen.extend(keys(&d));
        assert!(d.ack().await);
    }
    let missing: Vec<_> = confirmed.difference(&seen).take(10).collect();
    assert!(
        missing.is_empty(),
        "confirmed but not in the queue: {missing:?}"
    );
    t.stop.cancel();
    rabbit.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
