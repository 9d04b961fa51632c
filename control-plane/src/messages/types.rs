//! Requests and answers of the messages API, and their parsing: [`SendMessages`] (the body
//! of `POST /v1/messages`) parses into a [`SendPlan`] whose fields can only hold valid values;
//! recipients are checked one by one later (a bad one is a per-recipient error, not a 422).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{Error, FieldError, Result};
use crate::types::BoundedText;

/// Recipients one request may name.
pub const MAX_RECIPIENTS: usize = 10_000;
/// Longest accepted text: 255 GSM-7 parts of 153 characters.
pub const MAX_TEXT_CHARS: usize = 39_015;
/// Validity bounds: one minute to three days (what upstreams accept).
const MIN_VALIDITY_SECS: i64 = 60;
const MAX_VALIDITY_SECS: i64 = 3 * 24 * 3600;
/// How far ahead `send_at` may be.
const MAX_SCHEDULE: Duration = Duration::days(60);

/// A message's place in its life cycle (declared in life-cycle order: the final states come
/// last).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "message_status", rename_all = "snake_case")]
pub enum MessageStatus {
    /// Accepted; credits reserved; waiting in the outbox.
    Submitted,
    /// The broker confirmed it on the engine's queue.
    Queued,
    /// The upstream accepted every part.
    Sent,
    /// The handset has it.
    Delivered,
    /// Sending or delivery failed.
    Failed,
    /// Not delivered within its validity.
    Expired,
    /// Refused by the upstream.
    Rejected,
    /// Its campaign was cancelled before it was published; its cost was refunded.
    Cancelled,
}

crate::wire::wire_names!(MessageStatus {
    Submitted => "submitted",
    Queued => "queued",
    Sent => "sent",
    Delivered => "delivered",
    Failed => "failed",
    Expired => "expired",
    Rejected => "rejected",
    Cancelled => "cancelled",
});

impl MessageStatus {
    /// Progress rank: submitted 0, queued 1, sent 2, every final state 3. The status
    /// consumer only ever raises it.
    pub fn rank(self) -> u8 {
        match self {
            MessageStatus::Submitted => 0,
            MessageStatus::Queued => 1,
            MessageStatus::Sent => 2,
            _ => 3,
        }
    }

    /// Whether nothing changes it any more.
    pub fn is_final(self) -> bool {
        self.rank() == 3
    }
}

/// Queue lane: `high` for OTPs and alerts (`sms.priority`), `normal` otherwise.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "message_priority", rename_all = "snake_case")]
pub enum MessagePriority {
    /// Bulk traffic.
    #[default]
    Normal,
    /// Transactional traffic, consumed first.
    High,
}

/// Body of `POST /v1/messages`: one text to 1 to 10,000 recipients.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessages {
    /// Recipients: E.164, or national numbers in the organisation's country.
    #[schema(min_items = 1, max_items = 10000, example = json!(["+254712345678"]))]
    pub to: Vec<String>,
    /// The text (GSM-7 or, with any other character, UCS-2; up to 255 parts).
    #[schema(min_length = 1, max_length = 39015)]
    pub text: String,
    /// An approved sender ID of the organisation; omitted: its default sender ID.
    pub from: Option<String>,
    /// Your reference, echoed in the message and its delivery reports (≤ 100 characters).
    #[schema(max_length = 100)]
    pub client_reference: Option<String>,
    /// `normal` (default) or `high`.
    #[serde(default)]
    pub priority: MessagePriority,
    /// Send later (RFC 3339, at most 60 days ahead); omitted or past: now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub send_at: Option<OffsetDateTime>,
    /// Seconds the upstream keeps trying (60 to 259200); or give `expires_at`.
    #[schema(minimum = 60, maximum = 259200)]
    pub validity: Option<i64>,
    /// Do not deliver after this moment (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
}

/// A checked send request.
#[derive(Debug, Clone)]
pub struct SendPlan {
    /// Recipients as given.
    pub to: Vec<String>,
    /// The text.
    pub text: String,
    /// The sender ID asked for (None: the default).
    pub from: Option<String>,
    /// The customer's reference.
    pub client_reference: Option<BoundedText<100>>,
    /// The lane.
    pub priority: MessagePriority,
    /// When to send (None: now).
    pub send_at: Option<OffsetDateTime>,
    /// When to give up.
    pub expires_at: Option<OffsetDateTime>,
}

