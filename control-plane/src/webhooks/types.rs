//! Webhook endpoints as the API shows and takes them, and the event types.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{Error, FieldError, Result};
use crate::types::BoundedText;

/// What an endpoint can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// The upstream accepted the message.
    #[serde(rename = "message.sent")]
    MessageSent,
    /// The handset has it.
    #[serde(rename = "message.delivered")]
    MessageDelivered,
    /// Sending or delivery failed (or the upstream rejected it).
    #[serde(rename = "message.failed")]
    MessageFailed,
    /// Not delivered within its validity.
    #[serde(rename = "message.expired")]
    MessageExpired,
    /// A handset replied.
    #[serde(rename = "inbound.received")]
    InboundReceived,
    /// A number opted out (STOP …).
    #[serde(rename = "contact.opted_out")]
    ContactOptedOut,
    /// Available credit fell below the alert threshold.
    #[serde(rename = "credit.low")]
    CreditLow,
    /// A campaign's last message became final.
    #[serde(rename = "campaign.completed")]
    CampaignCompleted,
}

impl EventType {
    /// Every type.
    pub const ALL: [EventType; 8] = [
        EventType::MessageSent,
        EventType::MessageDelivered,
        EventType::MessageFailed,
        EventType::MessageExpired,
        EventType::InboundReceived,
        EventType::ContactOptedOut,
        EventType::CreditLow,
        EventType::CampaignCompleted,
    ];

    /// The wire name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::MessageSent => "message.sent",
            EventType::MessageDelivered => "message.delivered",
            EventType::MessageFailed => "message.failed",
            EventType::MessageExpired => "message.expired",
            EventType::InboundReceived => "inbound.received",
            EventType::ContactOptedOut => "contact.opted_out",
            EventType::CreditLow => "credit.low",
            EventType::CampaignCompleted => "campaign.completed",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// An endpoint as listed (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Endpoint {
    /// Id.
    pub id: Uuid,
    /// Where events are POSTed.
    pub url: String,
    /// The customer's label.
    pub description: String,
    /// Subscribed event types.
    #[schema(value_type = Vec<EventType>)]
    pub event_types: Vec<String>,
    /// Whether events are delivered.
    pub enabled: bool,
    /// Why it was disabled by the system (`gone`: it answered 410; `failing`: 24 hours of
    /// failures), if it was.
    pub disabled_reason: Option<String>,
    /// Deliveries in flight at once at most.
    pub max_in_flight: i32,
    /// Until when the previous secret still signs, during a rotation.
    #[serde(with = "time::serde::rfc3339::option")]
    pub previous_secret_until: Option<OffsetDateTime>,
    /// First failure since the last success, while failing.
    #[serde(with = "time::serde::rfc3339::option")]
    pub failing_since: Option<OffsetDateTime>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A new endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    /// An `https://` URL on the public internet.
    #[schema(max_length = 2000)]
    pub url: String,
    /// Label (up to 500 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// At least one event type.
    #[schema(min_items = 1)]
    pub event_types: Vec<EventType>,
    /// Deliveries in flight at once, 1 to 256 (default 16).
    #[serde(default)]
    pub max_in_flight: Option<i32>,
}

/// The created endpoint and its signing secret, shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedEndpoint {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The Standard Webhooks signing secret (`whsec_` + base64): verify every delivery with it.
    pub secret: String,
}

/// A change to an endpoint; absent fields stay. Enabling clears the failure state.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpoint {
    /// A new URL (checked as at registration).
    pub url: Option<String>,
    /// A new label.
    pub description: Option<String>,
    /// New subscriptions (at least one).
    pub event_types: Option<Vec<EventType>>,
    /// Turn delivery on or off.
    pub enabled: Option<bool>,
    /// New in-flight limit, 1 to 256.
    pub max_in_flight: Option<i32>,
}

/// A secret rotation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// How long the previous secret keeps signing, 0 to 7 days (default 24 hours).
    pub overlap_seconds: Option<i64>,
}

impl RotateSecret {
    /// Until when the previous secret signs (None: retired at once), `default_secs` when
    /// `overlap_seconds` is absent; 422 when out of range.
    pub fn overlap_until(&self, default_secs: u64) -> Result<Option<OffsetDateTime>> {
        let overlap = self
            .overlap_seconds
            .unwrap_or_else(|| i64::try_from(default_secs).unwrap_or(86_400));
        if !(0..=7 * 86_400).contains(&overlap) {
            return Err(Error::field("overlap_seconds", "must be 0 to 604800"));
        }
        Ok((overlap > 0).then(|| OffsetDateTime::now_utc() + time::Duration::seconds(overlap)))
    }
}

/// The new secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    /// The new signing secret, shown only in this response.
    pub secret: String,
    /// Until when the previous secret signs too.
    #[serde(with = "time::serde::rfc3339::option")]
    pub previous_secret_until: Option<OffsetDateTime>,
}

/// Fields of a create or update, checked.
#[derive(Debug)]
pub struct Checked {
    /// The URL (form only; the SSRF guard runs in the route, it resolves).
    pub url: Option<String>,
    /// The label.
    pub description: Option<String>,
    /// Event type names, deduplicated.
    pub event_types: Option<Vec<String>>,
    /// The in-flight limit.
    pub max_in_flight: Option<i32>,
}

/// Checks the fields every endpoint write shares; a 422 with an error per field.
pub fn check(
    url: Option<&str>,
    description: Option<&str>,
    event_types: Option<&[EventType]>,
    max_in_flight: Option<i32>,
) -> Result<Checked> {
    let mut errors = Vec::new();
    let url = url.map(str::trim).map(str::to_owned);
    if url.as_ref().is_some_and(|u| u.is_empty() || u.len() > 2000) {
        errors.push(FieldError::new("url", "must be 1 to 2000 characters"));
    }
    let description = match description {
        Some(d) if d.trim().is_empty() => Some(String::new()),
        Some(d) => {
            BoundedText::<500>::check("description", d, &mut errors).map(|t| t.as_str().to_owned())
        }
        None => None,
    };
    let event_types = event_types.map(|types| {
        let mut names: Vec<String> = types.iter().map(|t| t.as_str().to_owned()).collect();
        names.sort();
        names.dedup();
        names
    });
    if event_types.as_ref().is_some_and(Vec::is_empty) {
        errors.push(FieldError::new(
            "event_types",
            "needs at least one event type",
        ));
    }
    if max_in_flight.is_some_and(|n| !(1..=256).contains(&n)) {
        errors.push(FieldError::new("max_in_flight", "must be 1 to 256"));
    }
    let checked = Checked {
        url,
        description,
        event_types,
        max_in_flight,
    };
    crate::http::reply::checked(checked, errors)
}
