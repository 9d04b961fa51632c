//! SQL of budgets: the caps (`account_budgets`) and the spend they are measured against.

use rust_decimal::Decimal;
use sqlx::PgExecutor;

use crate::campaigns::budget::types::Standing;
use crate::error::Result;
use crate::identity::scope::AccountScope;

/// Which caps a standing is measured against: the organisation's own budget, or the limits
/// its agent set for it (`agent_customer_limits`). The spend is the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caps {
    /// `account_budgets`, set by the organisation.
    Own,
    /// `agent_customer_limits`, set by the organisation's agent.
    Agent,
}

/// What counts as spend: the cost of the messages written, less those that went nowhere.
pub const SPENT: &str = "m.status NOT IN ('cancelled', 'failed', 'rejected', 'expired')";

/// The caps and the spend of the current day and month in the organisation's time zone.
pub async fn standing(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<Standing> {
    standing_against(conn, scope, Caps::Own).await
}

/// [`standing`] against `caps`.
pub async fn standing_against(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    caps: Caps,
) -> Result<Standing> {
    let table = match caps {
        Caps::Own => "account_budgets",
        Caps::Agent => "agent_customer_limits",
    };
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH a AS (
            SELECT a.timezone,
                   date_trunc('day', now() AT TIME ZONE a.timezone) AT TIME ZONE a.timezone AS day,
                   date_trunc('month', now() AT TIME ZONE a.timezone) AT TIME ZONE a.timezone AS month
            FROM accounts a WHERE a.id = $1
         ), s AS (
            SELECT coalesce(sum(m.cost) FILTER (WHERE m.created_at >= a.day), 0) AS today,
                   coalesce(sum(m.cost), 0) AS month
            FROM a JOIN messages m ON m.account_id = $1 AND m.created_at >= a.month
            WHERE {SPENT}
         )
         SELECT b.daily_limit, b.monthly_limit, s.today AS spent_today,
                s.month AS spent_this_month, a.timezone
         FROM a CROSS JOIN s LEFT JOIN {table} b ON b.account_id = $1"
    )))
    .bind(scope.id())
    .fetch_one(conn)
    .await?)
}

/// The organisation's spend since `since` (by the [`SPENT`] rule).
pub async fn spent_since(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    since: time::OffsetDateTime,
) -> Result<Decimal> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT coalesce(sum(m.cost), 0) FROM messages m
         WHERE m.account_id = $1 AND m.created_at >= $2 AND {SPENT}"
    )))
    .bind(scope.id())
    .bind(since)
    .fetch_one(conn)
    .await?)
}

/// Sets both caps (None: no cap); no row is kept when neither is set.
pub async fn set(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    daily: Option<Decimal>,
    monthly: Option<Decimal>,
) -> Result<()> {
    sqlx::query(
        "WITH gone AS (
            DELETE FROM account_budgets WHERE account_id = $1 AND $2::numeric IS NULL
                AND $3::numeric IS NULL
         )
         INSERT INTO account_budgets (account_id, daily_limit, monthly_limit)
         SELECT $1, $2, $3 WHERE $2::numeric IS NOT NULL OR $3::numeric IS NOT NULL
         ON CONFLICT (account_id) DO UPDATE
             SET daily_limit = EXCLUDED.daily_limit, monthly_limit = EXCLUDED.monthly_limit,
                 updated_at = now()",
    )
    .bind(scope.id())
    .bind(daily)
    .bind(monthly)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the organisation has a cap at all (the dispatcher measures spend only then).
pub async fn capped(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM account_budgets WHERE account_id = $1
                          AND (daily_limit IS NOT NULL OR monthly_limit IS NOT NULL))",
    )
    .bind(scope.id())
    .fetch_one(conn)
    .await?)
}
