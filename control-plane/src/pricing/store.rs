//! SQL of the pricing module. Rate and cost rows are only ever inserted; "in force at `at`"
//! is the row with the newest `effective_from <= at` per (scope, account, country, operator),
//! fetched for many destinations in one query (`DISTINCT ON`).

use crate::identity::scope::AccountScope;
use rust_decimal::Decimal;
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{Result, conflict_on_unique};
use crate::http::pagination::PageRequest;
use crate::pricing::types::{Rate, RateHistoryQuery, RateScope, UpstreamCost};

const RATE_COLUMNS: &str =
    "id, scope, account_id, country, mno_id, rate, effective_from, created_by, note, created_at";
const COST_COLUMNS: &str =
    "id, upstream, country, mno_id, cost, effective_from, created_by, note, created_at";

/// The price lists that apply to an account, most specific first.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Chain {
    /// The account priced.
    pub account_id: Uuid,
    /// Its agent, for agent customers.
    pub parent_agent_id: Option<Uuid>,
    /// Default country for national numbers.
    pub country: String,
}

impl Chain {
    /// (scope, account) in precedence order: the account's override, its agent's retail
    /// list, its own wholesale list (agents), the platform list.
    pub fn order(&self) -> Vec<(RateScope, Option<Uuid>)> {
        let mut order = vec![(RateScope::Account, Some(self.account_id))];
        if let Some(agent) = self.parent_agent_id {
            order.push((RateScope::AgentRetail, Some(agent)));
        }
        order.push((RateScope::AgentWholesale, Some(self.account_id)));
        order.push((RateScope::Platform, None));
        order
    }
}

/// The pricing chain of an account; `None` for an unknown account.
pub async fn chain(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<Option<Chain>> {
    Ok(sqlx::query_as(
        "SELECT id AS account_id, parent_agent_id, country FROM accounts WHERE id = $1",
    )
    .bind(scope.id())
    .fetch_optional(conn)
    .await?)
}

/// Whether an account exists and is an agent.
pub async fn account_type(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT type::text FROM accounts WHERE id = $1")
            .bind(scope.id())
            .fetch_optional(conn)
            .await?,
    )
}

/// Every rate in force at `at` on the chain's price lists, for the given countries (all when
/// `None`): at most one row per (scope, account, country, operator).
pub async fn in_force(
    conn: impl PgExecutor<'_>,
    chain: Option<&Chain>,
    countries: Option<&[String]>,
    at: OffsetDateTime,
) -> Result<Vec<Rate>> {
    let account = chain.map(|c| c.account_id);
    let agent = chain.and_then(|c| c.parent_agent_id);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT ON (scope, account_id, country, mno_id) {RATE_COLUMNS}
         FROM pricing_rates
         WHERE effective_from <= $1
           AND ($2::text[] IS NULL OR country = ANY($2))
           AND (scope = 'platform'
                OR (scope IN ('account', 'agent_wholesale') AND account_id = $3)
                OR (scope = 'agent_retail' AND account_id = $4))
         ORDER BY scope, account_id, country, mno_id, effective_from DESC"
    )))
    .bind(at)
    .bind(countries)
    .bind(account)
    .bind(agent)
    .fetch_all(conn)
    .await?)
}

/// A new rate row.
#[derive(Debug, Clone)]
pub struct NewRate<'a> {
    /// Whose list.
    pub scope: RateScope,
    /// The account (None for the platform).
    pub account_id: Option<Uuid>,
    /// Country.
    pub country: &'a str,
    /// Operator.
    pub mno_id: Option<&'a str>,
    /// Credits per segment.
    pub rate: Decimal,
    /// When it applies.
    pub effective_from: OffsetDateTime,
    /// Staff member.
    pub created_by: Option<Uuid>,
    /// Note.
    pub note: Option<&'a str>,
}

/// Inserts a rate; 409 when the same list already has a row for that moment.
pub async fn insert_rate(conn: impl PgExecutor<'_>, new: &NewRate<'_>) -> Result<Rate> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO pricing_rates (id, scope, account_id, country, mno_id, rate, effective_from, created_by, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {RATE_COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(new.scope)
    .bind(new.account_id)
    .bind(new.country)
    .bind(new.mno_id)
    .bind(new.rate)
    .bind(new.effective_from)
    .bind(new.created_by)
    .bind(new.note)
    .fetch_one(conn)
    .await
    .map_err(|e| conflict_on_unique(e, "a rate for this destination and moment already exists"))
}

/// A page of the rate history matching `q` (every row, future ones included; `q.country`
/// already upper-case), newest first.
pub async fn rate_history(
    conn: impl PgExecutor<'_>,
    q: &RateHistoryQuery,
    page: &PageRequest,
) -> Result<Vec<Rate>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RATE_COLUMNS} FROM pricing_rates
         WHERE ($1::rate_scope IS NULL OR scope = $1)
           AND ($2::uuid IS NULL OR account_id = $2)
           AND ($3::text IS NULL OR country = $3)
           AND id < $4
         ORDER BY id DESC LIMIT $5"
    )))
    .bind(q.scope)
    .bind(q.account_id)
    .bind(q.country.as_deref())
    .bind(page.before_or_max())
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?)
}

/// A new upstream cost row.
#[derive(Debug, Clone)]
pub struct NewCost<'a> {
    /// Upstream name.
    pub upstream: &'a str,
    /// Country.
    pub country: &'a str,
    /// Operator.
    pub mno_id: Option<&'a str>,
    /// Credits per segment.
    pub cost: Decimal,
    /// When it applies.
    pub effective_from: OffsetDateTime,
    /// Staff member.
    pub created_by: Option<Uuid>,
    /// Note.
    pub note: Option<&'a str>,
}

/// Inserts an upstream cost; 409 on a duplicate moment.
pub async fn insert_cost(conn: impl PgExecutor<'_>, new: &NewCost<'_>) -> Result<UpstreamCost> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO upstream_costs (id, upstream, country, mno_id, cost, effective_from, created_by, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COST_COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(new.upstream)
    .bind(new.country)
    .bind(new.mno_id)
    .bind(new.cost)
    .bind(new.effective_from)
    .bind(new.created_by)
    .bind(new.note)
    .fetch_one(conn)
    .await
    .map_err(|e| conflict_on_unique(e, "a cost for this destination and moment already exists"))
}

/// A page of the upstream cost history, newest first.
pub async fn cost_history(
    conn: impl PgExecutor<'_>,
    country: Option<&str>,
    page: &PageRequest,
) -> Result<Vec<UpstreamCost>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COST_COLUMNS} FROM upstream_costs
         WHERE ($1::text IS NULL OR country = $1) AND id < $2
         ORDER BY id DESC LIMIT $3"
    )))
    .bind(country)
    .bind(page.before_or_max())
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?)
}

/// Costs in force at `at`, one per (upstream, country, operator).
pub async fn costs_in_force(
    conn: impl PgExecutor<'_>,
    country: Option<&str>,
    at: OffsetDateTime,
) -> Result<Vec<UpstreamCost>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT ON (upstream, country, mno_id) {COST_COLUMNS}
         FROM upstream_costs
         WHERE effective_from <= $1 AND ($2::text IS NULL OR country = $2)
         ORDER BY upstream, country, mno_id, effective_from DESC"
    )))
    .bind(at)
    .bind(country)
    .fetch_all(conn)
    .await?)
}
