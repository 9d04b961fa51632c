//! Campaign types: the status and which actions it allows, the stored view, the draft's
//! fields (create and edit) parsed into [`DraftFields`], the list query and the schedule (the
//! preview's are in [`crate::campaigns::preview::types`]).

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::contacts::filter::ContactFilter;
use crate::error::{Error, FieldError, Result};
use crate::messages::types::{MAX_TEXT_CHARS, MessagePriority};
use crate::types::BoundedText;

/// Where a campaign is in its life cycle (`migrations/0050_campaigns.sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "campaign_status", rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Being written; editable.
    Draft,
    /// Submitted; the content check runs.
    PendingContentCheck,
    /// Passed the content check; may be sent or scheduled.
    Approved,
    /// Failed the content check (`rejection_reason` says why); edit and submit again.
    Rejected,
    /// Waits for its `send_at`.
    Scheduled,
    /// Due; waits for a dispatcher.
    Queued,
    /// Being dispatched, or dispatched and waiting for its final statuses.
    Sending,
    /// Stopped by the customer, a budget cap or a lack of credit (`pause_reason`).
    Paused,
    /// Every recipient dispatched and every message final.
    Completed,
    /// Stopped for good; unsent messages never went and were refunded.
    Cancelled,
}

/// What a customer asks of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Change the draft's fields.
    Edit,
    /// Run the content check.
    Submit,
    /// Queue it now.
    Send,
    /// Schedule it.
    Schedule,
    /// Pause it.
    Pause,
    /// Resume it.
    Resume,
    /// Cancel it.
    Cancel,
    /// Delete the draft.
    Delete,
    /// Decide a human content review (staff).
    Review,
}

crate::wire::wire_names!(CampaignStatus {
    Draft => "draft",
    PendingContentCheck => "pending_content_check",
    Approved => "approved",
    Rejected => "rejected",
    Scheduled => "scheduled",
    Queued => "queued",
    Sending => "sending",
    Paused => "paused",
    Completed => "completed",
    Cancelled => "cancelled",
}
    /// The 409 detail: the action is not allowed in the current status (named).
    fn conflict_detail = "not allowed: the campaign is ");

impl CampaignStatus {
    /// Whether `action` is allowed in this status.
    pub fn allows(self, action: Action) -> bool {
        use Action as A;
        use CampaignStatus as S;
        match action {
            A::Edit => matches!(self, S::Draft | S::Rejected | S::Approved),
            A::Submit => matches!(self, S::Draft | S::Rejected | S::PendingContentCheck),
            A::Send | A::Schedule => matches!(self, S::Approved),
            A::Pause => matches!(self, S::Scheduled | S::Queued | S::Sending),
            A::Resume => matches!(self, S::Paused),
            A::Cancel => matches!(
                self,
                S::Draft | S::Approved | S::Scheduled | S::Queued | S::Sending | S::Paused
            ),
            A::Delete => matches!(self, S::Draft | S::Rejected),
            A::Review => matches!(self, S::PendingContentCheck),
        }
    }

    /// Checks `action`; a 409 naming the current status when it is not allowed.
    pub fn check(self, action: Action) -> Result<()> {
        if self.allows(action) {
            Ok(())
        } else {
            Err(Error::Conflict(self.conflict_detail()))
        }
    }
}

