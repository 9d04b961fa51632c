//! Suppression list endpoints: list, add, remove. Adding needs the member role (or a
//! `contacts:write` key); removing — which makes a number sendable again — needs admin.

use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api_keys::types::Scope;
use crate::contacts::routes::{can_read, can_write};
use crate::contacts::store;
use crate::contacts::suppression::{self, CreateSuppression, Suppression, SuppressionSource};
use crate::error::{Problem, Result};
use crate::http::reply::gone;
use crate::http::{Json, Page, Paged, Path, with::With};
use crate::identity::principal::Principal;
use crate::identity::role::Role;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_suppressions, add_suppression))
        .routes(routes!(remove_suppression))
}

/// Query of the suppression list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuppressionQuery {
    /// Only this number (any common form).
    pub phone: Option<String>,
}

/// Suppressed numbers, newest first.
#[utoipa::path(get, path = "/v1/suppressions", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(Paged<SuppressionQuery>),
    responses(
        (status = 200, description = "Suppressions", body = Page<Suppression>),
        (status = 403, description = "Key lacks contacts:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_suppressions(
    With(state, p): With<Principal>,
    Paged { query: q, page }: Paged<SuppressionQuery>,
) -> Result<Json<Page<Suppression>>> {
    can_read(&p)?;
    let phone = match q.phone {
        Some(phone) => {
            let country = store::account_country(&state.pool, p.scope()).await?;
            let check = CreateSuppression {
                phone,
                reason: None,
            };
            Some(check.check(&country)?.0)
        }
        None => None,
    };
    let rows = suppression::list(&state.pool, p.scope(), phone.as_deref(), &page).await?;
    Ok(Json(Page::from_rows(rows, page, |s| s.id)))
}

/// Suppress a number: nothing will be sent to it, whether or not a contact holds it.
#[utoipa::path(post, path = "/v1/suppressions", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), request_body = CreateSuppression,
    responses(
        (status = 201, description = "Suppressed", body = Suppression),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already suppressed", body = Problem, content_type = "application/problem+json"),
    ))]
async fn add_suppression(
    With(state, p): With<Principal>,
    Json(req): Json<CreateSuppression>,
) -> Result<(StatusCode, Json<Suppression>)> {
    can_write(&p)?;
    let country = store::account_country(&state.pool, p.scope()).await?;
    let (phone, reason) = req.check(&country)?;
    let (source, user) = match &p {
        Principal::User(u) => (SuppressionSource::Manual, Some(u.user_id)),
        Principal::Key(_) => (SuppressionSource::Api, None),
    };
    let row = suppression::insert(
        &state.pool,
        p.scope(),
        &phone,
        reason.as_deref(),
        source,
        user,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Remove a suppression (admin): the number becomes sendable again unless its contact is
/// opted out.
#[utoipa::path(delete, path = "/v1/suppressions/{suppression_id}", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("suppression_id" = Uuid, Path, description = "Suppression id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
    ))]
async fn remove_suppression(
    With(state, p): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    p.require(Scope::ContactsWrite, Role::Admin)?;
    gone(suppression::delete(&state.pool, p.scope(), id).await?)
}
