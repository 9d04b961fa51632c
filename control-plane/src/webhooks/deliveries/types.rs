//! Deliveries and attempts as the API shows them; the list's filters, replay and test-fire.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::webhooks::types::EventType;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// An attempt got a 2xx.
    Delivered,
    /// Given up: 24 hours of failures, or the endpoint answered 410.
    Failed,
}

/// One event to one endpoint.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Delivery {
    /// Id; also the `webhook-id` header (the same on every attempt: deduplicate on it).
    pub id: Uuid,
    /// The endpoint.
    pub endpoint_id: Uuid,
    /// The event type.
    pub event_type: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: i32,
    /// The next attempt, while pending.
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    /// The last attempt's HTTP status.
    pub last_status: Option<i32>,
    /// The last attempt's error, when it got no answer.
    pub last_error: Option<String>,
    /// When it was delivered.
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
    /// When the event happened.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// One attempt.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Attempt {
    /// Id.
    pub id: Uuid,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub attempted_at: OffsetDateTime,
    /// The HTTP status, when an answer came.
    pub status_code: Option<i32>,
    /// Milliseconds to the answer (or the failure).
    pub latency_ms: i32,
    /// Why there was no answer.
    pub error: Option<String>,
    /// Up to 1 KiB of the answer's body.
    pub response_excerpt: Option<String>,
}

/// A delivery with its signed body and every attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDetail {
    /// The delivery.
    #[serde(flatten)]
    pub delivery: Delivery,
    /// The exact body sent (the signed bytes).
    pub body: String,
    /// Attempts, oldest first.
    pub attempts_log: Vec<Attempt>,
}

/// Filters of the delivery list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Only this endpoint's.
    pub endpoint_id: Option<Uuid>,
    /// Only in this state.
    pub state: Option<DeliveryState>,
    /// Only of this event type.
    pub event_type: Option<EventType>,
}

/// A range to replay: the endpoint's deliveries whose event happened in `[since, until)`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRange {
    /// Start (inclusive); default 24 hours ago.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    /// End (exclusive); default now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
    /// Only those that failed (default: every delivery in the range).
    #[serde(default)]
    pub only_failed: bool,
}

/// How many deliveries a replay queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    /// Deliveries queued again.
    pub replayed: u64,
}

/// A test-fire.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestFire {
    /// The sample's event type (default `message.delivered`).
    pub event_type: Option<EventType>,
}