/// A campaign as its organisation sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Campaign {
    /// Id (UUIDv7).
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// The sender ID (one of the organisation's).
    pub sender_id: Option<Uuid>,
    /// The text with its tokens.
    pub message: String,
    /// Audience lists.
    pub list_ids: Vec<Uuid>,
    /// Audience filter (the contacts filter); with lists it narrows them.
    #[schema(value_type = Option<Object>)]
    pub audience_filter: Option<Value>,
    /// Status.
    pub status: CampaignStatus,
    /// Why the content check refused it (one problem per line).
    pub rejection_reason: Option<String>,
    /// Why it is paused.
    pub pause_reason: Option<String>,
    /// When it is (or was) to be sent.
    #[serde(with = "time::serde::rfc3339::option")]
    pub send_at: Option<OffsetDateTime>,
    /// The IANA time zone `send_at` was given in.
    pub timezone: Option<String>,
    /// Hold delivery outside 08:00–21:00 in the recipient's country.
    pub quiet_hours: bool,
    /// Queue lane.
    pub priority: MessagePriority,
    /// Recipients after exclusions (set when dispatch starts).
    pub total_recipients: i32,
    /// Recipients whose message is written.
    pub dispatched_count: i32,
    /// Messages sent.
    pub sent_count: i32,
    /// Messages delivered.
    pub delivered_count: i32,
    /// Messages failed.
    pub failed_count: i32,
    /// Messages expired.
    pub expired_count: i32,
    /// Messages rejected.
    pub rejected_count: i32,
    /// Recipients who opted out after receiving it.
    pub opted_out_count: i32,
    /// Credits the preview estimated.
    #[schema(value_type = Option<String>)]
    pub estimated_cost: Option<Decimal>,
    /// Credits reserved so far.
    #[schema(value_type = String)]
    pub reserved_cost: Decimal,
    /// Credits spent.
    #[schema(value_type = String)]
    pub spent_cost: Decimal,
    /// The final report (read with the live short-link figures in `clicks`).
    #[schema(value_type = Option<Object>)]
    pub report: Option<Value>,
    /// Dispatch started.
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// Completed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    /// Cancelled.
    #[serde(with = "time::serde::rfc3339::option")]
    pub cancelled_at: Option<OffsetDateTime>,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// `Some(None)` for an explicit `null`, `None` when absent.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Body of `POST /v1/campaigns` and `PATCH /v1/campaigns/{id}` (absent fields unchanged;
/// `null` clears sender_id, audience_filter, send_at and timezone).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignFields {
    /// 1 to 200 characters (required on create).
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// One of the organisation's sender IDs.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub sender_id: Option<Option<Uuid>>,
    /// Audience lists (the organisation's, up to 20).
    pub list_ids: Option<Vec<Uuid>>,
    /// Audience filter: the contacts filter (`q`, `tag`, `list_id`, `status`, `opted_out`).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<ContactFilter>)]
    pub audience_filter: Option<Option<Value>>,
    /// The text: `{first_name}`, `{last_name}`, `{phone}`, `{email}`, custom attributes,
    /// `{first_name|there}` for a fallback.
    #[schema(max_length = 39015)]
    pub message: Option<String>,
    /// RFC 3339 (`2026-12-01T09:00:00+03:00`), or a local time (`2026-12-01T09:00`) in
    /// `timezone` (default: the organisation's).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "2026-12-01T09:00")]
    pub send_at: Option<Option<String>>,
    /// IANA time zone of `send_at` (`Africa/Nairobi`).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub timezone: Option<Option<String>>,
    /// Hold delivery outside 08:00–21:00 in the recipient's country.
    pub quiet_hours: Option<bool>,
    /// `normal` (default) or `high`.
    pub priority: Option<MessagePriority>,
}

/// Most lists one campaign may name.
pub const MAX_LISTS: usize = 20;

/// A send time as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendAt {
    /// An instant (the input had an offset).
    At(OffsetDateTime),
    /// A wall-clock time in the campaign's time zone.
    Local(PrimitiveDateTime),
}

impl SendAt {
    /// Parses RFC 3339 or a local `YYYY-MM-DDTHH:MM[:SS]`; a 422 naming `field` otherwise.
    pub fn parse(field: &str, text: &str) -> Result<SendAt> {
        let text = text.trim();
        if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
            return Ok(SendAt::At(at));
        }
        let long = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        let short = format_description!("[year]-[month]-[day]T[hour]:[minute]");
        PrimitiveDateTime::parse(text, long)
            .or_else(|_| PrimitiveDateTime::parse(text, short))
            .map(SendAt::Local)
            .map_err(|_| {
                Error::field(
                    field,
                    "must be RFC 3339 or a local time such as 2026-12-01T09:00",
                )
            })
    }
}

