//! `loadgen amqp` against the real RabbitMQ (`AMQP_URL`, default guest/guest on 127.0.0.1).
//! Every test uses queues named after a fresh UUID, so parallel runs never share one, and
//! deletes them at the end.

use std::{collections::HashSet, time::Duration};

use lapin::{
    BasicProperties, Channel,
    options::{BasicGetOptions, BasicPublishOptions, QueueDeleteOptions},
};
use semalink_loadtest::loadgen::{
    amqp::{self, AmqpOptions},
    mix::MixOptions,
};
use semalink_protocol::contracts::{self, DeliveryState, Priority, StatusEvent, SubmitRequest};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::common::within;

fn url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// Options for `n` messages to queues of a fresh name, 30 % in the priority lane.
fn options(n: u64, status: bool) -> AmqpOptions {
    let tag = Uuid::new_v4();
    let mut o = AmqpOptions::new(url(), n);
    o.normal_queue = format!("loadgen-it-{tag}.normal");
    o.priority_queue = format!("loadgen-it-{tag}.priority");
    o.status_queue = status.then(|| format!("loadgen-it-{tag}.status"));
    o.mix = MixOptions {
        priority_share: 0.3,
        seed: 7,
        ..MixOptions::default()
    };
    o
}

async fn channel() -> (lapin::Connection, Channel) {
    let conn = amqp::connect(&url()).await.unwrap();
    let ch = conn.create_channel().await.unwrap();
    (conn, ch)
}

/// Takes one message (a bare request or an envelope of them) off `queue`, if there is one.
async fn take(ch: &Channel, queue: &str) -> Option<(Vec<SubmitRequest>, BasicProperties)> {
    let got = ch
        .basic_get(queue.into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()?;
    let reqs = contracts::decode_batch::<SubmitRequest>(&got.delivery.data)
        .expect("an envelope")
        .into_iter()
        .map(|r| r.expect("a valid SubmitRequest"))
        .collect();
    Some((reqs, got.delivery.properties))
}

async fn delete(ch: &Channel, queues: &[&str]) {
    for q in queues {
        ch.queue_delete((*q).into(), QueueDeleteOptions::default())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn publishes_the_mix_persistently_and_splits_the_lanes() {
    let opts = options(500, false);
    let report = within(amqp::run(&opts)).await.unwrap();
    assert_eq!((report.confirmed, report.refused), (500, 0));
    assert!(report.status.is_none() && !report.lost_anything());
    let expected_priority = (0..500)
        .filter(|&i| opts.mix.generate(i).request.priority == Priority::High)
        .count();
    assert_eq!(report.to_priority as usize, expected_priority);
    assert!(
        (100..200).contains(&expected_priority),
        "{expected_priority}"
    );

    let (_conn, ch) = channel().await;
    let mut ids = HashSet::new();
    for (queue, lane) in [
        (&opts.normal_queue, Priority::Normal),
        (&opts.priority_queue, Priority::High),
    ] {
        let mut count = 0;
        let mut envelopes = 0;
        while let Some((reqs, props)) = within(take(&ch, queue)).await {
            envelopes += 1;
            assert_eq!(props.delivery_mode(), &Some(2), "persistent");
            for req in reqs {
                req.validate().unwrap();
                assert_eq!(req.priority, lane, "{queue}");
                assert!(ids.insert(req.message_id), "unique ids");
                count += 1;
            }
        }
        assert!(
            envelopes < count,
            "{queue}: {count} requests in {envelopes} messages"
        );
        let want = match lane {
            Priority::High => expected_priority,
            Priority::Normal => 500 - expected_priority,
        };
        assert_eq!(count, want, "{queue}");
    }
    assert_eq!(ids.len(), 500);
    delete(&ch, &[&opts.normal_queue, &opts.priority_queue]).await;
}

/// Plays the engine: takes each published request and answers a final `delivered` event on
/// the status queue; the first one twice, and none for the last `skip`.
async fn play_engine(opts: &AmqpOptions, skip: usize) {
    let (_conn, ch) = channel().await;
    let status = opts.status_queue.as_deref().unwrap();
    for q in [&opts.normal_queue, &opts.priority_queue] {
        amqp::declare_durable(&ch, q).await.unwrap();
    }
    amqp::declare_durable(&ch, status).await.unwrap();
    let mut answered = 0;
    let mut seen = 0;
    while seen < opts.messages as usize {
        let mut got = within(take(&ch, &opts.priority_queue)).await;
        if got.is_none() {
            got = within(take(&ch, &opts.normal_queue)).await;
        }
        let Some((reqs, _)) = got else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        for req in reqs {
            seen += 1;
            if seen > opts.messages as usize - skip {
                continue;
            }
            let event = StatusEvent {
                version: contracts::VERSION,
                message_id: req.message_id,
                segment: None,
                state: DeliveryState::Delivered,
                upstream: Some("it".into()),
                smsc_message_id: None,
                error: None,
                error_text: None,
                occurred_at: OffsetDateTime::now_utc(),
                done_at: None,
            };
            let payload = contracts::encode(&event).unwrap();
            let times = if answered == 0 { 2 } else { 1 };
            for _ in 0..times {
                ch.basic_publish(
                    "".into(),
                    status.into(),
                    BasicPublishOptions::default(),
                    &payload,
                    BasicProperties::default(),
                )
                .await
                .unwrap();
            }
            answered += 1;
        }
    }
}

#[tokio::test]
async fn status_round_trip_counts_finals_and_duplicates() {
    let opts = options(100, true);
    let run = tokio::spawn({
        let opts = opts.clone();
        async move { amqp::run(&opts).await }
    });
    within(play_engine(&opts, 0)).await;
    let report = within(run).await.unwrap().unwrap();
    let (_conn, ch) = channel().await;
    let status = opts.status_queue.clone().unwrap();
    delete(&ch, &[&opts.normal_queue, &opts.priority_queue, &status]).await;
    let s = report.status.as_ref().unwrap();
    assert_eq!((s.finals, s.delivered, s.lost), (100, 100, 0));
    assert_eq!((s.duplicates, s.foreign, s.undecodable), (1, 0, 0));
    assert_eq!(s.latency_ms.count, 100);
    assert!(!report.lost_anything());
}

#[tokio::test]
async fn messages_without_a_final_event_are_lost() {
    let mut opts = options(20, true);
    // Long enough for the 17 answers on a loaded machine; the 3 missing ones never come.
    opts.final_wait = Duration::from_secs(8);
    let run = tokio::spawn({
        let opts = opts.clone();
        async move { amqp::run(&opts).await }
    });
    within(play_engine(&opts, 3)).await;
    let report = within(run).await.unwrap().unwrap();
    let (_conn, ch) = channel().await;
    let status = opts.status_queue.clone().unwrap();
    delete(&ch, &[&opts.normal_queue, &opts.priority_queue, &status]).await;
    let s = report.status.as_ref().unwrap();
    assert_eq!((s.finals, s.lost), (17, 3));
    assert!(report.lost_anything());
}
