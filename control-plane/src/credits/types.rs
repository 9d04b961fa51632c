//! Types of the credits module: the balance, ledger rows, who acted, and the request and
//! query bodies of its endpoints. Amounts are `Decimal`s and travel as strings.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::credits::money::{amount_str, option_amount_str};

/// Prepaid (spend what was topped up) or postpaid (spend down to minus the credit limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[sqlx(type_name = "billing_mode", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum BillingMode {
    /// The balance never goes below zero.
    Prepaid,
    /// The balance may go down to minus the credit limit.
    Postpaid,
}

/// Kind of ledger row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[sqlx(type_name = "credit_tx_type", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum TxType {
    /// Credit added (manual, M-Pesa, card).
    Topup,
    /// Credit held for an in-flight send.
    Reservation,
    /// A reservation settled at its actual cost; any unused part released.
    Finalisation,
    /// A reservation (or a finalised charge) given back.
    Refund,
    /// A manual correction by staff.
    Adjustment,
}

/// The credit state of an account, as customers and staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Balance {
    /// The account.
    pub account_id: Uuid,
    /// Spendable credits (negative only for postpaid accounts).
    #[schema(value_type = String, example = "1250.0000")]
    #[serde(serialize_with = "amount_str")]
    pub balance: Decimal,
    /// Credits held for sends in flight.
    #[schema(value_type = String, example = "12.0000")]
    #[serde(serialize_with = "amount_str")]
    pub reserved: Decimal,
    /// What can still be reserved: the balance, plus the credit limit when postpaid.
    #[schema(value_type = String, example = "1250.0000")]
    #[serde(serialize_with = "amount_str")]
    pub available: Decimal,
    /// Prepaid or postpaid.
    pub billing_mode: BillingMode,
    /// How far below zero a postpaid balance may go.
    #[schema(value_type = String, example = "0.0000")]
    #[serde(serialize_with = "amount_str")]
    pub credit_limit: Decimal,
    /// ISO 4217 currency of one credit.
    pub currency: String,
    /// Available credit below which the organisation is notified; null = no alert.
    #[schema(value_type = Option<String>, example = "100.0000")]
    #[serde(serialize_with = "option_amount_str")]
    pub low_credit_threshold: Option<Decimal>,
    /// When the current low-credit notice was raised; null while above the threshold.
    #[serde(with = "time::serde::rfc3339::option")]
    pub low_credit_notified_at: Option<OffsetDateTime>,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// One ledger row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct CreditTransaction {
    /// Id.
    pub id: Uuid,
    /// Order of application (strictly increasing; lists are sorted by it, newest first).
    pub seq: i64,
    /// The account.
    pub account_id: Uuid,
    /// Kind.
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: TxType,
    /// Signed change of the balance.
    #[schema(value_type = String, example = "-4.0000")]
    #[serde(serialize_with = "amount_str")]
    pub amount: Decimal,
    /// Signed change of the reserved credits.
    #[schema(value_type = String, example = "4.0000")]
    #[serde(serialize_with = "amount_str")]
    pub reserved_delta: Decimal,
    /// Balance after this row.
    #[schema(value_type = String, example = "996.0000")]
    #[serde(serialize_with = "amount_str")]
    pub balance_after: Decimal,
    /// Reserved credits after this row.
    #[schema(value_type = String, example = "4.0000")]
    #[serde(serialize_with = "amount_str")]
    pub reserved_after: Decimal,
    /// Idempotency key (message or campaign id, receipt number, staff reference).
    pub reference: String,
    /// `system`, `staff`, `user` or `provider`.
    pub actor_type: String,
    /// Id of the actor (staff or user id, provider name), if any.
    pub actor_id: Option<String>,
    /// Why (required for staff actions).
    pub reason: Option<String>,
    /// Details.
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Who moved credits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The platform itself (campaign dispatcher, status consumer).
    System(&'static str),
    /// A staff member.
    Staff(Uuid),
    /// A customer user.
    User(Uuid),
    /// A payment provider (`manual`, `mpesa`, `card`).
    Provider(&'static str),
}

impl Actor {
    /// The `(actor_type, actor_id)` columns.
    pub fn columns(&self) -> (&'static str, String) {
        match self {
            Actor::System(name) => ("system", (*name).to_owned()),
            Actor::Staff(id) => ("staff", id.to_string()),
            Actor::User(id) => ("user", id.to_string()),
            Actor::Provider(name) => ("provider", (*name).to_owned()),
        }
    }
}

/// The result of a ledger operation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Movement {
    /// The ledger row (the original one when `replayed`).
    pub transaction: CreditTransaction,
    /// True when the (type, reference) had already been applied: nothing moved this time.
    pub replayed: bool,
}

/// Customer: set or clear the low-credit threshold.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetThreshold {
    /// Available credit below which to notify, as a decimal string; null turns alerts off.
    /// Required (an empty body must not switch the alert off by accident).
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<String>, required = true, example = "100.00")]
    pub low_credit_threshold: Option<String>,
}

/// A nullable field that must still be present (serde treats a missing `Option` as null
/// unless the field has its own deserializer).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(deserializer)
}

/// Staff: query of the all-accounts ledger.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Only rows of this kind.
    #[serde(rename = "type")]
    #[param(value_type = Option<TxType>)]
    pub kind: Option<TxType>,
    /// Only rows at or after this time (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<OffsetDateTime>,
    /// Only rows before this time (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<OffsetDateTime>,
    /// Only this account.
    pub account_id: Option<Uuid>,
}

/// Staff: a manual top-up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopupBody {
    /// Credits to add, a positive decimal string (≤ 4 places).
    #[schema(example = "500.00")]
    pub amount: String,
    /// Unique per account (e.g. the bank transfer's reference); repeating it changes nothing.
    pub reference: String,
    /// Why.
    pub reason: String,
}

/// Staff: a signed correction.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentBody {
    /// Signed credits, a non-zero decimal string (≤ 4 places).
    #[schema(example = "-20.00")]
    pub amount: String,
    /// Unique per account; repeating it changes nothing.
    pub reference: String,
    /// Why.
    pub reason: String,
}

/// Staff: refund a reservation (open: released; finalised: its charge returned).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// The reservation's reference.
    pub reference: String,
    /// Why.
    pub reason: String,
}

/// Staff: billing mode and credit limit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingSettings {
    /// Prepaid or postpaid.
    pub billing_mode: BillingMode,
    /// How far below zero a postpaid balance may go (decimal string; "0" for prepaid).
    #[schema(example = "5000.00")]
    pub credit_limit: String,
}
