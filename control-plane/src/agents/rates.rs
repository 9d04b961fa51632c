//! A sub-customer's retail rates and send limits, set by its agent
//! (`/v1/agent/customers/{customer_id}/rates`, `…/limits`). Rates are rows of the pricing
//! module's own `account` price list of the sub-customer (the list that wins its pricing
//! chain), checked and stored by the pricing module's rules: per country or operator, effective
//! now or later, never changed (a new rate is a new row, history kept). Staff see them in the
//! pricing history and the agent manager.

use axum::http::StatusCode;
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::agents::limits;
use crate::agents::store::{self, NewLimits};
use crate::agents::types::{CustomerRates, LimitStanding, SetCustomerRate, SetLimits};
use crate::credits::money::parse_amount;
use crate::error::{Error, FieldError, Problem, Result};
use crate::http::with::{With, newest};
use crate::http::{Json, Path};
use crate::identity::agent::AgentUser;
use crate::identity::role::Role;
use crate::identity::scope::AccountScope;
use crate::pricing::staff::RateFields;
use crate::pricing::store as pricing;
use crate::pricing::types::{Rate, RateHistoryQuery, RateScope};
use crate::state::AppState;

/// Routes of rates and limits.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(agent_rates, set_default_rate))
        .routes(routes!(customer_rates, set_customer_rate))
        .routes(routes!(customer_limits, set_customer_limits))
}

/// Rows shown in a rate history.
const HISTORY: i64 = 500;

/// My rates: what I pay per destination (in force now), and my default retail list for
/// sub-customers without a rate of their own (every row, newest first).
#[utoipa::path(get, path = "/v1/agent/rates", tag = "agent", security(("bearer" = [])),
    responses(
        (status = 200, description = "My cost and my default retail rows", body = CustomerRates),
        (status = 403, description = "Not an agent's user", body = Problem, content_type = "application/problem+json"),
    ))]
async fn agent_rates(With(state, agent): With<AgentUser>) -> Result<Json<CustomerRates>> {
    let mut conn = state.pool.acquire().await?;
    rates(&mut conn, agent.scope(), RateScope::AgentRetail).await
}

/// The rates in force for `scope` and the rows of its `list`, newest first.
async fn rates(
    conn: &mut sqlx::PgConnection,
    scope: AccountScope,
    list: RateScope,
) -> Result<Json<CustomerRates>> {
    let now = OffsetDateTime::now_utc();
    let in_force = crate::pricing::quote::effective_rates(&mut *conn, scope, None, now).await?;
    let of = RateHistoryQuery {
        scope: Some(list),
        account_id: Some(scope.id()),
        country: None,
    };
    let history = pricing::rate_history(&mut *conn, &of, &newest(HISTORY)).await?;
    Ok(Json(CustomerRates { in_force, history }))
}

/// Set a default retail rate (admin or owner): what my sub-customers pay where they have no
/// rate of their own; effective now or later.
#[utoipa::path(post, path = "/v1/agent/rates", tag = "agent", security(("bearer" = [])),
    request_body = SetCustomerRate,
    responses(
        (status = 201, description = "The new rate row", body = Rate),
        (status = 403, description = "Not an agent's admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A rate for this destination and moment exists", body = Problem, content_type = "application/problem+json"),
    ))]
async fn set_default_rate(
    With(state, agent): With<AgentUser>,
    Json(body): Json<SetCustomerRate>,
) -> Result<(StatusCode, Json<Rate>)> {
    agent.require(Role::Admin)?;
    insert(&state, &agent, RateScope::AgentRetail, agent.scope(), &body).await
}

/// Checks and inserts a rate row on the `list` of `account`, set by the agent's user.
async fn insert(
    state: &AppState,
    agent: &AgentUser,
    list: RateScope,
    account: AccountScope,
    body: &SetCustomerRate,
) -> Result<(StatusCode, Json<Rate>)> {
    let fields = RateFields::check(
        &body.country,
        body.mno_id.as_deref(),
        &body.rate,
        body.effective_from,
        body.note.as_deref(),
    )?;
    let new = fields.row(list, Some(account.id()), agent.user_id());
    let row = pricing::insert_rate(&state.pool, &new).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// A sub-customer's retail rates: in force now by destination, and the rows I set.
#[utoipa::path(get, path = "/v1/agent/customers/{customer_id}/rates", tag = "agent", security(("bearer" = [])),
    params(("customer_id" = Uuid, Path, description = "Sub-customer id")),
    responses(
        (status = 200, description = "Rates", body = CustomerRates),
        (status = 403, description = "Not an agent's user", body = Problem, content_type = "application/problem+json"),
    ))]