impl SendMessages {
    /// Checks the request at `now`; every bad field is named.
    pub fn parse(self, now: OffsetDateTime) -> Result<SendPlan> {
        let mut errors = Vec::new();
        if self.to.is_empty() || self.to.len() > MAX_RECIPIENTS {
            errors.push(FieldError::new("to", "must hold 1 to 10000 recipients"));
        }
        let chars = self.text.chars().count();
        if self.text.trim().is_empty() || chars > MAX_TEXT_CHARS {
            errors.push(FieldError::new(
                "text",
                "must be 1 to 39015 characters and not blank",
            ));
        }
        let client_reference = self
            .client_reference
            .as_deref()
            .and_then(|r| BoundedText::check("client_reference", r, &mut errors));
        let send_at = self.send_at.filter(|at| *at > now);
        if send_at.is_some_and(|at| at > now + MAX_SCHEDULE) {
            errors.push(FieldError::new("send_at", "must be at most 60 days ahead"));
        }
        let start = send_at.unwrap_or(now);
        let expires_at = match (self.validity, self.expires_at) {
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    "validity",
                    "give either validity or expires_at, not both",
                ));
                None
            }
            (Some(secs), None) if (MIN_VALIDITY_SECS..=MAX_VALIDITY_SECS).contains(&secs) => {
                Some(start + Duration::seconds(secs))
            }
            (Some(_), None) => {
                errors.push(FieldError::new("validity", "must be 60 to 259200 seconds"));
                None
            }
            (None, Some(at)) if at > start + Duration::seconds(MIN_VALIDITY_SECS) => Some(at),
            (None, Some(_)) => {
                errors.push(FieldError::new(
                    "expires_at",
                    "must be at least a minute after the send time",
                ));
                None
            }
            (None, None) => None,
        };
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        Ok(SendPlan {
            to: self.to,
            text: self.text,
            from: self.from,
            client_reference,
            priority: self.priority,
            send_at,
            expires_at,
        })
    }
}

/// Why one recipient was not sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecipientError {
    /// Not a phone number, or a line that cannot receive SMS.
    InvalidNumber,
    /// A contact with this number opted out.
    OptedOut,
    /// The number is on the organisation's suppression list.
    Suppressed,
    /// The number appears earlier in the same request.
    Duplicate,
    /// No price list has a rate for the destination.
    NoRate,
}

crate::wire::wire_names!(RecipientError {
    InvalidNumber => "invalid_number",
    OptedOut => "opted_out",
    Suppressed => "suppressed",
    Duplicate => "duplicate",
    NoRate => "no_rate",
});

/// The answer for one recipient, in request order.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct RecipientResult {
    /// The recipient as given.
    pub to: String,
    /// E.164 form, when it parsed.
    pub destination: Option<String>,
    /// The message created for it (absent with an error).
    pub message_id: Option<Uuid>,
    /// `submitted`, or absent with an error.
    pub status: Option<MessageStatus>,
    /// Parts billed.
    pub parts: Option<u32>,
    /// Credits reserved for it.
    #[schema(value_type = Option<String>, example = "0.8000")]
    pub cost: Option<Decimal>,
    /// Why it was not sent.
    pub error: Option<RecipientError>,
    /// Human explanation of the error.
    pub error_detail: Option<String>,
}

/// Answer of `POST /v1/messages`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SendResult {
    /// Messages created.
    pub accepted: usize,
    /// Recipients refused.
    pub rejected: usize,
    /// The sender ID used.
    pub from: String,
    /// `gsm7` or `ucs2`.
    pub encoding: String,
    /// Parts per message.
    pub parts: u32,
    /// Credits reserved for the whole request.
    #[schema(value_type = String, example = "1.6000")]
    pub total_cost: Decimal,
    /// Per recipient, in request order.
    pub recipients: Vec<RecipientResult>,
}

