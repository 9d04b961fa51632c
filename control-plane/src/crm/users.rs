//! The CRM's user routes (`/v1/admin/crm/users…`): users across organisations, one user with
//! their memberships, their login history (`crm: read`), disable and re-enable (`crm: admin`;
//! disabling revokes every session at once).

use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::action::{self, StaffAction};
use crate::admin::guard::{CrmAdmin, CrmRead, Require};
use crate::admin::permissions::{Level, Module};
use crate::crm::changes;
use crate::crm::store::{self, LoginScope};
use crate::crm::types::{LoginEvent, StaffNote, SuspendOrg, UserDetail, UserQuery, UserSummary};
use crate::error::{Error, Result};
use crate::http::{Json, Page, Paged, Path, reply::found, with::With};
use crate::identity::sessions;
use crate::state::AppState;

/// Routes of the users.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(user_detail))
        .routes(routes!(user_logins))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
}

/// Users of every organisation, newest first: search by email or name, filter by role
/// (`crm: read`).
#[utoipa::path(get, path = "/v1/admin/crm/users", tag = "admin-crm", security(("staff_bearer" = [])),
    params(Paged<UserQuery>),
    responses(
        (status = 200, description = "Users", body = Page<UserSummary>),
    ))]
async fn list_users(
    With(state, _): With<Require<CrmRead>>,
    Paged { query, page }: Paged<UserQuery>,
) -> Result<Json<Page<UserSummary>>> {
    let rows = store::users(&state.pool, &query, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |u| u.id)))
}

async fn detail(state: &AppState, id: Uuid) -> Result<UserDetail> {
    let mut user = store::user(&state.pool, id).await?.ok_or(Error::NotFound)?;
    user.memberships = store::memberships(&state.pool, id).await?;
    Ok(user)
}

/// One user with every membership (`crm: read`).
#[utoipa::path(get, path = "/v1/admin/crm/users/{user_id}", tag = "admin-crm", security(("staff_bearer" = [])),
    params(("user_id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserDetail),
    ))]
async fn user_detail(
    With(state, _): With<Require<CrmRead>>,
    Path(id): Path<Uuid>,
) -> Result<Json<UserDetail>> {
    Ok(Json(detail(&state, id).await?))
}

/// A user's login history, newest first: time, IP, user agent, success or why not
/// (`crm: read`).
#[utoipa::path(get, path = "/v1/admin/crm/users/{user_id}/logins", tag = "admin-crm", security(("staff_bearer" = [])),
    params(("user_id" = Uuid, Path, description = "User id"), Paged),
    responses(
        (status = 200, description = "Login attempts", body = Page<LoginEvent>),
    ))]
async fn user_logins(
    With(state, _): With<Require<CrmRead>>,
    Path(id): Path<Uuid>,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<LoginEvent>>> {
    let rows = store::logins(&state.pool, LoginScope::User, id, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |e| e.id)))
}

/// Disable a user (`crm: admin`): they cannot sign in, and every session ends now. Their
/// data stays.
#[utoipa::path(post, path = "/v1/admin/crm/users/{user_id}/disable", tag = "admin-crm", security(("staff_bearer" = [])),
    params(("user_id" = Uuid, Path, description = "User id")), request_body = SuspendOrg,
    responses(
        (status = 200, description = "Disabled", body = UserDetail),
    ))]
async fn disable_user(
    With(state, Require(me, _)): With<Require<CrmAdmin>>,
    Path(id): Path<Uuid>,
    Json(body): Json<SuspendOrg>,
) -> Result<Json<UserDetail>> {
    let reason = action::reason("reason", &body.reason)?;
    let act = StaffAction::new(&me, Module::Crm, Level::Admin)?;
    let mut tx = state.pool.begin().await?;
    let changed = found(changes::set_user_active(&mut tx, id, false).await?)?;
    sessions::revoke_all_for_user(&mut *tx, id, "disabled_by_staff").await?;
    let metadata = json!({ "reason": reason, "changed": changed });
    act.audit(&mut *tx, "user.disable", "user", id, metadata)
        .await?;
    tx.commit().await?;
    Ok(Json(detail(&state, id).await?))
}

/// Re-enable a disabled user (`crm: admin`); they sign in again themselves.
#[utoipa::path(post, path = "/v1/admin/crm/users/{user_id}/enable", tag = "admin-crm", security(("staff_bearer" = [])),
    params(("user_id" = Uuid, Path, description = "User id")), request_body = StaffNote,
    responses(
        (status = 200, description = "Enabled", body = UserDetail),
    ))]
async fn enable_user(
    With(state, Require(me, _)): With<Require<CrmAdmin>>,
    Path(id): Path<Uuid>,
    Json(body): Json<StaffNote>,
) -> Result<Json<UserDetail>> {
    let note = action::note("note", body.note.as_deref())?;
    let act = StaffAction::new(&me, Module::Crm, Level::Admin)?;
    let mut tx = state.pool.begin().await?;
    let changed = found(changes::set_user_active(&mut tx, id, true).await?)?;
    let metadata = json!({ "note": note, "changed": changed });
    act.audit(&mut *tx, "user.enable", "user", id, metadata)
        .await?;
    tx.commit().await?;
    Ok(Json(detail(&state, id).await?))
}
