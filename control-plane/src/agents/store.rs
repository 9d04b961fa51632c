//! SQL of the agents module: sub-customers (create, list with this month's figures, detail,
//! deactivate), the limits an agent sets, usage per sub-customer per period, and the staff
//! agent list. Every customer query is bounded by the agent's id (`parent_agent_id`), on top
//! of the scope [`crate::identity::agent::AgentUser::customer`] checked.

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::agents::customers::NewCustomer;
use crate::agents::types::{AgentSummary, CustomerSummary, PendingOwner, Period, UsageRow};
use crate::campaigns::budget::store::SPENT;
use crate::error::Result;
use crate::http::pagination::PageRequest;
use crate::identity::scope::AccountScope;

/// The start of the current UTC month, as SQL.
const MONTH: &str = "(date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')";

/// Creates a sub-customer of `agent` (active, billed to the agent) with a zero credits row.
pub async fn create_customer(
    conn: &mut PgConnection,
    agent: AccountScope,
    new: &NewCustomer,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO accounts (id, name, type, status, billing_account_id, parent_agent_id,
                               timezone, country)
         VALUES ($1, $2, 'agent_customer', 'active', $3, $3, $4, $5)",
    )
    .bind(id)
    .bind(new.name.trim())
    .bind(agent.id())
    .bind(&new.timezone)
    .bind(&new.country)
    .execute(&mut *conn)
    .await?;
    crate::accounts::store::open_credits(&mut *conn, id).await?;
    Ok(id)
}

fn summary_sql(one: bool) -> String {
    format!(
        "SELECT a.id, a.name, a.status, a.deactivated_at, a.country, a.timezone, a.created_at,
                (SELECT count(*) FROM account_members mm
                  WHERE mm.account_id = a.id AND mm.is_active) AS members,
                coalesce(u.messages, 0) AS messages_this_month,
                coalesce(u.spend, 0) AS spend_this_month,
                coalesce(u.wholesale, 0) AS wholesale_this_month,
                l.daily_limit, l.monthly_limit, l.credit_line
         FROM accounts a
         LEFT JOIN agent_customer_limits l ON l.account_id = a.id
         LEFT JOIN LATERAL (
            SELECT count(*) AS messages,
                   sum(m.cost) FILTER (WHERE {SPENT}) AS spend,
                   sum(m.billed_cost) FILTER (WHERE {SPENT}) AS wholesale
            FROM messages m WHERE m.account_id = a.id AND m.created_at >= {MONTH}
         ) u ON true
         WHERE a.parent_agent_id = $1 AND a.type = 'agent_customer' AND a.deleted_at IS NULL
           AND {}
         ORDER BY a.id DESC LIMIT $3",
        if one { "a.id = $2" } else { "a.id < $2" }
    )
}

/// A page of the agent's sub-customers, newest first, with this month's figures.
pub async fn customers(
    conn: impl PgExecutor<'_>,
    agent: AccountScope,
    page: &PageRequest,
) -> Result<Vec<CustomerSummary>> {
    let rows: Vec<CustomerSummary> = sqlx::query_as(sqlx::AssertSqlSafe(summary_sql(false)))
        .bind(agent.id())
        .bind(page.before_or_max())
        .bind(page.fetch_limit())
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(CustomerSummary::with_state).collect())
}

/// One sub-customer of the agent.
pub async fn customer(
    conn: impl PgExecutor<'_>,
    agent: AccountScope,
    customer: AccountScope,
) -> Result<Option<CustomerSummary>> {
    let row: Option<CustomerSummary> = sqlx::query_as(sqlx::AssertSqlSafe(summary_sql(true)))
        .bind(agent.id())
        .bind(customer.id())
        .bind(1_i64)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(CustomerSummary::with_state))
}

