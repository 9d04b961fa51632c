//! The agent's usage and analytics: per sub-customer per day or month — messages, parts,
//! delivery rate, wholesale cost, retail revenue, margin — with the agent's totals, as JSON or
//! (`format=csv`) as a formula-safe CSV file through the analytics' own answer (the exports'
//! CSV writer). Ranges are checked by the analytics' range rule (UTC days, at most 366).
//!
//! Figures come from the messages the agent paid for (`messages.billed_account_id`, one
//! index range per agent): cost and revenue leave out messages that went nowhere (cancelled,
//! failed, rejected, expired: refunded), the rule budgets and limits count spend by.

use axum::response::Response;
use time::{OffsetDateTime, Time};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::agents::store;
use crate::agents::types::{AgentUsage, UsageQuery, UsageRow};
use crate::analytics::routes::answer;
use crate::analytics::store::rate;
use crate::analytics::types::date_text;
use crate::error::{Problem, Result};
use crate::http::{Path, Query, with::With};
use crate::identity::agent::AgentUser;
use crate::identity::scope::AccountScope;
use crate::state::AppState;

/// Routes of usage.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(agent_usage))
        .routes(routes!(customer_usage))
}

const HEADER: [&str; 11] = [
    "customer_id",
    "customer_name",
    "period_start",
    "messages",
    "parts",
    "delivered",
    "undelivered",
    "delivery_rate",
    "wholesale_cost",
    "retail_revenue",
    "margin",
];

/// The usage over the query's range, totalled.
async fn usage(
    state: &AppState,
    agent: AccountScope,
    customer: Option<AccountScope>,
    q: &UsageQuery,
) -> Result<Response> {
    let rq = q.range_query();
    let range = rq.range(OffsetDateTime::now_utc().date())?;
    let start = range.from.with_time(Time::MIDNIGHT).assume_utc();
    let end = (range.to + time::Duration::days(1))
        .with_time(Time::MIDNIGHT)
        .assume_utc();
    let period = q.period.unwrap_or_default();
    let rows = store::usage(&state.pool, agent, customer, start, end, period).await?;
    let sum = |f: fn(&UsageRow) -> i64| rows.iter().map(f).sum::<i64>();
    let (delivered, undelivered) = (sum(|r| r.delivered), sum(|r| r.undelivered));
    let wholesale_cost = rows.iter().map(|r| r.wholesale_cost).sum();
    let retail_revenue = rows.iter().map(|r| r.retail_revenue).sum();
    let csv: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.customer_id.to_string(),
                r.customer_name.clone(),
                date_text(r.period_start),
                r.messages.to_string(),
                r.parts.to_string(),
                r.delivered.to_string(),
                r.undelivered.to_string(),
                r.delivery_rate.map(|d| d.to_string()).unwrap_or_default(),
                r.wholesale_cost.to_string(),
                r.retail_revenue.to_string(),
                r.margin.to_string(),
            ]
        })
        .collect();
    let body = AgentUsage {
        from: range.from,
        to: range.to,
        messages: sum(|r| r.messages),
        parts: sum(|r| r.parts),
        delivery_rate: rate(delivered, delivered + undelivered),
        wholesale_cost,
        retail_revenue,
        margin: retail_revenue - wholesale_cost,
        rows,
    };
    answer(&rq, "agent-usage", body, &HEADER, csv)
}

/// My sub-customers' usage per day or month with my totals (JSON, or `format=csv`).
#[utoipa::path(get, path = "/v1/agent/usage", tag = "agent", security(("bearer" = [])),
    params(UsageQuery),
    responses(
        (status = 200, description = "Usage (JSON, or CSV with format=csv)", body = AgentUsage, content(("application/json"), ("text/csv"))),
        (status = 403, description = "Not an agent's user", body = Problem, content_type = "application/problem+json"),
    ))]
async fn agent_usage(
    With(state, agent): With<AgentUser>,
    Query(q): Query<UsageQuery>,
) -> Result<Response> {
    usage(&state, agent.scope(), None, &q).await
}

/// One sub-customer's usage per day or month (JSON, or `format=csv`).
#[utoipa::path(get, path = "/v1/agent/customers/{customer_id}/usage", tag = "agent", security(("bearer" = [])),
    params(("customer_id" = Uuid, Path, description = "Sub-customer id"), UsageQuery),
    responses(
        (status = 200, description = "Usage (JSON, or CSV with format=csv)", body = AgentUsage, content(("application/json"), ("text/csv"))),
        (status = 403, description = "Not an agent's user", body = Problem, content_type = "application/problem+json"),
    ))]
async fn customer_usage(
    With(state, agent): With<AgentUser>,
    Path(id): Path<Uuid>,
    Query(q): Query<UsageQuery>,
) -> Result<Response> {
    let customer = agent.customer(&state.pool, id).await?;
    usage(&state, agent.scope(), Some(customer), &q).await
}
