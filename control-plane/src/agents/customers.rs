//! The agent's sub-customers (`/v1/agent/customers…`): create one (a new `agent_customer`
//! account billed to the agent, its owner invited by email through the ordinary invitation
//! flow), list them with this month's figures, one in full, deactivate / reactivate (sends
//! refused and held, data kept), and each one's sender IDs (read-only: approval stays with
//! staff). Reads need any role in the agent; changes need admin or owner.

use axum::http::StatusCode;
use sqlx::PgConnection;
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::accounts::team::store as team;
use crate::accounts::types::{check_account_name, check_timezone};
use crate::admin::action;
use crate::agents::types::{CreateCustomer, CustomerDetail, CustomerSummary, Deactivate};
use crate::agents::{limits, store};
use crate::contacts::store::account_country;
use crate::email::{Template, outbox};
use crate::error::{Error, FieldError, Problem, Result};
use crate::http::{Json, Page, Paged, Path, reply::found, with::With};
use crate::identity::agent::AgentUser;
use crate::identity::role::Role;
use crate::identity::scope::AccountScope;
use crate::sender_ids::types::SenderId;
use crate::state::AppState;
use crate::types::CountryCode;
use crate::users::types::parse_email;

/// Routes of the sub-customers.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_customers, create_customer))
        .routes(routes!(customer_detail))
        .routes(routes!(deactivate_customer))
        .routes(routes!(reactivate_customer))
        .routes(routes!(customer_sender_ids))
}

/// A new sub-customer, checked.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    /// Business name.
    pub name: String,
    /// The owner to invite.
    pub owner_email: String,
    /// Country.
    pub country: String,
    /// Time zone.
    pub timezone: String,
}

/// Checks a new sub-customer (the create endpoint and each import row): the organisation
/// rules of `POST /v1/accounts`, the email rule of invitations.
pub fn check_new(
    req: &CreateCustomer,
    default_country: &str,
) -> std::result::Result<NewCustomer, Vec<FieldError>> {
    let mut errors = Vec::new();
    check_account_name("name", &req.name, &mut errors);
    let owner_email = parse_email("owner_email", &req.owner_email, &mut errors);
    let country = req.country.as_deref().unwrap_or(default_country);
    let country = CountryCode::check("country", country, &mut errors);
    let timezone = match (&req.timezone, country) {
        (Some(zone), _) => zone.clone(),
        (None, Some(country)) => country.timezone().to_owned(),
        (None, None) => "UTC".to_owned(),
    };
    check_timezone("timezone", &timezone, &mut errors);
    match (errors.is_empty(), country) {
        (true, Some(country)) => Ok(NewCustomer {
            name: req.name.trim().to_owned(),
            owner_email,
            country: country.to_string(),
            timezone,
        }),
        _ => Err(errors),
    }
}

/// Creates the sub-customer and invites its owner, on the caller's transaction; its id.
pub async fn create(
    tx: &mut PgConnection,
    agent: &AgentUser,
    new: &NewCustomer,
    base_url: &str,
) -> Result<Uuid> {
    let id = store::create_customer(&mut *tx, agent.scope(), new).await?;
    let scope = agent.customer(&mut *tx, id).await?;
    let (_, token) =
        team::invite_founder(&mut *tx, scope, &new.owner_email, agent.user_id()).await?;
    let template = Template::Invitation {
        account_name: &new.name,
        token: &token,
    };
    outbox::enqueue(&mut *tx, &new.owner_email, &template, base_url).await?;
    Ok(id)
}

/// One sub-customer in full, as its agent (and staff) see it.
pub async fn detail(
    conn: &mut PgConnection,
    agent: AccountScope,
    customer: AccountScope,
) -> Result<CustomerDetail> {
    let summary = found(store::customer(&mut *conn, agent, customer).await?)?;
    let now = OffsetDateTime::now_utc();
    let rates = crate::pricing::quote::effective_rates(&mut *conn, customer, None, now).await?;
    Ok(CustomerDetail {
        summary,
        deactivated_reason: store::deactivated_reason(&mut *conn, customer).await?,
        pending_owners: store::pending_owners(&mut *conn, customer).await?,
        limits: limits::standing(&mut *conn, customer).await?,
        rates,
    })
}