async fn customer_rates(
    With(state, agent): With<AgentUser>,
    Path(id): Path<Uuid>,
) -> Result<Json<CustomerRates>> {
    let mut conn = state.pool.acquire().await?;
    let scope = agent.customer(&mut *conn, id).await?;
    rates(&mut conn, scope, RateScope::Account).await
}

/// Set a sub-customer's retail rate for a country or operator (admin or owner), effective
/// now or at a future time.
#[utoipa::path(post, path = "/v1/agent/customers/{customer_id}/rates", tag = "agent", security(("bearer" = [])),
    params(("customer_id" = Uuid, Path, description = "Sub-customer id")), request_body = SetCustomerRate,
    responses(
        (status = 201, description = "The new rate row", body = Rate),
        (status = 403, description = "Not an agent's admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A rate for this destination and moment exists", body = Problem, content_type = "application/problem+json"),
    ))]
async fn set_customer_rate(
    With(state, agent): With<AgentUser>,
    Path(id): Path<Uuid>,
    Json(body): Json<SetCustomerRate>,
) -> Result<(StatusCode, Json<Rate>)> {
    agent.require(Role::Admin)?;
    let scope = agent.customer(&state.pool, id).await?;
    insert(&state, &agent, RateScope::Account, scope, &body).await
}

/// A sub-customer's send limits and its spend against them.
#[utoipa::path(get, path = "/v1/agent/customers/{customer_id}/limits", tag = "agent", security(("bearer" = [])),
    params(("customer_id" = Uuid, Path, description = "Sub-customer id")),
    responses(
        (status = 200, description = "Limits and spend", body = LimitStanding),
        (status = 403, description = "Not an agent's user", body = Problem, content_type = "application/problem+json"),
    ))]
async fn customer_limits(
    With(state, agent): With<AgentUser>,
    Path(id): Path<Uuid>,
) -> Result<Json<LimitStanding>> {
    let mut conn = state.pool.acquire().await?;
    let scope = agent.customer(&mut *conn, id).await?;
    Ok(Json(limits::standing(&mut conn, scope).await?))
}

/// Set a sub-customer's send limits (admin or owner): daily and monthly caps and a credit
/// line on its retail spend; null or absent removes one. Sends that would cross one are
/// refused (402) and campaigns pause with the reason.
#[utoipa::path(put, path = "/v1/agent/customers/{customer_id}/limits", tag = "agent", security(("bearer" = [])),
    params(("customer_id" = Uuid, Path, description = "Sub-customer id")), request_body = SetLimits,
    responses(
        (status = 200, description = "The limits now", body = LimitStanding),
        (status = 403, description = "Not an agent's admin", body = Problem, content_type = "application/problem+json"),
    ))]
async fn set_customer_limits(
    With(state, agent): With<AgentUser>,
    Path(id): Path<Uuid>,
    Json(body): Json<SetLimits>,
) -> Result<Json<LimitStanding>> {
    agent.require(Role::Admin)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let mut amount = |field: &str, text: Option<&str>| match text.map(|t| parse_amount(field, t)) {
        Some(Ok(v)) => Some(v),
        Some(Err(Error::Validation(e))) => {
            errors.extend(e);
            None
        }
        _ => None,
    };
    let daily = amount("daily_limit", body.daily_limit.as_deref());
    let monthly = amount("monthly_limit", body.monthly_limit.as_deref());
    let credit_line = amount("credit_line", body.credit_line.as_deref());
    if let (Some(d), Some(m)) = (daily, monthly)
        && d > m
    {
        errors.push(FieldError::new(
            "daily_limit",
            "must not exceed monthly_limit",
        ));
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let mut tx = state.pool.begin().await?;
    let scope = agent.customer(&mut *tx, id).await?;
    let new = NewLimits {
        daily,
        monthly,
        credit_line,
        renew: body.renew_credit_line,
    };
    store::set_limits(&mut *tx, agent.scope(), scope, new, agent.user_id()).await?;
    let standing = limits::standing(&mut tx, scope).await?;
    tx.commit().await?;
    Ok(Json(standing))
}
