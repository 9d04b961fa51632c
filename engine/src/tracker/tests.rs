//! Segment outcomes → message events: one final event, never twice, never backwards.

use std::time::{Duration, Instant};

use semalink_protocol::contracts::{DeliveryState, ErrorKind, SegmentRef};
use semalink_protocol::dlr::{Receipt, Stat};
use uuid::Uuid;

use super::*;

const ID: Uuid = Uuid::from_u128(0xabc);

fn tracker() -> Tracker {
    Tracker::new(Duration::from_secs(60))
}

fn state_of(t: Option<Transition>) -> Option<DeliveryState> {
    t.map(|t| t.event.state)
}

fn rc(stat: Stat) -> Receipt {
    Receipt::new("99", stat)
}

#[test]
fn a_single_message_goes_sent_then_delivered() {
    let t = tracker();
    assert_eq!(t.begin(ID, 1), Begin::New);
    let sent = t.sent(ID, 1, "sim", "99").unwrap();
    assert_eq!(sent.event.state, DeliveryState::Sent);
    assert_eq!(sent.event.smsc_message_id.as_deref(), Some("99"));
    assert_eq!(sent.event.upstream.as_deref(), Some("sim"));
    assert_eq!(sent.event.segment, None);
    let done = t.receipt(ID, 1, "sim", &rc(Stat::Delivered)).unwrap();
    assert_eq!(done.event.state, DeliveryState::Delivered);
    assert!(done.elapsed >= sent.elapsed);
    assert_eq!(
        t.receipt(ID, 1, "sim", &rc(Stat::Delivered)),
        None,
        "duplicate receipt"
    );
    assert_eq!(
        t.receipt(ID, 1, "sim", &rc(Stat::Undeliverable)),
        None,
        "final is final"
    );
    assert_eq!(t.state(ID), Some(DeliveryState::Delivered));
}

#[test]
fn a_long_message_is_sent_and_delivered_only_when_every_segment_is() {
    let t = tracker();
    t.begin(ID, 3);
    assert_eq!(t.sent(ID, 2, "sim", "a"), None);
    assert_eq!(
        t.sent(ID, 2, "sim", "a"),
        None,
        "a repeated response counts once"
    );
    assert_eq!(t.sent(ID, 1, "sim", "b"), None);
    let sent = t.sent(ID, 3, "sim", "c").unwrap();
    assert_eq!(
        (sent.event.state, sent.event.smsc_message_id),
        (DeliveryState::Sent, None)
    );
    assert_eq!(t.receipt(ID, 1, "sim", &rc(Stat::Delivered)), None);
    assert_eq!(
        t.receipt(ID, 1, "sim", &rc(Stat::Delivered)),
        None,
        "duplicate of segment 1"
    );
    assert_eq!(t.receipt(ID, 3, "sim", &rc(Stat::Delivered)), None);
    let done = t.receipt(ID, 2, "sim", &rc(Stat::Delivered));
    assert_eq!(state_of(done), Some(DeliveryState::Delivered));
}

#[test]
fn the_first_failure_decides_and_later_ones_are_silent() {
    let t = tracker();
    t.begin(ID, 3);
    for s in 1..=3 {
        t.sent(ID, s, "sim", "x");
    }
    t.receipt(ID, 1, "sim", &rc(Stat::Delivered));
    let mut expired = rc(Stat::Expired);
    expired.err = Some("034".into());
    let failed = t.receipt(ID, 2, "sim", &expired).unwrap();
    assert_eq!(failed.event.state, DeliveryState::Expired);
    assert_eq!(
        failed.event.error.map(|e| (e.kind, e.code)),
        Some((ErrorKind::Receipt, 34))
    );
    assert_eq!(failed.event.error_text.as_deref(), Some("EXPIRED"));
    assert_eq!(t.receipt(ID, 3, "sim", &rc(Stat::Rejected)), None);
    assert_eq!(t.receipt(ID, 3, "sim", &rc(Stat::Delivered)), None);
    assert_eq!(t.state(ID), Some(DeliveryState::Expired));
}

#[test]
fn a_permanent_submit_error_fails_the_message_at_once() {
    let t = tracker();
    t.begin(ID, 2);
    t.sent(ID, 1, "sim", "x");
    let failed = t
        .submit_failed(ID, 2, "sim", 0x0B, "ESME_RINVDSTADR")
        .unwrap();
    assert_eq!(failed.event.state, DeliveryState::Failed);
    let e = failed.event.error.unwrap();
    assert_eq!((e.kind, e.code), (ErrorKind::CommandStatus, 0x0B));
    // Segment 1's later receipt changes nothing.
    assert_eq!(t.receipt(ID, 1, "sim", &rc(Stat::Delivered)), None);
}

