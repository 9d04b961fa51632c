//! The [`CorrelationStore`] contract, run against both stores with the same assertions, and
//! what only a shared store can show: one instance parks, another matches.

use std::sync::Arc;
use std::time::Duration;

use semalink_engine::correlation::{
    CorrelationKey, CorrelationStore, MemoryStore, ReceiptMatch, SegmentKey, Settled, Unmatched,
};
use semalink_protocol::dlr::{Receipt, Stat};
use semalink_protocol::msgid::{IdPolicy, Side, canonical};
use uuid::Uuid;

use super::{cleanup, prefix, redis_store};

const TTL: Duration = Duration::from_secs(2);
const PARKED: Duration = Duration::from_secs(1);

fn key(upstream: u16, id: &str, side: Side) -> CorrelationKey {
    CorrelationKey {
        upstream,
        id: canonical(id, side, IdPolicy::HexToDecimal),
    }
}

fn seg(id: Uuid, segment: u16, segments: u16) -> SegmentKey {
    SegmentKey {
        message_id: id,
        segment,
        segments,
    }
}

/// Runs `check` on an in-process store and on a Redis store (fresh prefix, deleted after).
macro_rules! on_both_stores {
    ($check:ident) => {{
        $check(&MemoryStore::new(TTL, PARKED)).await;
        let prefix = prefix();
        $check(&redis_store(&prefix, TTL, PARKED)).await;
        cleanup(&prefix).await;
    }};
}

/// Lets `d` pass, sweeping as the engine does; returns what the sweeps reported.
async fn pass<S: CorrelationStore>(s: &S, d: Duration) -> Vec<Unmatched> {
    let until = tokio::time::Instant::now() + d;
    let mut reported = Vec::new();
    while tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(200)).await;
        reported.extend(s.sweep().await.unwrap());
    }
    reported
}

async fn matching_and_parking<S: CorrelationStore>(s: &S) {
    let a = Uuid::now_v7();
    assert!(
        s.insert(key(0, "0x1F", Side::SubmitResp), seg(a, 1, 1))
            .await
            .unwrap()
            .is_empty()
    );
    let k = key(0, "31", Side::Receipt);
    assert_eq!(s.lookup(&k).await.unwrap(), Some(seg(a, 1, 1)));
    let r = Receipt::new("31", Stat::Delivered);
    assert_eq!(
        s.park_receipt(k, r.clone()).await.unwrap(),
        ReceiptMatch::Matched {
            target: seg(a, 1, 1),
            receipt: r
        }
    );
    // The same id from another upstream is another message.
    assert_eq!(s.lookup(&key(1, "31", Side::Receipt)).await.unwrap(), None);

    let b = Uuid::now_v7();
    let early = key(0, "77", Side::Receipt);
    let enroute = Receipt::new("77", Stat::Enroute);
    let delivered = Receipt::new("77", Stat::Delivered);
    for r in [&enroute, &delivered] {
        assert_eq!(
            s.park_receipt(early.clone(), r.clone()).await.unwrap(),
            ReceiptMatch::Parked
        );
    }
    assert_eq!(s.stats().await.unwrap().parked, 2);
    let handed = s
        .insert(key(0, "4D", Side::SubmitResp), seg(b, 3, 3))
        .await
        .unwrap();
    assert_eq!(handed, vec![enroute, delivered], "oldest first");
    assert_eq!(s.stats().await.unwrap().parked, 0);
    s.remove(&key(0, "4D", Side::SubmitResp)).await.unwrap();
    assert_eq!(s.lookup(&key(0, "77", Side::Receipt)).await.unwrap(), None);
    assert!(
        pass(s, PARKED * 2).await.is_empty(),
        "nothing left to report"
    );
}

#[tokio::test]
async fn receipts_match_or_wait_for_their_response() {
    on_both_stores!(matching_and_parking);
}

async fn unmatched_reports<S: CorrelationStore>(s: &S) {
    s.park_receipt(
        key(2, "5", Side::Receipt),
        Receipt::new("5", Stat::Delivered),
    )
    .await
    .unwrap();
    let reported = pass(s, PARKED * 2).await;
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(reported[0].key, key(2, "5", Side::Receipt));
    assert_eq!(reported[0].receipt.id, "5");
    let stats = s.stats().await.unwrap();
    assert_eq!((stats.parked, stats.unmatched_total), (0, 1));
}

#[tokio::test]
async fn unmatched_receipts_are_reported_once_after_their_ttl() {
    on_both_stores!(unmatched_reports);
}

async fn pins<S: CorrelationStore>(s: &S) {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let (ka, kb) = (key(0, "1", Side::SubmitResp), key(0, "2", Side::SubmitResp));
    s.insert(ka.clone(), seg(a, 1, 1)).await.unwrap();
    s.insert(kb.clone(), seg(b, 1, 1)).await.unwrap();
    s.pin(b).await.unwrap();
    s.pin(b).await.unwrap();
    pass(s, TTL + PARKED / 2).await;
    assert_eq!(s.lookup(&ka).await.unwrap(), None, "expired");
    assert_eq!(
        s.lookup(&kb).await.unwrap(),
        Some(seg(b, 1, 1)),
        "pinned while being retried"
    );
    s.unpin(b).await.unwrap();
    pass(s, TTL + PARKED / 2).await;
    assert!(s.lookup(&kb).await.unwrap().is_some(), "one pin still held");
    s.unpin(b).await.unwrap();
    pass(s, TTL + PARKED / 2).await;
    assert_eq!(s.lookup(&kb).await.unwrap(), None);
}

#[tokio::test]
async fn mappings_expire_unless_their_message_is_pinned() {
    on_both_stores!(pins);
}

