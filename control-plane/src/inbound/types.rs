//! Inbound messages as the API shows them, and the list's filters.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// What an inbound message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum InboundAction {
    /// An opt-out keyword (STOP, SIMAMA, …): the number was opted out and suppressed.
    OptOut,
    /// An opt-in keyword (START, UNSTOP): the STOP suppression was lifted.
    OptIn,
    /// A reply.
    None,
}

/// One SMS a handset sent to one of the account's numbers or short codes.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Inbound {
    /// Id.
    pub id: Uuid,
    /// The handset (E.164 when valid).
    #[sqlx(rename = "from_number")]
    pub from: String,
    /// The short code or number it was sent to.
    #[sqlx(rename = "to_address")]
    pub to: String,
    /// The text.
    #[sqlx(rename = "body")]
    pub text: String,
    /// Segments it arrived in.
    pub segments: i32,
    /// The upstream it came from.
    pub upstream: String,
    /// What it did.
    pub action: InboundAction,
    /// The keyword that decided the action.
    pub keyword: Option<String>,
    /// The contact with that number, if any.
    pub contact_id: Option<Uuid>,
    /// The campaign of the last message sent to the number, if it was a campaign's.
    pub campaign_id: Option<Uuid>,
    /// The last message sent to the number from that address (what it replies to).
    pub message_id: Option<Uuid>,
    /// When the engine received it.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

/// Filters of `GET /v1/inbound`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboundQuery {
    /// Only from this number (E.164 or national): the conversation with it.
    pub from: Option<String>,
    /// Only with this action.
    pub action: Option<InboundAction>,
    /// Only replies to this campaign.
    pub campaign_id: Option<Uuid>,
    /// Received at or after (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<OffsetDateTime>,
    /// Received before (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<OffsetDateTime>,
}
