//! Types of the pricing module: rate and cost rows, quotes, and the request and query bodies.
//! Rates and totals are `Decimal`s and travel as strings.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Whose price list a rate belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[sqlx(type_name = "rate_scope", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RateScope {
    /// The platform's default price list (no account).
    Platform,
    /// One customer's override.
    Account,
    /// An agent's default price for its customers (account = the agent).
    AgentRetail,
    /// What an agent pays Sema Link (account = the agent).
    AgentWholesale,
}

/// A rate row (rows are never changed; a change is a new row).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Rate {
    /// Id (time-ordered).
    pub id: Uuid,
    /// Whose price list.
    pub scope: RateScope,
    /// The account (customer or agent); null for the platform list.
    pub account_id: Option<Uuid>,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Operator (`ke-safaricom`); null = the country's default.
    pub mno_id: Option<String>,
    /// Credits per segment.
    #[schema(value_type = String, example = "0.800000")]
    pub rate: Decimal,
    /// When it takes effect.
    #[serde(with = "time::serde::rfc3339")]
    pub effective_from: OffsetDateTime,
    /// Staff member who set it.
    pub created_by: Option<Uuid>,
    /// Free note.
    pub note: Option<String>,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What the upstream charges per segment (rows are never changed).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct UpstreamCost {
    /// Id (time-ordered).
    pub id: Uuid,
    /// Upstream name (`celcom`).
    pub upstream: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Operator; null = the country's default.
    pub mno_id: Option<String>,
    /// Credits per segment.
    #[schema(value_type = String, example = "0.350000")]
    pub cost: Decimal,
    /// When it takes effect.
    #[serde(with = "time::serde::rfc3339")]
    pub effective_from: OffsetDateTime,
    /// Staff member who recorded it.
    pub created_by: Option<Uuid>,
    /// Free note.
    pub note: Option<String>,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A rate in force for a destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EffectiveRate {
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Operator id; null = every operator of the country without its own rate.
    pub mno_id: Option<String>,
    /// Operator display name.
    pub operator: Option<String>,
    /// Credits per segment.
    #[schema(value_type = String, example = "0.800000")]
    pub rate: Decimal,
    /// The price list that set it.
    pub scope: RateScope,
    /// Whether the rate row is the operator's own (false: the country default).
    pub operator_specific: bool,
    /// Since when.
    #[serde(with = "time::serde::rfc3339")]
    pub effective_from: OffsetDateTime,
}

/// The price of one message to one number.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Quote {
    /// The number in E.164.
    pub to: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Operator id, when known.
    pub mno_id: Option<String>,
    /// Operator name, when known.
    pub operator: Option<String>,
    /// `gsm7` or `ucs2`; null when a segment count was given instead of a text.
    pub encoding: Option<String>,
    /// Characters in the text; null without a text.
    pub characters: Option<usize>,
    /// Segments (parts) billed.
    pub segments: u32,
    /// Credits per segment.
    #[schema(value_type = String, example = "0.800000")]
    pub rate: Decimal,
    /// rate × segments, rounded to 4 places.
    #[schema(value_type = String, example = "1.6000")]
    pub total: Decimal,
    /// The price list that priced it.
    pub scope: RateScope,
    /// Since when that rate applies.
    #[serde(with = "time::serde::rfc3339")]
    pub effective_from: OffsetDateTime,
}

/// Body of the quote endpoint: a number and either a text or a segment count.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteBody {
    /// Destination number (E.164, or national in the organisation's country).
    #[schema(example = "+254712345678")]
    pub to: String,
    /// The message text (segments are counted as they will be sent).
    pub text: Option<String>,
    /// Or a segment count, 1 to 255.
    pub segments: Option<u32>,
}

/// Staff: a new rate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRate {
    /// Whose price list.
    pub scope: RateScope,
    /// The account: required for every scope but `platform`.
    pub account_id: Option<Uuid>,
    /// ISO 3166-1 alpha-2 country.
    #[schema(example = "KE")]
    pub country: String,
    /// Operator id; omit for the country default.
    #[schema(example = "ke-safaricom")]
    pub mno_id: Option<String>,
    /// Credits per segment, a decimal string (≤ 6 places, 0 to 10000).
    #[schema(example = "0.80")]
    pub rate: String,
    /// When it takes effect (RFC 3339, not in the past); default now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub effective_from: Option<OffsetDateTime>,
    /// Free note (≤ 1000 characters).
    pub note: Option<String>,
}

/// Staff: a new upstream cost.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordCost {
    /// Upstream name, lowercase (default `celcom`).
    pub upstream: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    #[schema(example = "KE")]
    pub country: String,
    /// Operator id; omit for the country default.
    pub mno_id: Option<String>,
    /// Credits per segment, a decimal string (≤ 6 places).
    #[schema(example = "0.35")]
    pub cost: String,
    /// When it takes effect (RFC 3339, not in the past); default now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub effective_from: Option<OffsetDateTime>,
    /// Free note (≤ 1000 characters).
    pub note: Option<String>,
}

/// Staff: rate against cost for a destination.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Margin {
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Operator id; null = country default.
    pub mno_id: Option<String>,
    /// Operator name.
    pub operator: Option<String>,
    /// The price list of the rate.
    pub scope: RateScope,
    /// Credits per segment charged.
    #[schema(value_type = String)]
    pub rate: Decimal,
    /// Upstream whose cost is compared; null when no cost is recorded.
    pub upstream: Option<String>,
    /// Credits per segment paid upstream.
    #[schema(value_type = Option<String>)]
    pub cost: Option<Decimal>,
    /// rate − cost.
    #[schema(value_type = Option<String>)]
    pub margin: Option<Decimal>,
    /// margin ÷ rate × 100, two places; null without a cost or for a zero rate.
    #[schema(value_type = Option<String>)]
    pub margin_percent: Option<Decimal>,
}

/// Public pricing table query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountryQuery {
    /// Only this country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
}

/// Staff: rate history query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RateHistoryQuery {
    /// Only this scope.
    #[param(value_type = Option<RateScope>)]
    pub scope: Option<RateScope>,
    /// Only this account's rows.
    pub account_id: Option<Uuid>,
    /// Only this country.
    pub country: Option<String>,
}

/// Staff: margin view query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MarginQuery {
    /// Compare this account's effective rates instead of the platform list.
    pub account_id: Option<Uuid>,
    /// Only this country.
    pub country: Option<String>,
}