/// One message.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Message {
    /// Id (UUIDv7, time-ordered).
    pub id: Uuid,
    /// The campaign it belongs to, if any.
    pub campaign_id: Option<Uuid>,
    /// Your reference.
    pub client_reference: Option<String>,
    /// Sender ID.
    #[sqlx(rename = "sender")]
    pub from: String,
    /// Destination (E.164).
    #[sqlx(rename = "destination")]
    pub to: String,
    /// Destination country.
    pub country: String,
    /// Operator route key, when known.
    pub mno_id: Option<String>,
    /// The text.
    #[sqlx(rename = "body")]
    pub text: String,
    /// `gsm7` or `ucs2`.
    pub encoding: String,
    /// Parts.
    pub parts: i32,
    /// Credits per part.
    #[schema(value_type = String, example = "0.800000")]
    pub unit_price: Decimal,
    /// Credits reserved.
    #[schema(value_type = String, example = "0.8000")]
    pub cost: Decimal,
    /// Lane.
    pub priority: MessagePriority,
    /// Status.
    pub status: MessageStatus,
    /// Scheduled time, if any.
    #[serde(with = "time::serde::rfc3339::option")]
    pub send_at: Option<OffsetDateTime>,
    /// Validity end, if any.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// When the upstream accepted it (`sent`).
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    /// When it reached its final status.
    #[serde(with = "time::serde::rfc3339::option")]
    pub final_at: Option<OffsetDateTime>,
    /// The upstream connection that carried it.
    pub upstream: Option<String>,
    /// The upstream's message id.
    pub smsc_message_id: Option<String>,
    /// Where `error_code` comes from: `command_status` (SMPP), `network`, `receipt`.
    pub error_kind: Option<String>,
    /// The failure code, when it failed.
    pub error_code: Option<i64>,
    /// The failure reason as the upstream gave it.
    pub error_text: Option<String>,
    /// Whether its reservation was settled (charged when delivered, else refunded).
    pub settled: bool,
    /// Accepted at.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// One step of a message's timeline.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct MessageEvent {
    /// Id.
    pub id: Uuid,
    /// The status reached.
    pub status: MessageStatus,
    /// Parts concerned, when known.
    pub parts: Option<i32>,
    /// What the step knew (upstream ids, error codes).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The timeline of one message, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageEvents {
    /// The message.
    pub message_id: Uuid,
    /// Its events.
    pub data: Vec<MessageEvent>,
}

/// Filters of `GET /v1/messages`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Only this status.
    pub status: Option<MessageStatus>,
    /// Only this campaign's messages.
    pub campaign_id: Option<Uuid>,
    /// Only to this number (E.164 or national).
    pub to: Option<String>,
    /// Only with this reference.
    pub client_reference: Option<String>,
    /// Created at or after (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<OffsetDateTime>,
    /// Created before (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> SendMessages {
        SendMessages {
            to: vec!["+254712345678".into()],
            text: "hello".into(),
            ..SendMessages::default()
        }
    }

    fn fields(err: Error) -> Vec<String> {
        match err {
            Error::Validation(e) => e.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn validity_becomes_an_expiry_after_the_send_time() {
        let now = OffsetDateTime::now_utc();
        let later = now + Duration::hours(1);
        let plan = SendMessages {
            send_at: Some(later),
            validity: Some(600),
            ..request()
        }
        .parse(now)
        .unwrap();
        assert_eq!(plan.send_at, Some(later));
        assert_eq!(plan.expires_at, Some(later + Duration::seconds(600)));
        // A send time in the past means now.
        let past = SendMessages {
            send_at: Some(now - Duration::hours(1)),
            ..request()
        };
        assert_eq!(past.parse(now).unwrap().send_at, None);
    }

    #[test]
    fn bad_fields_are_named() {
        let now = OffsetDateTime::now_utc();
        let bad = SendMessages {
            to: Vec::new(),
            text: "  ".into(),
            client_reference: Some("x".repeat(101)),
            validity: Some(10),
            ..request()
        };
        assert_eq!(
            fields(bad.parse(now).unwrap_err()),
            ["to", "text", "client_reference", "validity"]
        );
        let both = SendMessages {
            validity: Some(600),
            expires_at: Some(now + Duration::hours(1)),
            ..request()
        };
        assert_eq!(fields(both.parse(now).unwrap_err()), ["validity"]);
        let far = SendMessages {
            send_at: Some(now + Duration::days(61)),
            ..request()
        };
        assert_eq!(fields(far.parse(now).unwrap_err()), ["send_at"]);
    }
}
