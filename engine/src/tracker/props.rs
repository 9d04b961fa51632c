//! Property test: any order of responses, duplicates and receipts over a message's segments
//! gives at most one `sent` and at most one final event, nothing after the final one, and the
//! final state a simple model predicts (delivered iff every segment's first final receipt
//! says delivered and no failure decided first).

use std::time::Duration;

use proptest::prelude::*;
use semalink_protocol::contracts::DeliveryState;
use semalink_protocol::dlr::{Outcome, Receipt, Stat};
use uuid::Uuid;

use super::Tracker;

#[derive(Debug, Clone)]
enum Op {
    Sent(u16),
    Receipt(u16, Stat),
}

fn op(n: u16) -> impl Strategy<Value = Op> {
    let stat = prop_oneof![
        3 => Just(Stat::Delivered),
        1 => Just(Stat::Undeliverable),
        1 => Just(Stat::Expired),
        1 => Just(Stat::Rejected),
        1 => Just(Stat::Enroute),
    ];
    prop_oneof![
        (1..=n).prop_map(Op::Sent),
        ((1..=n), stat).prop_map(|(s, st)| Op::Receipt(s, st)),
    ]
}

fn case() -> impl Strategy<Value = (u16, Vec<Op>)> {
    (1u16..=4).prop_flat_map(|n| (Just(n), prop::collection::vec(op(n), 0..40)))
}

/// The model: the message's final state after `ops`, if decided.
fn model(n: u16, ops: &[Op]) -> Option<DeliveryState> {
    let mut first_final: Vec<Option<Outcome>> = vec![None; usize::from(n)];
    for o in ops {
        if let Op::Receipt(s, stat) = o {
            let slot = &mut first_final[usize::from(*s) - 1];
            let outcome = stat.outcome();
            if slot.is_none() && outcome.is_final() {
                *slot = Some(outcome);
                if outcome != Outcome::Delivered {
                    return Some(DeliveryState::from(outcome));
                }
                if first_final.iter().all(|f| *f == Some(Outcome::Delivered)) {
                    return Some(DeliveryState::Delivered);
                }
            }
        }
    }
    None
}

proptest! {
    #[test]
    fn one_final_event_matching_the_model((n, ops) in case()) {
        let t = Tracker::new(Duration::from_secs(60));
        let id = Uuid::from_u128(1);
        t.begin(id, n);
        let mut events = Vec::new();
        for o in &ops {
            let tr = match o {
                Op::Sent(s) => t.sent(id, *s, "sim", "1"),
                Op::Receipt(s, stat) => t.receipt(id, *s, "sim", &Receipt::new("1", stat.clone())),
            };
            events.extend(tr.map(|tr| tr.event));
        }
        let finals: Vec<_> = events.iter().filter(|e| e.state.is_final()).collect();
        prop_assert!(finals.len() <= 1, "{:?}", events);
        if let Some(pos) = events.iter().position(|e| e.state.is_final()) {
            prop_assert_eq!(pos, events.len() - 1, "nothing after the final event");
        }
        let sent = events.iter().filter(|e| e.state == DeliveryState::Sent).count();
        prop_assert!(sent <= 1);
        prop_assert_eq!(finals.first().map(|e| e.state), model(n, &ops));
    }
}
