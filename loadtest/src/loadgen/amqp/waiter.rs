//! Final-state bookkeeping of `loadgen amqp`: which published messages have reached a final
//! [`StatusEvent`], which finals were duplicates, and how long publish → final took.
//!
//! A message is final on a whole-message final event (no `segment`) or once every segment
//! `1..=total` has a final event (docs/contracts.md: "a message is delivered when all its
//! segments are"). A second final event for the same message (or the same segment) counts as a
//! duplicate; events for ids this run did not publish count as foreign.

use std::collections::{BTreeSet, HashMap};

use hdrhistogram::Histogram;
use semalink_protocol::contracts::{DeliveryState, StatusEvent};
use serde::Serialize;
use tokio::time::Instant;
use uuid::Uuid;

use super::super::{report::Percentiles, tracker};

/// One published message.
#[derive(Debug)]
struct Entry {
    published: Instant,
    confirmed: bool,
    final_at: Option<Instant>,
    final_segments: BTreeSet<u16>,
    /// No final event so far said anything but delivered.
    all_delivered: bool,
}

/// What the waiter found.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// Messages with a final state.
    pub finals: u64,
    /// Of which delivered.
    pub delivered: u64,
    /// Confirmed messages with no final state when the wait ended.
    pub lost: u64,
    /// Final events beyond the first for the same message or segment.
    pub duplicates: u64,
    /// Events that were not final (accepted, sent, intermediate).
    pub non_final_events: u64,
    /// Events for message ids this run did not publish.
    pub foreign: u64,
    /// Events that did not decode as a `StatusEvent`.
    pub undecodable: u64,
    /// Publish → final, milliseconds.
    pub latency_ms: Percentiles,
    /// Up to [`MISSING_SHOWN`] of the confirmed messages with no final state, to look up.
    pub missing: Vec<Uuid>,
}

/// Lost message ids listed in a report.
pub const MISSING_SHOWN: usize = 20;

/// The shared table of published messages.
#[derive(Debug)]
pub struct Waiter {
    entries: HashMap<Uuid, Entry>,
    confirmed: u64,
    finals_confirmed: u64,
    finals: u64,
    delivered: u64,
    duplicates: u64,
    non_final_events: u64,
    foreign: u64,
    undecodable: u64,
    latency: Histogram<u64>,
}

impl Default for Waiter {
    fn default() -> Self {
        Waiter {
            entries: HashMap::new(),
            confirmed: 0,
            finals_confirmed: 0,
            finals: 0,
            delivered: 0,
            duplicates: 0,
            non_final_events: 0,
            foreign: 0,
            undecodable: 0,
            latency: tracker::histogram(),
        }
    }
}

impl Waiter {
    /// Records a message as published now (before its confirm arrives, so a fast final
    /// event still finds it).
    pub fn published(&mut self, id: Uuid) {
        self.entries.insert(
            id,
            Entry {
                published: Instant::now(),
                confirmed: false,
                final_at: None,
                final_segments: BTreeSet::new(),
                all_delivered: true,
            },
        );
    }

    /// The broker confirmed (acked) the message.
    pub fn confirmed(&mut self, id: Uuid) {
        if let Some(e) = self.entries.get_mut(&id)
            && !e.confirmed
        {
            e.confirmed = true;
            self.confirmed += 1;
            self.finals_confirmed += u64::from(e.final_at.is_some());
        }
    }

    /// The broker refused (nacked) the message: it will never be final, so it is forgotten.
    pub fn refused(&mut self, id: Uuid) {
        self.entries.remove(&id);
    }

    /// Applies one raw status-queue payload: a bare event or a batch envelope of them.
    pub fn event(&mut self, payload: &[u8]) {
        match semalink_protocol::contracts::decode_batch::<StatusEvent>(payload) {
            Ok(items) => {
                for item in items {
                    match item {
                        Ok(ev) => self.apply(&ev),
                        Err(_) => self.undecodable += 1,
                    }
                }
            }
            Err(_) => self.undecodable += 1,
        }
    }

    /// An element of the status queue that could not be read.
    pub fn unreadable(&mut self) {
        self.undecodable += 1;
    }

    /// Applies a payload the broker delivered again (its earlier delivery was not
    /// acknowledged before the consumer's connection died): a repeat of an event already
    /// applied is not counted as a duplicate, since the engine published it once.
    pub fn replayed(&mut self, payload: &[u8]) {
        let duplicates = self.duplicates;
        self.event(payload);
        self.duplicates = duplicates;
    }

