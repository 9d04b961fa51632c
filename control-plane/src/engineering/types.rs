//! Answers of the engineering module.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::metrics::{ApiHealth, ServerError};

/// One queue's depth.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueDepth {
    /// Queue name.
    pub queue: String,
    /// Messages (envelopes) ready; null when the queue cannot be read now.
    pub messages: Option<u64>,
    /// Consumers attached; null when the queue cannot be read now.
    pub consumers: Option<u64>,
}

/// Every queue of the deployment.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queues {
    /// `amqp` or `memory`.
    pub bus: &'static str,
    /// Whether the bus is connected.
    pub ready: bool,
    /// The queues.
    pub data: Vec<QueueDepth>,
}

/// Filters of the failed-messages list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FailedQuery {
    /// Only this organisation's.
    pub account_id: Option<Uuid>,
}

/// A message that failed.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct FailedMessage {
    /// Message id.
    pub id: Uuid,
    /// Organisation.
    pub account_id: Uuid,
    /// Campaign, if any.
    pub campaign_id: Option<Uuid>,
    /// Destination.
    pub destination: String,
    /// Operator route.
    pub mno_id: Option<String>,
    /// `command_status`, `network` or `receipt`.
    pub error_kind: Option<String>,
    /// The upstream's error code.
    pub error_code: Option<i64>,
    /// The reason.
    pub error_text: Option<String>,
    /// Upstream that carried it.
    pub upstream: Option<String>,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Became final.
    #[serde(with = "time::serde::rfc3339::option")]
    pub final_at: Option<OffsetDateTime>,
}

/// One applied migration.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Migration {
    /// Version.
    pub version: i64,
    /// Description.
    pub description: String,
    /// When it ran.
    #[serde(with = "time::serde::rfc3339")]
    pub installed_on: OffsetDateTime,
    /// Whether it succeeded.
    pub success: bool,
    /// How long it took (ns).
    pub execution_time: i64,
}

/// Applied migrations, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Migrations {
    /// The migrations.
    pub data: Vec<Migration>,
}

/// The API's health.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// From the service's own counters.
    pub api: ApiHealth,
    /// Messages waiting in the outbox (written, not yet published).
    pub outbox_waiting: i64,
    /// Of which held (suspended organisations).
    pub outbox_held: i64,
}

/// The last server errors, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecentErrors {
    /// The errors (at most 100).
    pub data: Vec<ServerError>,
}

/// Failed messages to send again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryRequest {
    /// The messages (1 to 100); all are retried or none.
    #[schema(min_items = 1, max_items = 100)]
    pub message_ids: Vec<Uuid>,
    /// Why (optional, at most 1000 characters; kept in the audit row and the ledger).
    pub note: Option<String>,
}

/// One new attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct Retried {
    /// Message id (unchanged).
    pub message_id: Uuid,
    /// Organisation.
    pub account_id: Uuid,
    /// The attempt number (1 for the first retry).
    pub attempt: i32,
    /// The message's status now (`submitted`: back in the outbox).
    pub status: crate::messages::types::MessageStatus,
    /// Credits reserved again for it.
    #[schema(value_type = String, example = "0.8000")]
    #[serde(serialize_with = "crate::credits::money::amount_str")]
    pub reserved: rust_decimal::Decimal,
}

/// What a retry did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetryAnswer {
    /// The new attempts, in message id order.
    pub data: Vec<Retried>,
}

/// A receipt an engine could not match to any message it sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnmatchedReceipt {
    /// The engine that reported it (its configured URL); filled in here.
    #[serde(default)]
    pub engine: String,
    /// The upstream it came from.
    pub upstream: String,
    /// The SMSC message id it carried.
    pub smsc_message_id: String,
    /// Its stat word (`DELIVRD`, `UNDELIV`, …).
    pub stat: String,
    /// Its `err:` field.
    pub err: Option<String>,
    /// When the engine gave up matching it.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// What one engine answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct EngineUnmatched {
    /// The engine's configured URL.
    pub url: String,
    /// Whether it answered.
    pub reachable: bool,
    /// Why not, when it did not.
    pub error: Option<String>,
    /// Unmatched receipts since that engine started.
    pub total: Option<u64>,
}

/// Receipts the engines could not match: counts and the most recent.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnmatchedReceipts {
    /// Whether any engine is configured (`[engineering] engine_urls`).
    pub configured: bool,
    /// The sum of the reachable engines' counts (each since its own start).
    pub total: u64,
    /// Each engine.
    pub engines: Vec<EngineUnmatched>,
    /// The most recent, newest first (at most 100).
    pub recent: Vec<UnmatchedReceipt>,
}
