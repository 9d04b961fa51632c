//! One message's segment outcomes and the rules that turn them into status events.

use std::time::Instant;

use semalink_protocol::contracts::{DeliveryState, ErrorCode, SegmentRef, StatusEvent, VERSION};

use crate::dispatch::reconcile::NO_RECEIPT;
use semalink_protocol::dlr::{Outcome, Receipt};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Transition;

/// What is known of one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seg {
    Pending,
    Sent,
    Intermediate,
    Delivered,
    Failed,
}

impl Seg {
    fn is_final(self) -> bool {
        matches!(self, Seg::Delivered | Seg::Failed)
    }
}

/// One tracked message.
#[derive(Debug)]
pub(super) struct Entry {
    /// When this engine began it; `None` for a message begun by another engine (adopted
    /// from a shared store's record, see [`Entry::adopted`]).
    accepted: Option<Instant>,
    state: DeliveryState,
    segments: Box<[Seg]>,
    /// Segments that have left Pending.
    sent: u16,
    delivered: u16,
}

impl Entry {
    pub(super) fn new(segments: u16, now: Instant) -> Entry {
        Entry {
            accepted: Some(now),
            state: DeliveryState::Accepted,
            segments: vec![Seg::Pending; usize::from(segments)].into_boxed_slice(),
            sent: 0,
            delivered: 0,
        }
    }

    /// A message another engine submitted, known here only because one of its receipts
    /// arrived: every segment is taken as sent.
    pub(super) fn adopted(segments: u16) -> Entry {
        let segments = segments.max(1);
        Entry {
            accepted: None,
            state: DeliveryState::Sent,
            segments: vec![Seg::Sent; usize::from(segments)].into_boxed_slice(),
            sent: segments,
            delivered: 0,
        }
    }

    /// Changes the segment count while nothing has happened to any segment.
    pub(super) fn resize(&mut self, segments: u16) -> bool {
        if self.sent > 0 || self.state != DeliveryState::Accepted {
            return false;
        }
        self.segments = vec![Seg::Pending; usize::from(segments)].into_boxed_slice();
        true
    }

    pub(super) fn state(&self) -> DeliveryState {
        self.state
    }

    fn total(&self) -> u16 {
        self.segments.len() as u16
    }

    /// The segment's slot, if `segment` (1-based) is in range.
    fn slot(&mut self, segment: u16) -> Option<&mut Seg> {
        self.segments.get_mut(usize::from(segment).checked_sub(1)?)
    }

    /// Marks a segment as having left Pending (its `submit_sm_resp` arrived or is implied).
    fn left_pending(&mut self, segment: u16) {
        if let Some(s) = self.slot(segment)
            && *s == Seg::Pending
        {
            *s = Seg::Sent;
            self.sent += 1;
        }
    }

    pub(super) fn sent(
        &mut self,
        id: Uuid,
        segment: u16,
        upstream: &str,
        smsc_id: &str,
        now: Instant,
    ) -> Option<Transition> {
        let before = self.sent;
        self.left_pending(segment);
        if self.sent == before || self.sent < self.total() {
            return None;
        }
        let mut event = self.event(id, DeliveryState::Sent, None)?;
        event.upstream = Some(upstream.to_owned());
        if self.total() == 1 {
            event.smsc_message_id = Some(smsc_id.to_owned());
        }
        Some(self.transition(event, now))
    }

    pub(super) fn segment_failed(
        &mut self,
        id: Uuid,
        segment: u16,
        upstream: Option<&str>,
        error: ErrorCode,
        text: &str,
        now: Instant,
    ) -> Option<Transition> {
        let s = self.slot(segment)?;
        if s.is_final() {
            return None;
        }
        *s = Seg::Failed;
        let mut event = self.event(id, DeliveryState::Failed, None)?;
        event.upstream = upstream.map(str::to_owned);
        event.error = Some(error);
        event.error_text = Some(text.to_owned());
        Some(self.transition(event, now))
    }

    /// A receipt for `segment`. `all_delivered` says the shared store saw every segment
    /// delivered (some of their receipts may have arrived on other engines).
    pub(super) fn receipt(
        &mut self,
        id: Uuid,
        segment: u16,
        upstream: &str,
        receipt: &Receipt,
        all_delivered: bool,
        now: Instant,
    ) -> Option<Transition> {
        let current = *self.slot(segment)?;
        if current.is_final() {
            return None; // a duplicate, or a late receipt after a final one
        }
        self.left_pending(segment);
        let outcome = receipt.outcome();
        let seg_state = match outcome {
            Outcome::Intermediate if current == Seg::Intermediate => return None,
            Outcome::Intermediate => Seg::Intermediate,
            Outcome::Delivered => Seg::Delivered,
            _ => Seg::Failed,
        };
        *self.slot(segment)? = seg_state;
        let state = match outcome {
            Outcome::Delivered => {
                self.delivered += 1;
                if self.delivered < self.total() && !all_delivered {
                    return None;
                }
                DeliveryState::Delivered
            }
            other => DeliveryState::from(other),
        };
        let per_segment = (state == DeliveryState::Intermediate).then_some(SegmentRef {
            index: segment,
            total: self.total(),
        });
        let mut event = self.event(id, state, per_segment)?;
        event.upstream = Some(upstream.to_owned());
        if self.total() == 1 || per_segment.is_some() {
            event.smsc_message_id = Some(receipt.id.clone());
        }
        if state != DeliveryState::Delivered && state != DeliveryState::Intermediate {
            event.error = ErrorCode::from_receipt(receipt);
            // The engine's own expiry of a part whose receipt never came says so.
            event.error_text = Some(match receipt.err.as_deref() {
                Some(NO_RECEIPT) => NO_RECEIPT.to_owned(),
                _ => receipt.stat.word().to_owned(),
            });
        }
        event.done_at = receipt
            .done_date
            .and_then(|d| d.to_primitive())
            .map(|d| d.assume_utc());
        Some(self.transition(event, now))
    }

    pub(super) fn finish(
        &mut self,
        id: Uuid,
        state: DeliveryState,
        error: Option<ErrorCode>,
        text: &str,
        now: Instant,
    ) -> Option<Transition> {
        if !state.is_final() {
            return None;
        }
        let mut event = self.event(id, state, None)?;
        event.error = error;
        event.error_text = Some(text.to_owned());
        Some(self.transition(event, now))
    }

    /// An event moving the message (or, with `segment`, reporting one segment) to `state`;
    /// `None` if that would not move the message forward. Whole-message events update the
    /// message state.
    fn event(
        &mut self,
        id: Uuid,
        state: DeliveryState,
        segment: Option<SegmentRef>,
    ) -> Option<StatusEvent> {
        if segment.is_some() {
            // Per-segment intermediate reports never move a final message.
            if self.state.is_final() {
                return None;
            }
        } else {
            if !state.supersedes(self.state) {
                return None;
            }
            self.state = state;
        }
        Some(StatusEvent {
            version: VERSION,
            message_id: id,
            segment,
            state,
            upstream: None,
            smsc_message_id: None,
            error: None,
            error_text: None,
            occurred_at: OffsetDateTime::now_utc(),
            done_at: None,
        })
    }

    fn transition(&self, event: StatusEvent, now: Instant) -> Transition {
        Transition {
            event,
            elapsed: self.accepted.map(|at| now.saturating_duration_since(at)),
        }
    }
}
