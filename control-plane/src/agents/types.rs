//! Requests and answers of the agent API and the staff agent manager. Money is a decimal
//! string (4 places for amounts, 6 for rates); a sub-customer's figures are in its retail
//! money, and the agent's wholesale figures appear only on agent and staff answers.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::accounts::types::AccountStatus;
use crate::analytics::types::date_str;
use crate::exports::stream::FileFormat;

/// A sub-customer's state as its agent sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    /// Can send.
    Active,
    /// Its owner has not accepted the invitation yet (it can send once someone can sign in).
    Pending,
    /// Deactivated by the agent: sends refused, data kept.
    Deactivated,
    /// Suspended by Sema Link staff (only staff lift it).
    Suspended,
}

/// Body of `POST /v1/agent/customers`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    /// Business name (1–200 characters).
    #[schema(example = "Duka Moja Ltd")]
    pub name: String,
    /// The owner to invite by email; they become the new organisation's owner on accepting.
    #[schema(format = Email, example = "owner@dukamoja.co.ke")]
    pub owner_email: String,
    /// ISO 3166-1 alpha-2 country (default the agent's).
    pub country: Option<String>,
    /// IANA time zone (default the country's).
    pub timezone: Option<String>,
}

/// One sub-customer in the agent's list.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct CustomerSummary {
    /// Account id.
    pub id: Uuid,
    /// Business name.
    pub name: String,
    /// Its state.
    #[sqlx(skip)]
    pub state: Option<CustomerStatus>,
    /// Account status as staff set it.
    #[serde(skip)]
    pub status: AccountStatus,
    /// When the agent deactivated it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deactivated_at: Option<OffsetDateTime>,
    /// Country.
    pub country: String,
    /// Time zone.
    pub timezone: String,
    /// Active members (0 until the owner accepted).
    pub members: i64,
    /// Messages written this calendar month (UTC).
    pub messages_this_month: i64,
    /// Its spend this month at its retail price (cancelled, failed, rejected and expired
    /// messages do not count).
    #[schema(value_type = String)]
    pub spend_this_month: Decimal,
    /// What this month's messages cost the agent.
    #[schema(value_type = String)]
    pub wholesale_this_month: Decimal,
    /// Daily limit set by the agent.
    #[schema(value_type = Option<String>)]
    pub daily_limit: Option<Decimal>,
    /// Monthly limit set by the agent.
    #[schema(value_type = Option<String>)]
    pub monthly_limit: Option<Decimal>,
    /// Credit line set by the agent.
    #[schema(value_type = Option<String>)]
    pub credit_line: Option<Decimal>,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl CustomerSummary {
    /// Fills `state` from the staff status and the deactivation.
    pub fn with_state(mut self) -> CustomerSummary {
        self.state = Some(if self.status == AccountStatus::Suspended {
            CustomerStatus::Suspended
        } else if self.deactivated_at.is_some() {
            CustomerStatus::Deactivated
        } else if self.members == 0 {
            CustomerStatus::Pending
        } else {
            CustomerStatus::Active
        });
        self
    }
}

/// A pending invitation of a sub-customer's owner.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct PendingOwner {
    /// Invited address.
    pub email: String,
    /// Until when the link works.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// One sub-customer in full.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerDetail {
    /// The summary.
    #[serde(flatten)]
    pub summary: CustomerSummary,
    /// Why the agent deactivated it.
    pub deactivated_reason: Option<String>,
    /// Owner invitations not accepted yet.
    pub pending_owners: Vec<PendingOwner>,
    /// Its limits and the spend they are measured against.
    pub limits: LimitStanding,
    /// The retail rates in force for it, by destination.
    pub rates: Vec<crate::pricing::types::EffectiveRate>,
}

/// Body of deactivate.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deactivate {
    /// Why (kept with the account, at most 1000 characters).
    pub reason: Option<String>,
}

/// Body of `POST /v1/agent/customers/{customer_id}/rates`: a retail rate for one
/// destination, effective now or later (rows are never changed: a new rate is a new row).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCustomerRate {
    /// ISO 3166-1 alpha-2 country.
    #[schema(example = "KE")]
    pub country: String,
    /// Operator id (`ke-safaricom`); absent: the country's rate.
    pub mno_id: Option<String>,
    /// Credits per part (up to 6 decimal places).
    #[schema(example = "1.20")]
    pub rate: String,
    /// When it applies (default now; never in the past).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub effective_from: Option<OffsetDateTime>,
    /// Note.
    pub note: Option<String>,
}

/// A sub-customer's rates: in force now, and every row the agent set (newest first).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerRates {
    /// Effective rates by destination.
    pub in_force: Vec<crate::pricing::types::EffectiveRate>,
    /// The agent's rows for this customer, future ones included.
    pub history: Vec<crate::pricing::types::Rate>,
}

/// Body of `PUT /v1/agent/customers/{customer_id}/limits` (null or absent: no such limit).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetLimits {
    /// Daily cap on its retail spend.
    #[schema(example = "500")]
    pub daily_limit: Option<String>,
    /// Monthly cap.
    pub monthly_limit: Option<String>,
    /// Credit line: retail spend allowed since the line was opened or renewed.
    pub credit_line: Option<String>,
    /// Start counting the credit line afresh now (the customer settled with the agent).
    #[serde(default)]
    pub renew_credit_line: bool,
}