/// My sub-customers, newest first: status, this month's messages and spend, limits.
#[utoipa::path(get, path = "/v1/agent/customers", tag = "agent", security(("bearer" = [])),
    params(Paged),
    responses(
        (status = 200, description = "Sub-customers", body = Page<CustomerSummary>),
        (status = 403, description = "Not an agent's user", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_customers(
    With(state, agent): With<AgentUser>,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<CustomerSummary>>> {
    let rows = store::customers(&state.pool, agent.scope(), &page).await?;
    Ok(Json(Page::from_rows(rows, page, |c| c.id)))
}

/// Create a sub-customer (admin or owner): a new organisation billed to me, its owner
/// invited by email (they sign up or sign in, then accept; they become its owner).
#[utoipa::path(post, path = "/v1/agent/customers", tag = "agent", security(("bearer" = [])),
    request_body = CreateCustomer,
    responses(
        (status = 201, description = "Created; the owner's invitation is on its way", body = CustomerDetail),
        (status = 403, description = "Not an agent's admin", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_customer(
    With(state, agent): With<AgentUser>,
    Json(req): Json<CreateCustomer>,
) -> Result<(StatusCode, Json<CustomerDetail>)> {
    agent.require(Role::Admin)?;
    let mut tx = state.pool.begin().await?;
    // The agent's country is the default of its new customers.
    let country = account_country(&mut *tx, agent.scope()).await?;
    let new = check_new(&req, &country).map_err(Error::Validation)?;
    let base = &state.config.server.public_base_url;
    let id = create(&mut tx, &agent, &new, base).await?;
    let scope = agent.customer(&mut *tx, id).await?;
    let detail = detail(&mut tx, agent.scope(), scope).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// One of my sub-customers: figures, pending owner invitation, limits, retail rates.
#[utoipa::path(get, path = "/v1/agent/customers/{customer_id}", tag = "agent", security(("bearer" = [])),
    params(("customer_id" = Uuid, Path, description = "Sub-customer id")),
    responses(
        (status = 200, description = "The sub-customer", body = CustomerDetail),
        (status = 403, description = "Not an agent's user", body = Problem, content_type = "application/problem+json"),
    ))]
async fn customer_detail(
    With(state, agent): With<AgentUser>,
    Path(id): Path<Uuid>,
) -> Result<Json<CustomerDetail>> {
    let mut conn = state.pool.acquire().await?;
    let scope = agent.customer(&mut *conn, id).await?;
    Ok(Json(detail(&mut conn, agent.scope(), scope).await?))
}

/// Deactivate a sub-customer (admin or owner): its sends are refused (403) and what it had
/// accepted is held; its data is kept and it can be reactivated.
#[utoipa::path(post, path = "/v1/agent/customers/{customer_id}/deactivate", tag = "agent", security(("bearer" = [])),
    params(("customer_id" = Uuid, Path, description = "Sub-customer id")), request_body = Deactivate,
    responses(
        (status = 200, description = "Deactivated", body = CustomerDetail),
        (status = 403, description = "Not an agent's admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already deactivated", body = Problem, content_type = "application/problem+json"),
    ))]
async fn deactivate_customer(
    With(state, agent): With<AgentUser>,
    Path(id): Path<Uuid>,
    Json(body): Json<Deactivate>,
) -> Result<Json<CustomerDetail>> {
    agent.require(Role::Admin)?;
    let reason = action::note("reason", body.reason.as_deref())?;
    set_active(&state, &agent, id, false, reason).await
}

/// Reactivate a deactivated sub-customer (admin or owner); held messages go out.
#[utoipa::path(post, path = "/v1/agent/customers/{customer_id}/reactivate", tag = "agent", security(("bearer" = [])),
    params(("customer_id" = Uuid, Path, description = "Sub-customer id")),
    responses(
        (status = 200, description = "Active again", body = CustomerDetail),
        (status = 403, description = "Not an agent's admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not deactivated", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reactivate_customer(
    With(state, agent): With<AgentUser>,
    Path(id): Path<Uuid>,
) -> Result<Json<CustomerDetail>> {
    agent.require(Role::Admin)?;
    set_active(&state, &agent, id, true, None).await
}

async fn set_active(
    state: &AppState,
    agent: &AgentUser,
    id: Uuid,
    active: bool,
    reason: Option<&str>,
) -> Result<Json<CustomerDetail>> {
    let mut tx = state.pool.begin().await?;
    let scope = agent.customer(&mut *tx, id).await?;
    if !store::set_deactivated(&mut *tx, scope, !active, reason).await? {
        return Err(Error::Conflict(if active {
            "the sub-customer is not deactivated"
        } else {
            "the sub-customer is already deactivated"
        }));
    }
    let detail = detail(&mut tx, agent.scope(), scope).await?;
    tx.commit().await?;
    if active {
        state.outbox_wake.notify_one();
    }
    Ok(Json(detail))
}

/// A sub-customer's sender IDs and their review status (read-only: staff decide them).
#[utoipa::path(get, path = "/v1/agent/customers/{customer_id}/sender-ids", tag = "agent", security(("bearer" = [])),
    params(("customer_id" = Uuid, Path, description = "Sub-customer id"), Paged),
    responses(
        (status = 200, description = "Sender IDs, newest first", body = Page<SenderId>),
        (status = 403, description = "Not an agent's user", body = Problem, content_type = "application/problem+json"),
    ))]
async fn customer_sender_ids(
    With(state, agent): With<AgentUser>,
    Path(id): Path<Uuid>,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<SenderId>>> {
    let scope = agent.customer(&state.pool, id).await?;
    let rows = crate::sender_ids::store::list(&state.pool, scope, None, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |s| s.id)))
}