/// The agent a sub-customer buys through (staff views).
pub async fn agent_of(conn: impl PgExecutor<'_>, customer: Uuid) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT parent_agent_id FROM accounts WHERE id = $1 AND type = 'agent_customer'",
    )
    .bind(customer)
    .fetch_optional(conn)
    .await?
    .flatten())
}

/// Owner invitations of a sub-customer not accepted, revoked or expired.
pub async fn pending_owners(
    conn: impl PgExecutor<'_>,
    customer: AccountScope,
) -> Result<Vec<PendingOwner>> {
    Ok(sqlx::query_as(
        "SELECT email, expires_at FROM invitations
         WHERE account_id = $1 AND founding AND accepted_at IS NULL AND revoked_at IS NULL
           AND expires_at > now() ORDER BY id DESC",
    )
    .bind(customer.id())
    .fetch_all(conn)
    .await?)
}

/// Why the agent deactivated the customer.
pub async fn deactivated_reason(
    conn: impl PgExecutor<'_>,
    customer: AccountScope,
) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT deactivated_reason FROM accounts WHERE id = $1")
            .bind(customer.id())
            .fetch_one(conn)
            .await?,
    )
}

/// Deactivates (`Some(reason)`) or reactivates (`None`) a sub-customer; whether it changed.
pub async fn set_deactivated(
    conn: impl PgExecutor<'_>,
    customer: AccountScope,
    deactivate: bool,
    reason: Option<&str>,
) -> Result<bool> {
    let changed = sqlx::query(
        "UPDATE accounts SET
            deactivated_at = CASE WHEN $2 THEN now() END,
            deactivated_reason = CASE WHEN $2 THEN $3 END, updated_at = now()
         WHERE id = $1 AND (deactivated_at IS NOT NULL) <> $2",
    )
    .bind(customer.id())
    .bind(deactivate)
    .bind(reason)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// The credit line of a sub-customer: amount and since when it counts.
pub async fn credit_line(
    conn: impl PgExecutor<'_>,
    customer: AccountScope,
) -> Result<Option<(Decimal, OffsetDateTime)>> {
    let row: Option<(Option<Decimal>, Option<OffsetDateTime>)> = sqlx::query_as(
        "SELECT credit_line, credit_line_since FROM agent_customer_limits WHERE account_id = $1",
    )
    .bind(customer.id())
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some((Some(line), Some(since))) => Some((line, since)),
        _ => None,
    })
}

/// Whether the agent set any limit for the customer (the send path measures spend only then).
pub async fn limited(conn: impl PgExecutor<'_>, customer: AccountScope) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM agent_customer_limits WHERE account_id = $1)",
    )
    .bind(customer.id())
    .fetch_one(conn)
    .await?)
}

/// The limits to set.
#[derive(Debug, Clone, Copy)]
pub struct NewLimits {
    /// Daily cap.
    pub daily: Option<Decimal>,
    /// Monthly cap.
    pub monthly: Option<Decimal>,
    /// Credit line.
    pub credit_line: Option<Decimal>,
    /// Count the credit line from now.
    pub renew: bool,
}

/// Sets a sub-customer's limits (no row is kept when none is set). A credit line keeps the
/// moment it started unless renewed (or newly opened).
pub async fn set_limits(
    conn: impl PgExecutor<'_>,
    agent: AccountScope,
    customer: AccountScope,
    l: NewLimits,
    by: Uuid,
) -> Result<()> {
    sqlx::query(
        "WITH gone AS (
            DELETE FROM agent_customer_limits WHERE account_id = $2
               AND $3::numeric IS NULL AND $4::numeric IS NULL AND $5::numeric IS NULL
         )
         INSERT INTO agent_customer_limits (account_id, agent_id, daily_limit, monthly_limit,
                                            credit_line, credit_line_since, updated_by)
         SELECT $2, $1, $3, $4, $5, CASE WHEN $5::numeric IS NOT NULL THEN now() END, $7
         WHERE $3::numeric IS NOT NULL OR $4::numeric IS NOT NULL OR $5::numeric IS NOT NULL
         ON CONFLICT (account_id) DO UPDATE SET
             daily_limit = EXCLUDED.daily_limit, monthly_limit = EXCLUDED.monthly_limit,
             credit_line = EXCLUDED.credit_line,
             credit_line_since = CASE
                 WHEN EXCLUDED.credit_line IS NULL THEN NULL
                 WHEN $6 OR agent_customer_limits.credit_line_since IS NULL THEN now()
                 ELSE agent_customer_limits.credit_line_since END,
             updated_by = EXCLUDED.updated_by, updated_at = now()",
    )
    .bind(agent.id())
    .bind(customer.id())
    .bind(l.daily)
    .bind(l.monthly)
    .bind(l.credit_line)
    .bind(l.renew)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Usage of the agent's sub-customers (one, or all) per period over `[start, end)`, oldest
