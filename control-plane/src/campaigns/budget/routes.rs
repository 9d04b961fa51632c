//! `GET /v1/budget` (any member, or a key with `billing:read`) and `PUT /v1/budget` (owner
//! or admin): the organisation's daily and monthly spend caps, which the campaign
//! dispatcher enforces.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api_keys::types::Scope;
use crate::campaigns::budget::store;
use crate::campaigns::budget::types::{Budget, SetBudget};
use crate::credits::money::parse_amount;
use crate::error::{Error, Problem, Result};
use crate::http::Json;
use crate::identity::principal::Principal;
use crate::identity::role::Role;
use crate::identity::user::AuthUser;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_budget, set_budget))
}

/// The organisation's spend caps and its spend today and this month.
#[utoipa::path(get, path = "/v1/budget", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    responses(
        (status = 200, description = "Caps and spend", body = Budget),
        (status = 403, description = "Key lacks billing:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_budget(State(state): State<AppState>, who: Principal) -> Result<Json<Budget>> {
    who.require(Scope::BillingRead, Role::Member)?;
    Ok(Json(store::standing(&state.pool, who.scope()).await?))
}

/// Set the daily and monthly spend caps (owner or admin); null removes a cap. A campaign
/// whose next batch would cross one pauses with the reason and a notification.
#[utoipa::path(put, path = "/v1/budget", tag = "campaigns", security(("bearer" = [])),
    request_body = SetBudget,
    responses(
        (status = 200, description = "The caps now", body = Budget),
    ))]
async fn set_budget(
    State(state): State<AppState>,
    user: AuthUser,
    Json(body): Json<SetBudget>,
) -> Result<Json<Budget>> {
    user.require(Role::Admin)?;
    let mut errors = Vec::new();
    let mut cap = |field: &str, text: Option<&str>| match text.map(|t| parse_amount(field, t)) {
        Some(Ok(v)) => Some(v),
        Some(Err(Error::Validation(e))) => {
            errors.extend(e);
            None
        }
        _ => None,
    };
    let daily = cap("daily_limit", body.daily_limit.as_deref());
    let monthly = cap("monthly_limit", body.monthly_limit.as_deref());
    if let (Some(d), Some(m)) = (daily, monthly)
        && d > m
    {
        errors.push(crate::error::FieldError::new(
            "daily_limit",
            "must not exceed monthly_limit",
        ));
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let mut tx = state.pool.begin().await?;
    store::set(&mut *tx, user.scope(), daily, monthly).await?;
    let standing = store::standing(&mut *tx, user.scope()).await?;
    tx.commit().await?;
    Ok(Json(standing))
}
