//! `StatusEvent`: what happened to a message or one of its segments (engine → control plane
//! over `sms.status`). Consumers apply events idempotently, keyed by message id and segment,
//! and never let a late event undo a final one ([`DeliveryState::supersedes`]).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Contract, VERSION, ValidationErrors};
use crate::dlr::{Outcome, Receipt};

/// A state change of a message or segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEvent {
    /// Contract major version ([`VERSION`]).
    pub version: u32,
    /// The [`super::SubmitRequest::message_id`] this is about.
    pub message_id: Uuid,
    /// Which segment, for per-segment events; absent for whole-message events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentRef>,
    /// The new state.
    pub state: DeliveryState,
    /// The upstream (SMPP connection) that carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// The SMSC's message id (from `submit_sm_resp`), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smsc_message_id: Option<String>,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorCode>,
    /// A human-readable reason (the command_status name, the receipt's stat word, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_text: Option<String>,
    /// When the engine observed the change.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// The receipt's `done date`, when there was one (SMSC clock, read as UTC unless the
    /// upstream's time zone is configured).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub done_at: Option<OffsetDateTime>,
}

/// One segment of a long message: `index` counts from 1 to `total`, as the UDH does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SegmentRef {
    /// 1-based position.
    pub index: u16,
    /// How many segments the message has.
    pub total: u16,
}

/// A message's delivery state, as the control plane records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// The engine took the request off the queue and will send it.
    Accepted,
    /// The SMSC answered `submit_sm_resp` with status 0.
    Sent,
    /// Delivered to the handset (final).
    Delivered,
    /// Will not be delivered: a permanent submit error or a failure receipt (final).
    Failed,
    /// Validity ran out (final).
    Expired,
    /// Rejected by the SMSC or network (final).
    Rejected,
    /// A non-final receipt (ENROUTE, ACCEPTD, BUFFRED, …).
    Intermediate,
}

impl DeliveryState {
    /// Whether nothing may change it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeliveryState::Delivered
                | DeliveryState::Failed
                | DeliveryState::Expired
                | DeliveryState::Rejected
        )
    }

    /// Progress order: accepted < sent < intermediate < final.
    fn rank(self) -> u8 {
        match self {
            DeliveryState::Accepted => 0,
            DeliveryState::Sent => 1,
            DeliveryState::Intermediate => 2,
            _ => 3,
        }
    }

    /// Whether an event in this state should replace `current`: states only move forward and
    /// a final state is never replaced (a late `sent` must not undo `delivered`, nor a second
    /// receipt change the bill).
    pub fn supersedes(self, current: DeliveryState) -> bool {
        !current.is_final() && self.rank() > current.rank()
    }
}

impl From<Outcome> for DeliveryState {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Delivered => DeliveryState::Delivered,
            Outcome::Failed => DeliveryState::Failed,
            Outcome::Expired => DeliveryState::Expired,
            Outcome::Rejected => DeliveryState::Rejected,
            Outcome::Intermediate => DeliveryState::Intermediate,
        }
    }
}

/// An error code and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ErrorCode {
    /// Which numbering the code belongs to.
    pub kind: ErrorKind,
    /// The code.
    pub code: u32,
}

impl ErrorCode {
    /// The error a receipt reports: its `network_error_code` TLV if present, else its `err:`
    /// field read as decimal. `None` when neither is there or `err:` is not a number.
    pub fn from_receipt(receipt: &Receipt) -> Option<ErrorCode> {
        let kind = match receipt.network_error {
            Some(_) => ErrorKind::Network,
            None => ErrorKind::Receipt,
        };
        receipt.error_code().map(|code| ErrorCode { kind, code })
    }
}

/// Where an [`ErrorCode`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// An SMPP `command_status` (SMPP 3.4 §5.1.3), e.g. 0x45 submit failed.
    CommandStatus,
    /// A `network_error_code` TLV's code (SMPP 3.4 §5.3.2.31).
    Network,
    /// A receipt's `err:` field (network specific, SMPP 3.4 Appendix B).
    Receipt,
}

impl Contract for StatusEvent {
    const NAME: &'static str = "StatusEvent";

    fn version(&self) -> u32 {
        self.version
    }

    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.check(self.version == VERSION, "version", "unsupported version");
        e.check(
            !self.message_id.is_nil(),
            "message_id",
            "must not be the nil UUID",
        );
        if let Some(seg) = self.segment {
            e.check(
                seg.index >= 1 && seg.index <= seg.total,
                "segment",
                "index must be between 1 and total",
            );
        }
        e.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_only_move_forward() {
        use DeliveryState::*;
        assert!(Sent.supersedes(Accepted));
        assert!(Delivered.supersedes(Sent));
        assert!(Failed.supersedes(Intermediate));
        assert!(Intermediate.supersedes(Sent));
        assert!(
            !Sent.supersedes(Delivered),
            "a late sent never overwrites delivered"
        );
        assert!(!Failed.supersedes(Delivered), "final is final");
        assert!(!Sent.supersedes(Sent));
        assert!(!Intermediate.supersedes(Intermediate));
    }

    #[test]
    fn outcomes_map_to_states() {
        assert_eq!(
            DeliveryState::from(Outcome::Delivered),
            DeliveryState::Delivered
        );
        assert_eq!(
            DeliveryState::from(Outcome::Intermediate),
            DeliveryState::Intermediate
        );
        for o in [
            Outcome::Delivered,
            Outcome::Failed,
            Outcome::Expired,
            Outcome::Rejected,
            Outcome::Intermediate,
        ] {
            assert_eq!(DeliveryState::from(o).is_final(), o.is_final());
        }
    }

    #[test]
    fn error_codes_from_receipts() {
        let r = crate::dlr::parse_text("id:1 stat:UNDELIV err:034").unwrap();
        let e = ErrorCode::from_receipt(&r).unwrap();
        assert_eq!((e.kind, e.code), (ErrorKind::Receipt, 34));
        let r = Receipt {
            network_error: Some(crate::dlr::NetworkError {
                network_type: 3,
                code: 9,
            }),
            ..r
        };
        let e = ErrorCode::from_receipt(&r).unwrap();
        assert_eq!((e.kind, e.code), (ErrorKind::Network, 9));
        let r = crate::dlr::parse_text("id:1 stat:DELIVRD").unwrap();
        assert_eq!(ErrorCode::from_receipt(&r), None);
    }

    #[test]
    fn segment_bounds_are_checked() {
        let event = StatusEvent {
            version: VERSION,
            message_id: Uuid::from_u128(7),
            segment: Some(SegmentRef { index: 0, total: 2 }),
            state: DeliveryState::Sent,
            upstream: None,
            smsc_message_id: None,
            error: None,
            error_text: None,
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            done_at: None,
        };
        assert!(event.validate().unwrap_err().has("segment"));
        let ok = StatusEvent {
            segment: Some(SegmentRef { index: 2, total: 2 }),
            ..event
        };
        assert_eq!(ok.validate(), Ok(()));
    }
}
