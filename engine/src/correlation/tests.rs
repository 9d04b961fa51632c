//! Behaviour of the in-process store: parking, matching, expiry, pinning, unmatched reports.

use std::sync::Arc;
use std::time::{Duration, Instant};

use semalink_protocol::dlr::{Receipt, Stat};
use semalink_protocol::msgid::{IdPolicy, Side, canonical};
use uuid::Uuid;

use super::*;

const TTL: Duration = Duration::from_secs(60);
const PARKED: Duration = Duration::from_secs(10);

fn store() -> MemoryStore {
    MemoryStore::new(TTL, PARKED)
}

fn key(upstream: u16, id: &str, side: Side) -> CorrelationKey {
    CorrelationKey {
        upstream,
        id: canonical(id, side, IdPolicy::HexToDecimal),
    }
}

fn seg(n: u128, segment: u16) -> SegmentKey {
    SegmentKey {
        message_id: Uuid::from_u128(n),
        segment,
        segments: 1,
    }
}

fn receipt(id: &str, stat: Stat) -> Receipt {
    Receipt::new(id, stat)
}

#[tokio::test]
async fn receipts_match_across_id_forms() {
    let s = store();
    assert!(
        s.insert(key(0, "0x1F", Side::SubmitResp), seg(1, 1))
            .await
            .unwrap()
            .is_empty()
    );
    let k = key(0, "31", Side::Receipt);
    assert_eq!(s.lookup(&k).await.unwrap(), Some(seg(1, 1)));
    let r = receipt("31", Stat::Delivered);
    assert_eq!(
        s.park_receipt(k, r.clone()).await.unwrap(),
        ReceiptMatch::Matched {
            target: seg(1, 1),
            receipt: r
        }
    );
    // The same id from another upstream is another message.
    assert_eq!(s.lookup(&key(1, "31", Side::Receipt)).await.unwrap(), None);
}

#[tokio::test]
async fn early_receipts_are_parked_and_handed_to_the_insert() {
    let s = store();
    let k = key(0, "77", Side::Receipt);
    let enroute = receipt("77", Stat::Enroute);
    let delivered = receipt("77", Stat::Delivered);
    assert_eq!(
        s.park_receipt(k.clone(), enroute.clone()).await.unwrap(),
        ReceiptMatch::Parked
    );
    assert_eq!(
        s.park_receipt(k.clone(), delivered.clone()).await.unwrap(),
        ReceiptMatch::Parked
    );
    assert_eq!(s.stats().await.unwrap().parked, 2);
    let handed = s
        .insert(key(0, "4D", Side::SubmitResp), seg(2, 3))
        .await
        .unwrap();
    assert_eq!(handed, vec![enroute, delivered], "oldest first");
    let stats = s.stats().await.unwrap();
    assert_eq!((stats.parked, stats.mappings), (0, 1));
    assert!(
        s.sweep_at(Instant::now() + PARKED * 2).is_empty(),
        "nothing left to report"
    );
}

#[test]
fn unmatched_receipts_are_reported_after_their_ttl() {
    let s = store();
    let t0 = Instant::now();
    s.park_at(
        key(0, "5", Side::Receipt),
        receipt("5", Stat::Delivered),
        t0,
    );
    s.park_at(
        key(0, "5", Side::Receipt),
        receipt("5", Stat::Delivered),
        t0 + PARKED / 2,
    );
    assert!(s.sweep_at(t0 + PARKED / 2).is_empty());
    let first = s.sweep_at(t0 + PARKED);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].receipt.id, "5");
    assert_eq!(s.sizes().parked, 1, "the younger duplicate still waits");
    assert_eq!(s.sweep_at(t0 + PARKED * 2).len(), 1);
    let stats = s.sizes();
    assert_eq!((stats.parked, stats.unmatched_total), (0, 2));
}

#[tokio::test]
async fn mappings_expire_unless_their_message_is_pinned() {
    let s = store();
    let t0 = Instant::now();
    let (a, b) = (key(0, "1", Side::SubmitResp), key(0, "2", Side::SubmitResp));
    s.insert_at(a.clone(), seg(10, 1), t0);
    s.insert_at(b.clone(), seg(11, 1), t0);
    s.pin(Uuid::from_u128(11)).await.unwrap();
    s.pin(Uuid::from_u128(11)).await.unwrap();
    s.sweep_at(t0 + TTL - Duration::from_secs(1));
    assert_eq!(s.sizes().mappings, 2);
    s.sweep_at(t0 + TTL);
    assert_eq!(s.get(&a), None, "expired");
    assert_eq!(s.get(&b), Some(seg(11, 1)), "pinned while being retried");
    s.unpin(Uuid::from_u128(11)).await.unwrap();
    s.sweep_at(t0 + TTL * 2);
    assert!(s.get(&b).is_some(), "one pin is still held");
    s.unpin(Uuid::from_u128(11)).await.unwrap();
    s.sweep_at(t0 + TTL * 3);
    assert_eq!(s.get(&b), None);
}

#[test]
fn a_reinserted_key_lives_from_its_last_insert() {
    let s = store();
    let t0 = Instant::now();
    let k = key(0, "9", Side::SubmitResp);
    s.insert_at(k.clone(), seg(1, 1), t0);
    s.insert_at(k.clone(), seg(1, 2), t0 + TTL / 2);
    s.sweep_at(t0 + TTL);
    assert_eq!(s.get(&k), Some(seg(1, 2)));
    s.sweep_at(t0 + TTL + TTL / 2);
    assert_eq!(s.get(&k), None);
}

/// Receipts and responses racing on many tasks: every receipt is matched exactly once,
/// whichever side comes first.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_receipts_and_responses_all_match() {
    let s = Arc::new(store());
    let n = 2_000u128;
    let mut tasks = Vec::new();
    for i in 0..n {
        let s1 = s.clone();
        tasks.push(tokio::spawn(async move {
            let k = key(0, &format!("{i:x}"), Side::SubmitResp);
            s1.insert(k, seg(i + 1, 1)).await.unwrap().len()
        }));
        let s2 = s.clone();
        tasks.push(tokio::spawn(async move {
            let id = i.to_string();
            match s2
                .park_receipt(key(0, &id, Side::Receipt), receipt(&id, Stat::Delivered))
                .await
                .unwrap()
            {
                ReceiptMatch::Matched { target, .. } => {
                    assert_eq!(target, seg(i + 1, 1));
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
    assert_eq!(
        matched, n as usize,
        "each receipt matched once, at park or at insert"
    );
    assert_eq!(s.stats().await.unwrap().parked, 0);
}