    /// Applies one status event.
    pub fn apply(&mut self, ev: &StatusEvent) {
        if !ev.state.is_final() {
            self.non_final_events += 1;
            return;
        }
        let Some(e) = self.entries.get_mut(&ev.message_id) else {
            self.foreign += 1;
            return;
        };
        let delivered = ev.state == DeliveryState::Delivered;
        let now_final = match ev.segment {
            None => e.final_at.is_none(),
            Some(seg) => {
                if !e.final_segments.insert(seg.index) {
                    self.duplicates += 1;
                    return;
                }
                e.all_delivered &= delivered;
                e.final_at.is_none() && e.final_segments.len() >= usize::from(seg.total)
            }
        };
        if ev.segment.is_none() {
            if e.final_at.is_some() {
                self.duplicates += 1;
                return;
            }
            e.all_delivered &= delivered;
        }
        if now_final {
            let at = Instant::now();
            e.final_at = Some(at);
            self.finals += 1;
            self.finals_confirmed += u64::from(e.confirmed);
            self.delivered += u64::from(e.all_delivered);
            let us = at.duration_since(e.published).as_micros() as u64;
            let _ = self.latency.record(us.max(1));
        }
    }

    /// Whether every confirmed message has a final state.
    pub fn all_final(&self) -> bool {
        self.finals_confirmed >= self.confirmed
    }

    /// The summary.
    pub fn report(&self) -> StatusReport {
        StatusReport {
            finals: self.finals,
            delivered: self.delivered,
            lost: self.confirmed - self.finals_confirmed,
            duplicates: self.duplicates,
            non_final_events: self.non_final_events,
            foreign: self.foreign,
            undecodable: self.undecodable,
            latency_ms: Percentiles::of(&self.latency),
            missing: self
                .entries
                .iter()
                .filter(|(_, e)| e.confirmed && e.final_at.is_none())
                .map(|(id, _)| *id)
                .take(MISSING_SHOWN)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use semalink_protocol::contracts::{SegmentRef, VERSION};
    use time::OffsetDateTime;

    use super::*;

    fn ev(id: Uuid, state: DeliveryState, segment: Option<(u16, u16)>) -> StatusEvent {
        StatusEvent {
            version: VERSION,
            message_id: id,
            segment: segment.map(|(index, total)| SegmentRef { index, total }),
            state,
            upstream: None,
            smsc_message_id: None,
            error: None,
            error_text: None,
            occurred_at: OffsetDateTime::now_utc(),
            done_at: None,
        }
    }

    #[test]
    fn counts_finals_segments_duplicates_lost_and_foreign() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let mut w = Waiter::default();
        for id in [a, b, c] {
            w.published(id);
            w.confirmed(id);
        }
        w.apply(&ev(a, DeliveryState::Sent, None));
        w.apply(&ev(a, DeliveryState::Delivered, None));
        w.apply(&ev(a, DeliveryState::Delivered, None));
        w.apply(&ev(b, DeliveryState::Failed, Some((1, 2))));
        assert!(!w.all_final());
        w.apply(&ev(b, DeliveryState::Delivered, Some((1, 2))));
        w.apply(&ev(b, DeliveryState::Delivered, Some((2, 2))));
        w.apply(&ev(Uuid::from_u128(9), DeliveryState::Delivered, None));
        w.event(b"not json");
        let r = w.report();
        assert_eq!(
            (
                r.finals,
                r.delivered,
                r.lost,
                r.duplicates,
                r.non_final_events
            ),
            (2, 1, 1, 2, 1)
        );
        assert_eq!((r.foreign, r.undecodable, r.latency_ms.count), (1, 1, 2));
        w.apply(&ev(c, DeliveryState::Expired, None));
        assert!(w.all_final());
        assert_eq!(w.report().lost, 0);
    }

    #[test]
    fn a_final_before_the_confirm_still_counts_and_refused_ones_are_not_lost() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut w = Waiter::default();
        w.published(a);
        w.published(b);
        w.apply(&ev(a, DeliveryState::Delivered, None));
        w.confirmed(a);
        w.refused(b);
        assert!(w.all_final());
        assert_eq!(w.report().lost, 0);
    }
}
