//! Organisations: list mine, create, switch, and the current organisation's business profile.

use crate::identity::scope::AccountScope;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::store;
use crate::accounts::types::*;
use crate::error::{Error, Result};
use crate::http::{Json, Page, Paged};
use crate::identity::role::Role;
use crate::identity::user::AuthUser;
use crate::state::AppState;
use crate::types::CountryCode;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_mine, create_account))
        .routes(routes!(get_current, update_current))
}

/// Organisations I belong to, newest membership first.
#[utoipa::path(get, path = "/v1/accounts", tag = "accounts", security(("bearer" = [])), params(Paged),
    responses(
        (status = 200, description = "My memberships", body = Page<Membership>),
    ))]
async fn list_mine(
    State(state): State<AppState>,
    user: AuthUser,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<Membership>>> {
    let rows = store::memberships(&state.pool, user.user_id, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |m| m.id)))
}

/// Create an organisation; I become its owner. Switch to it with `/v1/accounts/switch`.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", security(("bearer" = [])), request_body = CreateAccount,
    responses(
        (status = 201, description = "Created", body = Account),
    ))]
async fn create_account(
    State(state): State<AppState>,
    user: AuthUser,
    Json(req): Json<CreateAccount>,
) -> Result<(StatusCode, Json<Account>)> {
    let mut errors = Vec::new();
    check_account_name("name", &req.name, &mut errors);
    let place = check_place(req.country.as_deref(), req.timezone.as_deref(), &mut errors);
    let ((Some(country), timezone), true) = (place, errors.is_empty()) else {
        return Err(Error::Validation(errors));
    };
    let mut tx = state.pool.begin().await?;
    let id = store::create_with_owner(
        &mut tx,
        user.user_id,
        &req.name,
        &timezone,
        country.as_str(),
    )
    .await?;
    let account = store::get(&mut *tx, AccountScope::trusted(id))
        .await?
        .ok_or_else(|| Error::internal("account vanished"))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// The business profile of the organisation I am acting for.
#[utoipa::path(get, path = "/v1/account", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, description = "Business profile", body = Account),
    ))]
async fn get_current(State(state): State<AppState>, user: AuthUser) -> Result<Json<Account>> {
    Ok(Json(
        store::get(&state.pool, user.scope())
            .await?
            .ok_or(Error::NotFound)?,
    ))
}

/// Update the business profile (admin or owner).
#[utoipa::path(patch, path = "/v1/account", tag = "accounts", security(("bearer" = [])), request_body = UpdateAccount,
    responses(
        (status = 200, description = "Updated profile", body = Account),
    ))]
async fn update_current(
    State(state): State<AppState>,
    user: AuthUser,
    Json(mut req): Json<UpdateAccount>,
) -> Result<Json<Account>> {
    user.require(Role::Admin)?;
    let mut errors = Vec::new();
    if let Some(v) = &req.name {
        check_account_name("name", v, &mut errors);
    }
    if let Some(v) = &req.timezone {
        check_timezone("timezone", v, &mut errors);
    }
    if let Some(v) = &req.country {
        let code = CountryCode::check("country", v, &mut errors);
        req.country = code.map(|c| c.to_string());
    }
    for (field, value) in [
        ("address_line1", &req.address_line1),
        ("address_line2", &req.address_line2),
        ("city", &req.city),
        ("state", &req.state),
        ("postal_code", &req.postal_code),
    ] {
        if let Some(v) = value {
            check_address_part(field, v, &mut errors);
        }
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(Json(
        store::update(&state.pool, user.scope(), &req)
            .await?
            .ok_or(Error::NotFound)?,
    ))
}
