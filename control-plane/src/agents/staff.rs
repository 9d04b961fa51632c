//! The staff agent manager (`/v1/admin/agents…`, module permission `agents`): agents with
//! their balance, sub-customer count and this month's volume (`agents: read`); one agent with
//! its sub-customers and the rates it set for them; a read-only view of one sub-customer; and
//! suspend / reactivate an agent (`agents: admin`) through the CRM's one suspension sequence
//! ([`crate::crm::suspension`]: atomic, notified, audited) — an agent's suspension blocks every
//! sub-customer's sends through the send gate.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::action::{self, StaffAction};
use crate::admin::guard::{AgentsAdmin, AgentsRead, Require};
use crate::admin::permissions::{Level, Module};
use crate::agents::types::{
    AgentDetail, AgentSummary, CustomerDetail, StaffCustomer, SuspendAgent,
};
use crate::agents::{customers, store};
use crate::crm::suspension;
use crate::crm::types::StaffNote;
use crate::error::{Error, Problem, Result};
use crate::http::with::{With, newest};
use crate::http::{Json, Page, Paged, Path, reply::found};
use crate::identity::scope::AccountScope;
use crate::pricing::types::{RateHistoryQuery, RateScope};
use crate::state::AppState;

/// Sub-customers shown in an agent's detail.
const CUSTOMERS: i64 = 500;

/// Routes of the agent manager.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agents))
        .routes(routes!(agent_detail))
        .routes(routes!(agent_customer))
        .routes(routes!(suspend_agent))
        .routes(routes!(reactivate_agent))
}

/// Every agent, newest first: balance, sub-customers, this month's volume (`agents: read`).
#[utoipa::path(get, path = "/v1/admin/agents", tag = "admin-agents", security(("staff_bearer" = [])),
    params(Paged),
    responses(
        (status = 200, description = "Agents", body = Page<AgentSummary>),
    ))]
async fn list_agents(
    With(state, _): With<Require<AgentsRead>>,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<AgentSummary>>> {
    let rows = store::agents(&state.pool, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |a| a.id)))
}

async fn detail(state: &AppState, id: Uuid) -> Result<AgentDetail> {
    let pool = &state.pool;
    let agent = store::agent(pool, id).await?.ok_or(Error::NotFound)?;
    let scope = AccountScope::trusted(id);
    let mut customers = Vec::new();
    for summary in store::customers(pool, scope, &newest(CUSTOMERS)).await? {
        let of = RateHistoryQuery {
            scope: Some(RateScope::Account),
            account_id: Some(summary.id),
            country: None,
        };
        let rates = crate::pricing::store::rate_history(pool, &of, &newest(100)).await?;
        customers.push(StaffCustomer { summary, rates });
    }
    Ok(AgentDetail {
        agent,
        suspended_reason: crate::crm::store::suspension(pool, id)
            .await?
            .suspended_reason,
        customers,
    })
}

/// One agent with its sub-customers and the rates it set for them (`agents: read`).
#[utoipa::path(get, path = "/v1/admin/agents/{account_id}", tag = "admin-agents", security(("staff_bearer" = [])),
    params(("account_id" = Uuid, Path, description = "Agent account id")),
    responses(
        (status = 200, description = "The agent", body = AgentDetail),
    ))]
async fn agent_detail(
    With(state, _): With<Require<AgentsRead>>,
    Path(id): Path<Uuid>,
) -> Result<Json<AgentDetail>> {
    Ok(Json(detail(&state, id).await?))
}

/// One sub-customer of an agent, read-only: figures, limits, retail rates (`agents: read`).
#[utoipa::path(get, path = "/v1/admin/agents/{account_id}/customers/{customer_id}", tag = "admin-agents", security(("staff_bearer" = [])),
    params(("account_id" = Uuid, Path, description = "Agent account id"),
           ("customer_id" = Uuid, Path, description = "Sub-customer id")),
    responses(
        (status = 200, description = "The sub-customer", body = CustomerDetail),
    ))]
async fn agent_customer(
    With(state, _): With<Require<AgentsRead>>,
    Path((agent, customer)): Path<(Uuid, Uuid)>,
) -> Result<Json<CustomerDetail>> {
    let mut conn = state.pool.acquire().await?;
    if store::agent_of(&mut *conn, customer).await? != Some(agent) {
        return Err(Error::NotFound);
    }
    let detail = customers::detail(
        &mut conn,
        AccountScope::trusted(agent),
        AccountScope::trusted(customer),
    )
    .await?;
    Ok(Json(detail))
}

/// Suspend an agent (`agents: admin`), atomically: the CRM's suspension (status, credits
/// frozen, unpublished messages held, owners and CRM owners told, audited) — and with it every
/// sub-customer's sends are refused.
#[utoipa::path(post, path = "/v1/admin/agents/{account_id}/suspend", tag = "admin-agents", security(("staff_bearer" = [])),
    params(("account_id" = Uuid, Path, description = "Agent account id")), request_body = SuspendAgent,
    responses(
        (status = 200, description = "Suspended", body = AgentDetail),
        (status = 409, description = "Already suspended, or deleted", body = Problem, content_type = "application/problem+json"),
    ))]
async fn suspend_agent(
    With(state, Require(me, _)): With<Require<AgentsAdmin>>,
    Path(id): Path<Uuid>,
    Json(body): Json<SuspendAgent>,
) -> Result<Json<AgentDetail>> {
    let reason = action::reason("reason", &body.reason)?;
    let act = StaffAction::new(&me, Module::Agents, Level::Admin)?;
    found(store::agent(&state.pool, id).await?)?;
    suspension::suspend(&state, &act, id, reason, "agent.suspend").await?;
    Ok(Json(detail(&state, id).await?))
}

/// Reactivate a suspended agent (`agents: admin`); its sub-customers can send again.
#[utoipa::path(post, path = "/v1/admin/agents/{account_id}/reactivate", tag = "admin-agents", security(("staff_bearer" = [])),
    params(("account_id" = Uuid, Path, description = "Agent account id")), request_body = StaffNote,
    responses(
        (status = 200, description = "Active again", body = AgentDetail),
        (status = 409, description = "Not suspended, or deleted", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reactivate_agent(
    With(state, Require(me, _)): With<Require<AgentsAdmin>>,
    Path(id): Path<Uuid>,
    Json(body): Json<StaffNote>,
) -> Result<Json<AgentDetail>> {
    let note = action::note("note", body.note.as_deref())?;
    let act = StaffAction::new(&me, Module::Agents, Level::Admin)?;
    found(store::agent(&state.pool, id).await?)?;
    suspension::reactivate(&state, &act, id, note, "agent.reactivate").await?;
    state.outbox_wake.notify_one();
    Ok(Json(detail(&state, id).await?))
}
