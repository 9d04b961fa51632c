//! Per-message state: each segment's outcome, and the message's status events.
//!
//! A message is `sent` when every segment has its `submit_sm_resp` with status 0, and final
//! when the outcome is decided: `delivered` only when every segment is delivered; the first
//! failure of any segment (a permanent submit error or a failure receipt) decides it as
//! failed / expired / rejected. Each transition produces at most one [`StatusEvent`]; a
//! duplicate receipt, a receipt for a segment already final, or anything after the message's
//! final event produces none (states only move forward, as
//! [`DeliveryState::supersedes`] says). Non-final receipts produce one `intermediate` event
//! per segment.
//!
//! The tracker is also the ingress's idempotency check: [`Tracker::begin`] of a message id it
//! already knows answers [`Begin::Duplicate`]. Finished messages are remembered for a while
//! (`keep_finished`) so late duplicates of a request or a receipt stay harmless.

mod entry;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use semalink_protocol::contracts::{DeliveryState, ErrorCode, ErrorKind};
use semalink_protocol::dlr::Receipt;
use uuid::Uuid;

use crate::correlation::{SegmentKey, Settled};
use crate::shard::{Map, Shards};
use entry::Entry;

/// The answer to [`Tracker::begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// A new message: tracked from now.
    New,
    /// The message id is already known (in flight or recently finished).
    Duplicate,
}

/// A status change to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The event.
    pub event: semalink_protocol::contracts::StatusEvent,
    /// Time since [`Tracker::begin`] (for the accept→sent and accept→final histograms);
    /// `None` for a message another engine began.
    pub elapsed: Option<Duration>,
}

#[derive(Debug, Default)]
struct Shard {
    messages: Map<Uuid, Entry>,
    /// Finished messages in the order they finished (all share one retention).
    finished: VecDeque<(Instant, Uuid)>,
    /// Messages in the order every segment was sent (for [`Tracker::keep_sent`]).
    sent: VecDeque<(Instant, Uuid)>,
}

/// The per-message state of every message in flight.
#[derive(Debug)]
pub struct Tracker {
    shards: Shards<Shard>,
    keep_finished: Duration,
    keep_sent: Option<Duration>,
}

impl Tracker {
    /// A tracker that remembers finished messages for `keep_finished`.
    pub fn new(keep_finished: Duration) -> Tracker {
        Tracker {
            shards: Shards::new(),
            keep_finished,
            keep_sent: None,
        }
    }

    /// Also forgets messages that are still waiting for receipts `keep` after they were
    /// sent. With a store that keeps each message's record (both stores do), a receipt that
    /// comes later is still turned into the right event ([`Self::receipt_settled`] adopts the
    /// message); without this, a message whose final receipt went to another engine would
    /// stay here for ever.
    pub fn keep_sent(mut self, keep: Duration) -> Tracker {
        self.keep_sent = Some(keep);
        self
    }

    /// Starts tracking a message of `segments` parts (≥ 1), or says it is a duplicate.
    pub fn begin(&self, message_id: Uuid, segments: u16) -> Begin {
        self.begin_at(message_id, segments, Instant::now())
    }

    /// [`Self::begin`] at `now`.
    pub fn begin_at(&self, message_id: Uuid, segments: u16, now: Instant) -> Begin {
        let mut shard = self.shards.lock(&message_id);
        if shard.messages.contains_key(&message_id) {
            return Begin::Duplicate;
        }
        shard
            .messages
            .insert(message_id, Entry::new(segments.max(1), now));
        Begin::New
    }

    /// Segment `segment` (1-based) got `submit_sm_resp` status 0 with `smsc_id` from
    /// `upstream`. Emits `sent` when it was the last segment to go.
    pub fn sent(
        &self,
        message_id: Uuid,
        segment: u16,
        upstream: &str,
        smsc_id: &str,
    ) -> Option<Transition> {
        self.update(message_id, |e, now| {
            e.sent(message_id, segment, upstream, smsc_id, now)
        })
    }

    /// Segment `segment` was refused with a permanent `command_status`: the message fails
    /// (if nothing decided it before).
    pub fn submit_failed(
        &self,
        message_id: Uuid,
        segment: u16,
        upstream: &str,
        command_status: u32,
        text: &str,
    ) -> Option<Transition> {
        let error = ErrorCode {
            kind: ErrorKind::CommandStatus,
            code: command_status,
        };
        self.update(message_id, |e, now| {
            e.segment_failed(message_id, segment, Some(upstream), error, text, now)
        })
    }

    /// A receipt for segment `segment`, already correlated.
    pub fn receipt(
        &self,
        message_id: Uuid,
        segment: u16,
        upstream: &str,
        receipt: &Receipt,
    ) -> Option<Transition> {
        self.update(message_id, |e, now| {
            e.receipt(message_id, segment, upstream, receipt, false, now)
        })
    }

