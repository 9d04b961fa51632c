//! The pure part of applying status events: a message's tracked state and how an event
//! moves it. No I/O, so every rule (monotonic, final is final, multipart) is unit-tested.
//!
//! Ranks: `submitted` < `queued` < `sent` < final (`delivered`, `failed`, `expired`,
//! `rejected`, and `cancelled` — a campaign's unsent message, settled by the cancel). An
//! event only ever raises the rank; `accepted` and intermediate receipts (ENROUTE, …) raise
//! nothing the customer sees, so they change nothing. A long message is final when each of
//! its parts is: delivered when every part was delivered, otherwise the first part's (in
//! index order) non-delivered final state.

use std::collections::BTreeMap;

use semalink_protocol::contracts::{DeliveryState, ErrorCode, ErrorKind, StatusEvent};
use time::OffsetDateTime;

/// A message status (the one enum of `messages::types`; its order and ranks live there).
pub use crate::messages::types::MessageStatus as Status;

/// The status an event reports, if it is one the customer sees.
fn status_of(state: DeliveryState) -> Option<Status> {
    match state {
        DeliveryState::Accepted | DeliveryState::Intermediate => None,
        DeliveryState::Sent => Some(Status::Sent),
        DeliveryState::Delivered => Some(Status::Delivered),
        DeliveryState::Failed => Some(Status::Failed),
        DeliveryState::Expired => Some(Status::Expired),
        DeliveryState::Rejected => Some(Status::Rejected),
    }
}

/// What the upstream said with a state (kept on the message and on its parts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail {
    /// The upstream that carried it.
    pub upstream: Option<String>,
    /// The SMSC's message id.
    pub smsc_message_id: Option<String>,
    /// Where the error code comes from.
    pub error_kind: Option<&'static str>,
    /// The error code.
    pub error_code: Option<i64>,
    /// The readable reason.
    pub error_text: Option<String>,
}

impl Detail {
    fn of(event: &StatusEvent) -> Detail {
        Detail {
            upstream: event.upstream.clone(),
            smsc_message_id: event.smsc_message_id.clone(),
            error_kind: event.error.map(error_kind),
            error_code: event.error.map(|e| i64::from(e.code)),
            error_text: event.error_text.as_ref().map(|t| clip(t, 500)),
        }
    }

    /// Keeps what `self` lacks from `other` (a later event rarely repeats the upstream).
    fn or(self, other: &Detail) -> Detail {
        Detail {
            upstream: self.upstream.or_else(|| other.upstream.clone()),
            smsc_message_id: self
                .smsc_message_id
                .or_else(|| other.smsc_message_id.clone()),
            error_kind: self.error_kind.or(other.error_kind),
            error_code: self.error_code.or(other.error_code),
            error_text: self.error_text.or_else(|| other.error_text.clone()),
        }
    }
}

fn error_kind(e: ErrorCode) -> &'static str {
    match e.kind {
        ErrorKind::CommandStatus => "command_status",
        ErrorKind::Network => "network",
        ErrorKind::Receipt => "receipt",
    }
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// One part's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// How many parts the engine split the message into.
    pub total: u16,
    /// Its status.
    pub status: Status,
    /// What the upstream said.
    pub detail: Detail,
    /// When it last changed.
    pub at: OffsetDateTime,
    /// Whether this fold changed it (to be written).
    pub changed: bool,
}

/// A message as the consumer tracks it while applying a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    /// The message status.
    pub status: Status,
    /// Its parts by index (only those the engine reported on).
    pub parts: BTreeMap<u16, Part>,
    /// What the upstream said last.
    pub detail: Detail,
    /// When it reached `sent` (or a final state without `sent`).
    pub sent_at: Option<OffsetDateTime>,
    /// When it became final.
    pub final_at: Option<OffsetDateTime>,
    /// How many part changes the fold made (a part can move without the message moving).
    pub part_changes: u32,
}

/// A status change of the message, for its timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The new status.
    pub status: Status,
    /// When the engine saw it.
    pub at: OffsetDateTime,
    /// The upstream's detail.
    pub detail: Detail,
    /// The part that caused it, for a long message.
    pub part: Option<(u16, u16)>,
}

impl Tracked {
    /// A message in `status` with the `parts` already recorded.
    pub fn new(status: Status, parts: BTreeMap<u16, Part>) -> Tracked {
        Tracked {
            status,
            parts,
            detail: Detail::default(),
            sent_at: None,
            final_at: None,
            part_changes: 0,
        }
    }

    /// Applies one event; the status change it made, if any.
    pub fn apply(&mut self, event: &StatusEvent) -> Option<Step> {
        if self.status.is_final() {
            return None;
        }
        let reported = status_of(event.state)?;
        let detail = Detail::of(event);
        let at = event.occurred_at;
        let next = match event.segment.filter(|s| s.total > 1) {
            None => reported,
            Some(seg) => {
                let part = self.parts.entry(seg.index).or_insert(Part {
                    total: seg.total,
                    status: Status::Queued,
                    detail: Detail::default(),
                    at,
                    changed: false,
                });
                if part.status.is_final() || reported.rank() <= part.status.rank() {
                    return None;
                }
                part.status = reported;
                part.detail = detail.clone().or(&part.detail);
                part.at = at;
                part.total = seg.total;
                part.changed = true;
                self.part_changes += 1;
                self.status_of_parts(seg.total)
            }
        };
        if next.rank() <= self.status.rank() {
            return None;
        }
        self.status = next;
        self.detail = detail.clone().or(&self.detail);
        if self.sent_at.is_none() {
            self.sent_at = Some(at);
        }
        if next.is_final() {
            self.final_at = Some(at);
        }
        Some(Step {
            status: next,
            at,
            detail,
            part: event
                .segment
                .filter(|s| s.total > 1)
                .map(|s| (s.index, s.total)),
        })
    }

