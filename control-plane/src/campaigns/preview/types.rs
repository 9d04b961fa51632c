//! Preview types: the request (which contact to render for) and the answer — the rendered
//! text, its encoding and parts, the characters forcing UCS-2 and the transliterated
//! alternative, the recipients left out by reason and the cost by operator.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Body of `POST /v1/campaigns/{id}/preview`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// Render for this contact (one of the organisation's); absent: the first recipient of
    /// the audience.
    pub contact_id: Option<Uuid>,
}

/// A character that forces UCS-2 and what transliteration would put instead.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForcingChar {
    /// The character.
    #[serde(rename = "char")]
    pub ch: String,
    /// Its positions in the rendered text.
    pub positions: Vec<usize>,
    /// The GSM-7 replacement, if known.
    pub replacement: Option<String>,
}

/// The transliterated alternative offered when a character forces UCS-2.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Alternative {
    /// The text with the replacements made.
    pub text: String,
    /// Its encoding (`gsm7` when every culprit has a replacement).
    pub encoding: String,
    /// Its parts.
    pub parts: u32,
}

/// Cost to one operator.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperatorCost {
    /// Country.
    pub country: String,
    /// Operator id, when known.
    pub mno_id: Option<String>,
    /// Operator name.
    pub operator: Option<String>,
    /// Recipients.
    pub recipients: i64,
    /// Parts to them (personalised texts can differ in length).
    pub parts: i64,
    /// Credits.
    #[schema(value_type = String)]
    pub cost: Decimal,
}

/// Recipients left out, by reason.
#[derive(Debug, Clone, Default, Serialize, ToSchema, sqlx::FromRow)]
pub struct Exclusions {
    /// Contacts that opted out.
    pub opted_out: i64,
    /// Numbers on the suppression list.
    pub suppressed: i64,
    /// Invalid numbers.
    pub invalid: i64,
    /// The same number reached through several lists or contacts.
    pub duplicates: i64,
    /// Destinations without a rate.
    pub no_rate: i64,
}

/// Answer of the preview.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Preview {
    /// The contact rendered for, if any.
    pub contact_id: Option<Uuid>,
    /// The rendered text.
    pub text: String,
    /// `gsm7` or `ucs2`.
    pub encoding: String,
    /// Characters.
    pub characters: usize,
    /// Parts of the rendered text.
    pub parts: u32,
    /// The characters forcing UCS-2 (empty for GSM-7).
    pub forcing_ucs2: Vec<ForcingChar>,
    /// With transliteration, when a character forces UCS-2.
    pub transliterated: Option<Alternative>,
    /// Audience members matched before exclusions.
    pub audience: i64,
    /// Recipients after exclusions.
    pub recipients: i64,
    /// Left out.
    pub excluded: Exclusions,
    /// Cost by operator.
    pub by_operator: Vec<OperatorCost>,
    /// Total credits.
    #[schema(value_type = String)]
    pub total_cost: Decimal,
}