/// A sub-customer's limits and the spend they are measured against.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LimitStanding {
    /// Daily cap.
    #[schema(value_type = Option<String>)]
    pub daily_limit: Option<Decimal>,
    /// Monthly cap.
    #[schema(value_type = Option<String>)]
    pub monthly_limit: Option<Decimal>,
    /// Credit line.
    #[schema(value_type = Option<String>)]
    pub credit_line: Option<Decimal>,
    /// Since when the credit line counts.
    #[serde(with = "time::serde::rfc3339::option")]
    pub credit_line_since: Option<OffsetDateTime>,
    /// Spent today (its time zone).
    #[schema(value_type = String)]
    pub spent_today: Decimal,
    /// Spent this month (its time zone).
    #[schema(value_type = String)]
    pub spent_this_month: Decimal,
    /// Spent against the credit line.
    #[schema(value_type = String)]
    pub credit_line_used: Decimal,
    /// The time zone days and months are counted in.
    pub timezone: String,
}

/// Usage period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// Per day (UTC).
    #[default]
    Day,
    /// Per calendar month (UTC).
    Month,
}

impl Period {
    /// The `date_trunc` unit.
    pub fn unit(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
        }
    }
}

/// Usage filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// First day (`YYYY-MM-DD`, UTC, inclusive); default 29 days before `to`.
    pub from: Option<String>,
    /// Last day (`YYYY-MM-DD`, inclusive); default today.
    pub to: Option<String>,
    /// `day` (default) or `month`.
    pub period: Option<Period>,
    /// `csv` for a file (one row per sub-customer per period) instead of JSON.
    pub format: Option<FileFormat>,
}

impl UsageQuery {
    /// The analytics range query with the same range and format (its checks apply).
    pub fn range_query(&self) -> crate::analytics::types::RangeQuery {
        crate::analytics::types::RangeQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            format: self.format,
            ..Default::default()
        }
    }
}

/// A sub-customer's usage in one period.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct UsageRow {
    /// The sub-customer.
    pub customer_id: Uuid,
    /// Its name.
    pub customer_name: String,
    /// First day of the period.
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "date_str")]
    pub period_start: Date,
    /// Messages written.
    pub messages: i64,
    /// Their parts.
    pub parts: i64,
    /// Delivered.
    pub delivered: i64,
    /// Failed, rejected or expired.
    pub undelivered: i64,
    /// Delivered / final (4 places; null before any is final).
    #[schema(value_type = Option<String>)]
    #[sqlx(skip)]
    pub delivery_rate: Option<Decimal>,
    /// What they cost the agent (messages that went nowhere are refunded and not counted).
    #[schema(value_type = String)]
    pub wholesale_cost: Decimal,
    /// What the agent charges for them at its retail prices (same rule).
    #[schema(value_type = String)]
    pub retail_revenue: Decimal,
    /// Retail revenue − wholesale cost.
    #[schema(value_type = String)]
    #[sqlx(skip)]
    pub margin: Decimal,
}

impl UsageRow {
    /// Fills the derived figures.
    pub fn derived(mut self) -> UsageRow {
        self.delivery_rate =
            crate::analytics::store::rate(self.delivered, self.delivered + self.undelivered);
        self.margin = self.retail_revenue - self.wholesale_cost;
        self
    }
}

/// The agent's usage over a range: per sub-customer per period, and the totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgentUsage {
    /// First day.
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "date_str")]
    pub from: Date,
    /// Last day.
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "date_str")]
    pub to: Date,
    /// Rows, oldest period first.
    pub rows: Vec<UsageRow>,
    /// Messages over the range.
    pub messages: i64,
    /// Parts over the range.
    pub parts: i64,
    /// Delivery rate over the range.
    #[schema(value_type = Option<String>)]
    pub delivery_rate: Option<Decimal>,
    /// Wholesale cost over the range.
    #[schema(value_type = String)]
    pub wholesale_cost: Decimal,
    /// Retail revenue over the range.
    #[schema(value_type = String)]
    pub retail_revenue: Decimal,
    /// Margin over the range.
    #[schema(value_type = String)]
    pub margin: Decimal,
}

/// Import options.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check the file and report, creating nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// `csv`: answer the rejected rows as a CSV file instead of JSON (implies a dry run).
    pub rejected: Option<FileFormat>,
}

/// A row of an import that cannot be created.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RejectedRow {
    /// Row number in the file (the header is row 1).
    pub row: u64,
    /// Why.
    pub reason: String,
    /// The row's fields as read.
    pub fields: Vec<String>,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// Nothing was created.
    pub dry_run: bool,
    /// Data rows read.
    pub total: u64,
    /// Rows that can be (or were) created.
    pub valid: u64,
    /// Sub-customers created.
    pub created: Vec<Uuid>,
    /// Rows that cannot.
    pub rejected: Vec<RejectedRow>,
}

/// One agent in the staff list.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AgentSummary {
    /// Account id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Staff status.
    pub status: AccountStatus,
    /// Country.
    pub country: String,
    /// Credit balance.
    #[schema(value_type = String)]
    pub balance: Decimal,
    /// Credits reserved for sends in flight.
    #[schema(value_type = String)]
    pub reserved: Decimal,
    /// Sub-customers.
    pub customers: i64,
    /// Messages of its sub-customers this month (UTC).
    pub messages_this_month: i64,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A sub-customer as staff see it: the agent's view plus its rate rows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffCustomer {
    /// The summary.
    #[serde(flatten)]
    pub summary: CustomerSummary,
    /// The rates the agent set for it (newest first).
    pub rates: Vec<crate::pricing::types::Rate>,
}

/// One agent in full (staff).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgentDetail {
    /// The summary.
    #[serde(flatten)]
    pub agent: AgentSummary,
    /// Why staff suspended it.
    pub suspended_reason: Option<String>,
    /// Its sub-customers (newest first, up to 500) with the rates it set for them.
    pub customers: Vec<StaffCustomer>,
}

/// Body of the staff suspension of an agent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendAgent {
    /// Why (required, at most 1000 characters).
    pub reason: String,
}