#[test]
fn intermediate_receipts_report_once_per_segment_and_never_finalise() {
    let t = tracker();
    t.begin(ID, 2);
    t.sent(ID, 1, "sim", "x");
    t.sent(ID, 2, "sim", "y");
    let e = t.receipt(ID, 1, "sim", &rc(Stat::Enroute)).unwrap().event;
    assert_eq!(e.state, DeliveryState::Intermediate);
    assert_eq!(e.segment, Some(SegmentRef { index: 1, total: 2 }));
    assert_eq!(
        t.receipt(ID, 1, "sim", &rc(Stat::Accepted)),
        None,
        "already intermediate"
    );
    assert!(t.receipt(ID, 2, "sim", &rc(Stat::Buffered)).is_some());
    assert_eq!(t.state(ID), Some(DeliveryState::Sent));
    t.receipt(ID, 1, "sim", &rc(Stat::Delivered));
    let done = t.receipt(ID, 2, "sim", &rc(Stat::Delivered));
    assert_eq!(state_of(done), Some(DeliveryState::Delivered));
    assert_eq!(
        t.receipt(ID, 2, "sim", &rc(Stat::Enroute)),
        None,
        "nothing after final"
    );
}

#[test]
fn a_receipt_before_the_last_response_still_decides_once() {
    let t = tracker();
    t.begin(ID, 1);
    let done = t.receipt(ID, 1, "sim", &rc(Stat::Delivered));
    assert_eq!(state_of(done), Some(DeliveryState::Delivered));
    assert_eq!(
        t.sent(ID, 1, "sim", "99"),
        None,
        "a late sent never follows delivered"
    );
}

#[test]
fn engine_decided_outcomes_and_unknown_ids() {
    let t = tracker();
    t.begin(ID, 1);
    assert_eq!(
        t.finish(ID, DeliveryState::Sent, None, "no"),
        None,
        "only final states"
    );
    let e = t
        .finish(ID, DeliveryState::Expired, None, "expired before sending")
        .unwrap();
    assert_eq!(e.event.state, DeliveryState::Expired);
    assert_eq!(t.finish(ID, DeliveryState::Rejected, None, "again"), None);
    let other = Uuid::from_u128(5);
    assert_eq!(t.sent(other, 1, "sim", "1"), None, "untracked message");
    assert_eq!(
        t.receipt(ID, 9, "sim", &rc(Stat::Delivered)),
        None,
        "segment out of range"
    );
}

#[test]
fn duplicates_are_recognised_until_the_retention_ends() {
    let t = Tracker::new(Duration::from_secs(10));
    let t0 = Instant::now();
    assert_eq!(t.begin_at(ID, 1, t0), Begin::New);
    assert_eq!(t.begin(ID, 1), Begin::Duplicate);
    t.sent(ID, 1, "sim", "1");
    assert_eq!(
        t.sweep_at(Instant::now() + Duration::from_secs(3600)),
        0,
        "in flight: kept"
    );
    t.receipt(ID, 1, "sim", &rc(Stat::Delivered));
    assert_eq!(t.sweep(), 0);
    assert_eq!(t.begin(ID, 1), Begin::Duplicate, "recently finished");
    assert_eq!(t.sweep_at(Instant::now() + Duration::from_secs(11)), 1);
    assert!(t.is_empty());
    assert_eq!(t.begin(ID, 1), Begin::New);
}

#[test]
fn segments_can_be_set_until_the_first_outcome() {
    let t = tracker();
    t.begin(ID, 1);
    assert!(t.set_segments(ID, 2));
    assert_eq!(t.sent(ID, 1, "sim", "a"), None, "two segments now");
    assert!(!t.set_segments(ID, 3), "segment 1 already sent");
    assert_eq!(
        state_of(t.sent(ID, 2, "sim", "b")),
        Some(DeliveryState::Sent)
    );
    assert!(!t.set_segments(Uuid::from_u128(1), 2), "unknown id");
    t.forget(ID);
    assert_eq!(
        t.begin(ID, 1),
        Begin::New,
        "a forgotten id can be submitted again"
    );
}

#[test]
fn sent_messages_are_forgotten_after_keep_sent_and_their_receipts_still_decide() {
    use crate::correlation::{SegmentKey, Settled};
    let t = Tracker::new(Duration::from_secs(60)).keep_sent(Duration::from_secs(10));
    let t0 = Instant::now();
    t.begin(ID, 2);
    t.sent(ID, 1, "sim", "1");
    t.sent(ID, 2, "sim", "2");
    assert_eq!(t.sweep_at(t0 + Duration::from_secs(5)), 0);
    assert_eq!(t.sweep_at(t0 + Duration::from_secs(11)), 1);
    assert_eq!(t.state(ID), None);
    // The other part's receipt went to another engine; the store says both are delivered.
    let target = SegmentKey {
        message_id: ID,
        segment: 2,
        segments: 2,
    };
    let done = t
        .receipt_settled(
            target,
            "sim",
            &rc(Stat::Delivered),
            Some(Settled::Delivered),
        )
        .unwrap();
    assert_eq!(done.event.state, DeliveryState::Delivered);
    assert_eq!(done.elapsed, None, "not begun here");
    assert_eq!(
        t.state(ID),
        Some(DeliveryState::Delivered),
        "remembered once final"
    );
    let pending = Uuid::from_u128(0xdef);
    let target = SegmentKey {
        message_id: pending,
        segment: 1,
        segments: 2,
    };
    assert_eq!(
        t.receipt_settled(target, "sim", &rc(Stat::Delivered), Some(Settled::Pending)),
        None
    );
    assert_eq!(t.state(pending), None, "an undecided stranger is not kept");
}