/// A draft's fields, checked (the parts that need the database — sender, lists, time zone —
/// are checked by the routes).
#[derive(Debug, Clone, Default)]
pub struct DraftFields {
    /// The body's fields: the name trimmed, the lists de-duplicated, the time zone trimmed,
    /// the filter as stored (it parsed as a [`ContactFilter`]).
    pub fields: CampaignFields,
    /// When, parsed.
    pub send_at: Option<Option<SendAt>>,
}

impl CampaignFields {
    /// Checks the fields; `create` requires a name.
    pub fn parse(mut self, create: bool) -> Result<DraftFields> {
        let mut errors = Vec::new();
        let name = match self.name.as_deref() {
            Some(n) => {
                BoundedText::<200>::check("name", n, &mut errors).map(|n| n.as_str().to_owned())
            }
            None if create => {
                errors.push(FieldError::new("name", "is required"));
                None
            }
            None => None,
        };
        let list_ids = self.list_ids.map(|ids| {
            let mut seen = std::collections::HashSet::new();
            ids.into_iter()
                .filter(|id| seen.insert(*id))
                .collect::<Vec<_>>()
        });
        if list_ids.as_ref().is_some_and(|l| l.len() > MAX_LISTS) {
            errors.push(FieldError::new("list_ids", "must hold at most 20 lists"));
        }
        if let Some(Some(filter)) = &self.audience_filter
            && let Err(e) = serde_json::from_value::<ContactFilter>(filter.clone())
        {
            errors.push(FieldError::new(
                "audience_filter",
                format!("is not a contact filter: {e}"),
            ));
        }
        if self
            .message
            .as_ref()
            .is_some_and(|m| m.chars().count() > MAX_TEXT_CHARS)
        {
            errors.push(FieldError::new(
                "message",
                "must be at most 39015 characters",
            ));
        }
        let send_at = match self.send_at.take() {
            Some(Some(text)) => match SendAt::parse("send_at", &text) {
                Ok(at) => Some(Some(at)),
                Err(Error::Validation(e)) => {
                    errors.extend(e);
                    None
                }
                Err(e) => return Err(e),
            },
            Some(None) => Some(None),
            None => None,
        };
        let timezone = self.timezone.map(|tz| tz.map(|t| t.trim().to_owned()));
        if let Some(Some(tz)) = &timezone {
            crate::accounts::types::check_timezone("timezone", tz, &mut errors);
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let fields = CampaignFields {
            name,
            list_ids,
            timezone,
            ..self
        };
        Ok(DraftFields { fields, send_at })
    }
}

/// Filters of `GET /v1/campaigns`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    /// Only this status.
    pub status: Option<CampaignStatus>,
}

/// Body of `POST /v1/campaigns/{id}/schedule`: a new send time, or none to use the draft's.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleCampaign {
    /// RFC 3339 or a local time in `timezone`; absent: the campaign's `send_at`.
    #[schema(example = "2026-12-01T09:00")]
    pub send_at: Option<String>,
    /// IANA time zone of a local `send_at`; absent: the campaign's, else the organisation's.
    pub timezone: Option<String>,
}

/// Body of `POST /v1/campaigns/{id}/pause`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseCampaign {
    /// Why (kept as `pause_reason`, at most 500 characters).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_at_takes_instants_and_local_times() {
        assert!(matches!(
            SendAt::parse("send_at", "2026-12-01T09:00:00+03:00").unwrap(),
            SendAt::At(_)
        ));
        assert!(matches!(
            SendAt::parse("send_at", "2026-12-01T09:00").unwrap(),
            SendAt::Local(_)
        ));
        assert!(SendAt::parse("send_at", "tomorrow").is_err());
    }

    #[test]
    fn illegal_actions_name_the_status() {
        let err = CampaignStatus::Completed.check(Action::Resume).unwrap_err();
        assert!(matches!(err, Error::Conflict(d) if d.contains("completed")));
        assert!(CampaignStatus::Paused.check(Action::Resume).is_ok());
        assert!(CampaignStatus::Sending.check(Action::Delete).is_err());
    }
}
