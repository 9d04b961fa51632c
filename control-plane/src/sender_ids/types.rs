//! Sender ID types: status (with its transition rules), kind, traffic type, the stored views
//! and the request bodies of the customer and staff endpoints.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Where a sender ID is in its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[sqlx(type_name = "sender_id_status", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SenderIdStatus {
    /// Registered, waiting for Sema Link staff.
    Pending,
    /// Usable in sends.
    Approved,
    /// Refused by staff (final; the reason is in `status_note`).
    Rejected,
    /// Approved before, blocked by staff for now (may be reinstated).
    Suspended,
    /// Withdrawn by the customer while pending (final).
    Withdrawn,
}

impl SenderIdStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SenderIdStatus::Pending => "pending",
            SenderIdStatus::Approved => "approved",
            SenderIdStatus::Rejected => "rejected",
            SenderIdStatus::Suspended => "suspended",
            SenderIdStatus::Withdrawn => "withdrawn",
        }
    }

    /// Whether the life cycle allows going from `self` to `to`.
    pub fn can_become(self, to: SenderIdStatus) -> bool {
        use SenderIdStatus as S;
        matches!(
            (self, to),
            (S::Pending, S::Approved | S::Rejected | S::Withdrawn)
                | (S::Approved, S::Suspended)
                | (S::Suspended, S::Approved)
        )
    }

    /// The 409 detail for an action that this status does not allow (names the status).
    pub fn conflict_detail(self) -> &'static str {
        match self {
            SenderIdStatus::Pending => "not allowed: the sender ID is pending",
            SenderIdStatus::Approved => "not allowed: the sender ID is approved",
            SenderIdStatus::Rejected => "not allowed: the sender ID is rejected",
            SenderIdStatus::Suspended => "not allowed: the sender ID is suspended",
            SenderIdStatus::Withdrawn => "not allowed: the sender ID is withdrawn",
        }
    }
}

/// What the sender name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[sqlx(type_name = "sender_id_kind", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SenderIdKind {
    /// 3–11 letters, digits and spaces, at least one letter (recipients cannot reply).
    Alphanumeric,
    /// 3–8 digits.
    ShortCode,
    /// An E.164 number.
    LongNumber,
}

/// The traffic a sender ID carries; operators register the two separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[sqlx(type_name = "sender_id_traffic", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum TrafficType {
    /// OTPs, alerts, receipts, reminders.
    Transactional,
    /// Marketing; needs consent and honours opt-out.
    Promotional,
}

/// A sender ID as its organisation sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct SenderId {
    /// Id (time-ordered: also the submission order).
    pub id: Uuid,
    /// The organisation.
    pub account_id: Uuid,
    /// The name (alphanumeric as registered, short code digits, or E.164).
    pub name: String,
    /// What the name is.
    pub kind: SenderIdKind,
    /// ISO 3166-1 alpha-2 country it is registered for.
    pub country: String,
    /// Transactional or promotional.
    pub traffic_type: TrafficType,
    /// What the organisation sends with it.
    pub use_case: String,
    /// An example message.
    pub sample_message: Option<String>,
    /// Review status.
    pub status: SenderIdStatus,
    /// The account's default sender (always an approved one).
    pub is_default: bool,
    /// The note or reason given with the last staff decision.
    pub status_note: Option<String>,
    /// When staff last decided.
    #[serde(with = "time::serde::rfc3339::option")]
    pub reviewed_at: Option<OffsetDateTime>,
    /// Submission time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A sender ID as staff see it: with the organisation's name and the actors.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct StaffSenderId {
    /// The sender ID.
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub sender_id: SenderId,
    /// The organisation's name.
    pub account_name: String,
    /// The member who registered it (null for an API key).
    pub submitted_by: Option<Uuid>,
    /// The staff member who last decided.
    pub reviewed_by: Option<Uuid>,
}

/// One status change.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct SenderIdEvent {
    /// Event id.
    pub id: Uuid,
    /// The sender ID.
    pub sender_id_id: Uuid,
    /// Status before (null for the registration).
    pub from_status: Option<SenderIdStatus>,
    /// Status after.
    pub to_status: SenderIdStatus,
    /// Acting staff member, for staff decisions.
    pub staff_id: Option<Uuid>,
    /// Acting customer user, for registration and withdrawal.
    pub user_id: Option<Uuid>,
    /// Note or reason.
    pub note: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A sender ID with its status history, oldest event first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SenderIdHistory {
    /// The sender ID.
    #[serde(flatten)]
    pub sender_id: StaffSenderId,
    /// Every status change.
    pub events: Vec<SenderIdEvent>,
}

/// Register a sender ID.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterSenderId {
    /// 3–11 letters, digits and single spaces with at least one letter; or a 3–8 digit short
    /// code; or a long number (`+254…`, or national form in `country`).
    #[schema(example = "AcmeCorp")]
    pub name: String,
    /// ISO 3166-1 alpha-2 country the sender ID is for.
    #[schema(example = "KE")]
    pub country: String,
    /// What the organisation will send with it (10–1000 characters).
    #[schema(min_length = 10, max_length = 1000)]
    pub use_case: String,
    /// Transactional or promotional.
    pub traffic_type: TrafficType,
    /// An example message (1–1000 characters).
    #[schema(max_length = 1000)]
    pub sample_message: Option<String>,
}

/// Query of the customer list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SenderIdQuery {
    /// Only sender IDs in this status.
    pub status: Option<SenderIdStatus>,
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// A staff decision with an optional note (approve, reinstate).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionNote {
    /// Note passed on to the organisation (at most 1000 characters).
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// A staff decision that needs a reason (reject, suspend).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionReason {
    /// Why, passed on to the organisation (1–1000 characters).
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Approve several pending sender IDs at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkApprove {
    /// 1 to 100 sender ID ids (repeats are ignored).
    #[schema(min_items = 1, max_items = 100)]
    pub sender_id_ids: Vec<Uuid>,
    /// Note passed on to every organisation (at most 1000 characters).
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// What happened to one id of a bulk approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkOutcome {
    /// It was pending and is now approved.
    Approved,
    /// It was not pending (see `status`); left as it was.
    NotPending,
    /// No such sender ID.
    NotFound,
}

/// One id's result in a bulk approval (`SenderIdBulkResult` in the OpenAPI document: the
/// contacts module has a `BulkResult` too).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = SenderIdBulkResult)]
pub struct BulkResult {
    /// The sender ID id.
    pub sender_id_id: Uuid,
    /// What happened.
    pub outcome: BulkOutcome,
    /// Its status after the request (null when not found).
    pub status: Option<SenderIdStatus>,
}

/// Answer of a bulk approval: one result per distinct id, in request order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BulkApproved {
    /// How many were approved.
    pub approved: usize,
    /// Per-id results.
    pub results: Vec<BulkResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn life_cycle() {
        use SenderIdStatus as S;
        let all = [
            S::Pending,
            S::Approved,
            S::Rejected,
            S::Suspended,
            S::Withdrawn,
        ];
        let allowed: Vec<_> = all
            .iter()
            .flat_map(|from| all.iter().map(move |to| (*from, *to)))
            .filter(|(from, to)| from.can_become(*to))
            .collect();
        assert_eq!(
            allowed,
            [
                (S::Pending, S::Approved),
                (S::Pending, S::Rejected),
                (S::Pending, S::Withdrawn),
                (S::Approved, S::Suspended),
                (S::Suspended, S::Approved),
            ]
        );
        for s in all {
            assert!(s.conflict_detail().ends_with(s.as_str()));
        }
    }
}