/// period first.
pub async fn usage(
    conn: impl PgExecutor<'_>,
    agent: AccountScope,
    customer: Option<AccountScope>,
    start: OffsetDateTime,
    end: OffsetDateTime,
    period: Period,
) -> Result<Vec<UsageRow>> {
    let rows: Vec<UsageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT m.account_id AS customer_id, a.name AS customer_name,
                date_trunc($5, m.created_at AT TIME ZONE 'UTC')::date AS period_start,
                count(*) AS messages, coalesce(sum(m.parts), 0)::bigint AS parts,
                count(*) FILTER (WHERE m.status = 'delivered') AS delivered,
                count(*) FILTER (WHERE m.status IN ('failed', 'rejected', 'expired'))
                    AS undelivered,
                coalesce(sum(m.billed_cost) FILTER (WHERE {SPENT}), 0) AS wholesale_cost,
                coalesce(sum(m.cost) FILTER (WHERE {SPENT}), 0) AS retail_revenue
         FROM messages m JOIN accounts a ON a.id = m.account_id
         WHERE m.billed_account_id = $1 AND ($2::uuid IS NULL OR m.account_id = $2)
           AND m.created_at >= $3 AND m.created_at < $4
         GROUP BY 1, 2, 3 ORDER BY 3, 2, 1"
    )))
    .bind(agent.id())
    .bind(customer.map(AccountScope::id))
    .bind(start)
    .bind(end)
    .bind(period.unit())
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(UsageRow::derived).collect())
}

fn agents_sql(one: bool) -> String {
    format!(
        "SELECT a.id, a.name, a.status, a.country, a.created_at,
                coalesce(c.balance, 0) AS balance, coalesce(c.reserved_balance, 0) AS reserved,
                (SELECT count(*) FROM accounts s
                  WHERE s.parent_agent_id = a.id AND s.deleted_at IS NULL) AS customers,
                (SELECT count(*) FROM messages m
                  WHERE m.billed_account_id = a.id AND m.created_at >= {MONTH})
                + (SELECT count(*) FROM messages m
                  WHERE m.account_id = a.id AND m.created_at >= {MONTH}) AS messages_this_month
         FROM accounts a LEFT JOIN credits c ON c.account_id = a.id
         WHERE a.type = 'agent' AND a.deleted_at IS NULL AND {}
         ORDER BY a.id DESC LIMIT $2",
        if one { "a.id = $1" } else { "a.id < $1" }
    )
}

/// A page of every agent, newest first (staff).
pub async fn agents(conn: impl PgExecutor<'_>, page: &PageRequest) -> Result<Vec<AgentSummary>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(agents_sql(false)))
        .bind(page.before_or_max())
        .bind(page.fetch_limit())
        .fetch_all(conn)
        .await?)
}

/// One agent (staff); `None` when the account is not an agent.
pub async fn agent(conn: impl PgExecutor<'_>, id: Uuid) -> Result<Option<AgentSummary>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(agents_sql(true)))
        .bind(id)
        .bind(1_i64)
        .fetch_optional(conn)
        .await?)
}