    /// The message status its parts give: final when all `total` are, else `sent` once any
    /// part left, else unchanged.
    fn status_of_parts(&self, total: u16) -> Status {
        let all_final =
            (1..=total).all(|i| self.parts.get(&i).is_some_and(|p| p.status.is_final()));
        if all_final {
            return self
                .parts
                .range(1..=total)
                .map(|(_, p)| p.status)
                .find(|s| *s != Status::Delivered)
                .unwrap_or(Status::Delivered);
        }
        if self
            .parts
            .values()
            .any(|p| p.status.rank() >= Status::Sent.rank())
        {
            Status::Sent
        } else {
            self.status
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use semalink_protocol::contracts::{SegmentRef, VERSION};
    use uuid::Uuid;

    fn event(state: DeliveryState, segment: Option<(u16, u16)>) -> StatusEvent {
        StatusEvent {
            version: VERSION,
            message_id: Uuid::now_v7(),
            segment: segment.map(|(index, total)| SegmentRef { index, total }),
            state,
            upstream: Some("celcom-1".into()),
            smsc_message_id: Some("abc".into()),
            error: None,
            error_text: None,
            occurred_at: OffsetDateTime::now_utc(),
            done_at: None,
        }
    }

    fn queued() -> Tracked {
        Tracked::new(Status::Queued, BTreeMap::new())
    }

    #[test]
    fn states_only_move_forward_and_final_is_final() {
        use DeliveryState::*;
        let mut m = queued();
        assert_eq!(
            m.apply(&event(Sent, None)).map(|s| s.status),
            Some(Status::Sent)
        );
        assert_eq!(
            m.apply(&event(Delivered, None)).map(|s| s.status),
            Some(Status::Delivered)
        );
        assert_eq!(
            m.apply(&event(Sent, None)),
            None,
            "a late sent moves nothing"
        );
        assert_eq!(m.apply(&event(Failed, None)), None, "final is final");
        assert_eq!(m.status, Status::Delivered);
        assert!(m.final_at.is_some() && m.sent_at.is_some());
    }

    #[test]
    fn the_same_event_twice_changes_nothing() {
        let mut m = queued();
        let e = event(DeliveryState::Sent, None);
        assert!(m.apply(&e).is_some());
        assert!(m.apply(&e).is_none());
    }

    #[test]
    fn accepted_and_intermediate_move_nothing() {
        let mut m = queued();
        assert!(m.apply(&event(DeliveryState::Accepted, None)).is_none());
        assert!(m.apply(&event(DeliveryState::Intermediate, None)).is_none());
        assert_eq!(m.status, Status::Queued);
    }

    #[test]
    fn a_final_without_sent_is_applied_and_dates_the_send() {
        let mut m = Tracked::new(Status::Submitted, BTreeMap::new());
        let step = m
            .apply(&event(DeliveryState::Rejected, None))
            .expect("applied");
        assert_eq!(step.status, Status::Rejected);
        assert_eq!(m.sent_at, m.final_at);
    }

    #[test]
    fn a_long_message_is_delivered_when_every_part_is() {
        use DeliveryState::*;
        let mut m = queued();
        assert_eq!(
            m.apply(&event(Sent, Some((1, 3)))).map(|s| s.status),
            Some(Status::Sent)
        );
        assert_eq!(m.apply(&event(Sent, Some((2, 3)))), None, "already sent");
        assert_eq!(m.apply(&event(Delivered, Some((1, 3)))), None);
        assert_eq!(
            m.apply(&event(Delivered, Some((3, 3)))),
            None,
            "part 2 still open"
        );
        let step = m
            .apply(&event(Delivered, Some((2, 3))))
            .expect("all parts final");
        assert_eq!(step.status, Status::Delivered);
        assert_eq!(step.part, Some((2, 3)));
        assert!(
            m.parts
                .values()
                .all(|p| p.changed && p.status == Status::Delivered)
        );
    }

    #[test]
    fn one_failed_part_fails_the_message() {
        use DeliveryState::*;
        let mut m = queued();
        m.apply(&event(Delivered, Some((1, 2))));
        assert_eq!(m.status, Status::Sent, "a final part means it left");
        let step = m.apply(&event(Expired, Some((2, 2)))).expect("final");
        assert_eq!(step.status, Status::Expired);
        assert_eq!(m.apply(&event(Delivered, Some((2, 2)))), None);
    }

    #[test]
    fn cancelled_is_final() {
        let mut m = Tracked::new(Status::Cancelled, BTreeMap::new());
        assert!(m.apply(&event(DeliveryState::Delivered, None)).is_none());
        assert_eq!(Status::parse("cancelled"), Some(Status::Cancelled));
    }
}