async fn redeliveries_and_finals<S: CorrelationStore>(s: &S) {
    let m = Uuid::now_v7();
    let first = s.begin_message(m).await.unwrap();
    assert!(!first.seen && first.accepted.is_empty(), "{first:?}");
    s.insert(key(0, "9", Side::SubmitResp), seg(m, 3, 3))
        .await
        .unwrap();
    s.insert(key(0, "A", Side::SubmitResp), seg(m, 1, 3))
        .await
        .unwrap();
    let again = s.begin_message(m).await.unwrap();
    assert!(again.seen);
    assert_eq!(again.accepted, [(1, "10".to_owned()), (3, "9".to_owned())]);

    let settle = |target, delivered| async move {
        let s = s.settle(target, delivered).await.unwrap();
        (s.verdict, s.claimed)
    };
    assert_eq!(settle(seg(m, 1, 3), true).await, (Settled::Pending, false));
    assert_eq!(settle(seg(m, 3, 3), true).await, (Settled::Pending, false));
    // The first outcome of a segment wins: a conflicting duplicate changes nothing.
    assert_eq!(settle(seg(m, 1, 3), false).await, (Settled::Pending, false));
    assert_eq!(
        settle(seg(m, 2, 3), true).await,
        (Settled::Delivered, true),
        "the deciding receipt claims the final event"
    );
    assert_eq!(
        settle(seg(m, 2, 3), true).await,
        (Settled::Delivered, false),
        "a duplicate finds it claimed"
    );
    assert!(!s.claim_final(m).await.unwrap(), "one claim per message");
    s.release_final(m).await.unwrap();
    assert!(s.claim_final(m).await.unwrap(), "a released claim is free");
    s.confirm_final(m).await.unwrap();
    assert!(s.final_published(m).await.unwrap());
    assert!(
        !s.claim_final(m).await.unwrap(),
        "a published final is not claimed again"
    );

    // An engine-decided final (claimed apart) leaves nothing for a later failure receipt.
    let f = Uuid::now_v7();
    assert!(s.claim_final(f).await.unwrap());
    assert_eq!(settle(seg(f, 2, 2), false).await, (Settled::Failed, false));
}

#[tokio::test]
async fn redeliveries_see_accepted_segments_and_one_final_claim_wins() {
    on_both_stores!(redeliveries_and_finals);
}

/// Receipts and responses racing on many tasks: every receipt is matched exactly once,
/// whichever side comes first.
async fn racing<S: CorrelationStore>(s: Arc<S>) {
    let n = 500u128;
    let base = Uuid::now_v7().as_u128() & !0xFFFF;
    let mut tasks = Vec::new();
    for i in 0..n {
        let s1 = s.clone();
        tasks.push(tokio::spawn(async move {
            let k = key(0, &format!("{i:x}"), Side::SubmitResp);
            let target = seg(Uuid::from_u128(base + i), 1, 1);
            s1.insert(k, target).await.unwrap().len()
        }));
        let s2 = s.clone();
        tasks.push(tokio::spawn(async move {
            let id = i.to_string();
            match s2
                .park_receipt(
                    key(0, &id, Side::Receipt),
                    Receipt::new(&id, Stat::Delivered),
                )
                .await
                .unwrap()
            {
                ReceiptMatch::Matched { target, .. } => {
                    assert_eq!(target.message_id, Uuid::from_u128(base + i));
                    1
                }
                ReceiptMatch::Parked => 0,
            }
        }));
    }
    let mut matched = 0;
    for t in tasks {
        matched += t.await.unwrap();
    }
    assert_eq!(matched, n as usize, "each receipt matched once");
    assert_eq!(s.stats().await.unwrap().parked, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_receipts_and_responses_all_match_on_both_stores() {
    racing(Arc::new(MemoryStore::new(TTL, PARKED))).await;
    let prefix = prefix();
    racing(Arc::new(redis_store(&prefix, TTL, PARKED))).await;
    cleanup(&prefix).await;
}

/// Two store instances on one prefix are two engines: a receipt parked by one is handed to
/// the other's insert, a parked receipt is reported unmatched by exactly one sweeper, and
/// only one of them wins a final claim.
#[tokio::test]
async fn instances_on_one_prefix_share_parked_receipts_and_claims() {
    let prefix = prefix();
    let (a, b) = (
        redis_store(&prefix, TTL, PARKED),
        redis_store(&prefix, TTL, PARKED),
    );
    let m = Uuid::now_v7();
    let r = Receipt::new("123", Stat::Delivered);
    assert_eq!(
        a.park_receipt(key(0, "123", Side::Receipt), r.clone())
            .await
            .unwrap(),
        ReceiptMatch::Parked
    );
    assert_eq!(
        b.insert(key(0, "7B", Side::SubmitResp), seg(m, 2, 2))
            .await
            .unwrap(),
        vec![r]
    );
    assert_eq!(
        a.lookup(&key(0, "123", Side::Receipt)).await.unwrap(),
        Some(seg(m, 2, 2))
    );
    assert_eq!(
        a.begin_message(m).await.unwrap().accepted,
        [(2, "123".to_owned())]
    );

    for i in 0..10 {
        let id = format!("9{i}");
        a.park_receipt(key(0, &id, Side::Receipt), Receipt::new(&id, Stat::Expired))
            .await
            .unwrap();
    }
    let (ra, rb) = tokio::join!(pass(&a, PARKED * 2), pass(&b, PARKED * 2));
    assert_eq!(ra.len() + rb.len(), 10, "each reported once: {ra:?} {rb:?}");

    let (ca, cb) = tokio::join!(a.claim_final(m), b.claim_final(m));
    assert!(ca.unwrap() ^ cb.unwrap(), "exactly one claim wins");
    cleanup(&prefix).await;
}
