//! Clicks and click summaries as the API shows them, and the clicks list's filter.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Which clicks a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ClickKind {
    /// Every request.
    #[default]
    All,
    /// People's clicks only.
    People,
    /// Machines only (HEAD, previewers and crawlers, too early).
    Bots,
}

/// Filters of `GET /v1/campaigns/{campaign_id}/clicks`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClickQuery {
    /// `all` (default), `people` or `bots`.
    #[param(inline)]
    pub kind: Option<ClickKind>,
}

/// One request for a short link.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ClickRow {
    /// Id.
    pub id: Uuid,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub clicked_at: OffsetDateTime,
    /// The short code.
    pub code: String,
    /// Where it leads.
    pub url: String,
    /// The recipient's message.
    pub message_id: Uuid,
    /// The recipient's contact.
    pub contact_id: Option<Uuid>,
    /// `GET` or `HEAD`.
    pub method: String,
    /// The user agent (at most 512 bytes).
    pub user_agent: Option<String>,
    /// Null for a person's click; else why it is a machine's: `head`, `user_agent` (a known
    /// previewer or crawler, or none), `early` (within a second of delivery, or before it).
    pub bot: Option<String>,
}

/// A campaign's clicks in numbers.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ClickSummary {
    /// People's clicks.
    pub clicks: i64,
    /// Recipients with at least one click of a person.
    pub clickers: i64,
    /// Requests by machines (not in `clicks`).
    pub bot_clicks: i64,
    /// clickers / delivered messages; null before a delivery.
    #[schema(value_type = Option<String>)]
    pub click_through_rate: Option<Decimal>,
}
