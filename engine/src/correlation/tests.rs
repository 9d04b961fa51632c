//! The in-process store at chosen instants (`*_at`): expiry, pinning and unmatched reports
//! to the exact boundary. The contract both stores keep (matching, parking, racing,
//! redeliveries, final claims) is tested on both in `tests/it/shared/store.rs`.

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