    /// A receipt for `target`, with the shared store's verdict on the message
    /// ([`crate::correlation::CorrelationStore::settle`]; `None` for intermediate receipts).
    /// A message this engine does not track (another engine submitted it) is adopted: its
    /// event is built from the receipt and, once final, remembered like any finished
    /// message; an adopted message that is not final yet is not kept (its other parts' receipts
    /// may never come here).
    pub fn receipt_settled(
        &self,
        target: SegmentKey,
        upstream: &str,
        receipt: &Receipt,
        settled: Option<Settled>,
    ) -> Option<Transition> {
        let all = settled == Some(Settled::Delivered);
        let id = target.message_id;
        if self.state(id).is_some() {
            return self.update(id, |e, now| {
                e.receipt(id, target.segment, upstream, receipt, all, now)
            });
        }
        let now = Instant::now();
        let mut entry = Entry::adopted(target.segments);
        let t = entry.receipt(id, target.segment, upstream, receipt, all, now);
        if entry.state().is_final() {
            let mut shard = self.shards.lock(&id);
            shard.messages.entry(id).or_insert(entry);
            shard.finished.push_back((now, id));
        }
        t
    }

    /// The event `receipt` would produce for a message seen for the first time, whatever
    /// this tracker remembers: how a final event that could not be published is rebuilt
    /// when the receipt comes again.
    pub fn receipt_event(
        target: SegmentKey,
        upstream: &str,
        receipt: &Receipt,
        settled: Option<Settled>,
    ) -> Option<Transition> {
        let all = settled == Some(Settled::Delivered);
        Entry::adopted(target.segments).receipt(
            target.message_id,
            target.segment,
            upstream,
            receipt,
            all,
            Instant::now(),
        )
    }

    /// Ends the whole message in a final `state` decided by the engine (expired before it
    /// could be sent, rejected as unroutable, retries exhausted …). `state` must be final.
    pub fn finish(
        &self,
        message_id: Uuid,
        state: DeliveryState,
        error: Option<ErrorCode>,
        text: &str,
    ) -> Option<Transition> {
        self.update(message_id, |e, now| {
            e.finish(message_id, state, error, text, now)
        })
    }

    /// Sets the number of segments of a message begun before it was split (the ingress
    /// claims the id; the dispatcher knows the parts). Refused (`false`) once any segment has
    /// an outcome or the message is unknown.
    pub fn set_segments(&self, message_id: Uuid, segments: u16) -> bool {
        let mut shard = self.shards.lock(&message_id);
        match shard.messages.get_mut(&message_id) {
            Some(e) => e.resize(segments.max(1)),
            None => false,
        }
    }

    /// Forgets a message that was never handed on (the ingress could not queue it), so a
    /// retry of the same id is accepted.
    pub fn forget(&self, message_id: Uuid) {
        self.shards.lock(&message_id).messages.remove(&message_id);
    }

    /// The message's current state, if it is tracked.
    pub fn state(&self, message_id: Uuid) -> Option<DeliveryState> {
        self.shards
            .lock(&message_id)
            .messages
            .get(&message_id)
            .map(Entry::state)
    }

    /// Forgets finished messages older than the retention; returns how many.
    pub fn sweep(&self) -> usize {
        self.sweep_at(Instant::now())
    }

    /// [`Self::sweep`] at `now`.
    pub fn sweep_at(&self, now: Instant) -> usize {
        let mut removed = 0;
        for mut guard in self.shards.each() {
            let shard = &mut *guard;
            while let Some(&(at, id)) = shard.finished.front() {
                if at + self.keep_finished > now {
                    break;
                }
                shard.finished.pop_front();
                shard.messages.remove(&id);
                removed += 1;
            }
            let Some(keep) = self.keep_sent else { continue };
            while let Some(&(at, id)) = shard.sent.front() {
                if at + keep > now {
                    break;
                }
                shard.sent.pop_front();
                // Finished ones leave through `finished`.
                if shard
                    .messages
                    .get(&id)
                    .is_some_and(|e| !e.state().is_final())
                {
                    shard.messages.remove(&id);
                    removed += 1;
                }
            }
        }
        removed
    }

    /// Messages tracked (in flight and recently finished).
    pub fn len(&self) -> usize {
        self.shards.each().map(|s| s.messages.len()).sum()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn update(
        &self,
        message_id: Uuid,
        f: impl FnOnce(&mut Entry, Instant) -> Option<Transition>,
    ) -> Option<Transition> {
        let now = Instant::now();
        let mut guard = self.shards.lock(&message_id);
        let shard = &mut *guard;
        let entry = shard.messages.get_mut(&message_id)?;
        let before = entry.state();
        let transition = f(entry, now);
        let after = entry.state();
        if !before.is_final() && after.is_final() {
            shard.finished.push_back((now, message_id));
        } else if before != DeliveryState::Sent && after == DeliveryState::Sent {
            shard.sent.push_back((now, message_id));
        }
        transition
    }
}
