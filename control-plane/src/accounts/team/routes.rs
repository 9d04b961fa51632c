//! Team members of the current organisation: list (anyone), change role and remove (owner).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::accounts::team::store::{self as store, Member};
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Page, Paged, Path};
use crate::identity::role::Role;
use crate::identity::sessions;
use crate::identity::user::AuthUser;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members))
        .routes(routes!(change_role, remove_member))
}

/// New role for a member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    /// The role to give.
    pub role: Role,
}

/// The last-owner rule, once for a role change and a removal: locks the team, 404 unless
/// `member` is a member, 409 when giving them `role` (`None`: removing them) would leave the
/// organisation no owner.
async fn keeps_an_owner(
    tx: &mut PgConnection,
    user: &AuthUser,
    member: Uuid,
    role: Option<Role>,
) -> Result<()> {
    store::lock_account(&mut *tx, user.scope()).await?;
    let current = crate::accounts::store::role_of(&mut *tx, member, user.account_id)
        .await?
        .ok_or(Error::NotFound)?;
    if current == Role::Owner
        && role != Some(Role::Owner)
        && store::owner_count(&mut *tx, user.scope()).await? <= 1
    {
        return Err(Error::Conflict("an organisation needs at least one owner"));
    }
    Ok(())
}

/// Members of the current organisation.
#[utoipa::path(get, path = "/v1/account/members", tag = "team", security(("bearer" = [])), params(Paged),
    responses(
        (status = 200, description = "Members", body = Page<Member>),
    ))]
async fn list_members(
    State(state): State<AppState>,
    user: AuthUser,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<Member>>> {
    let rows = store::members(&state.pool, user.scope(), &page).await?;
    Ok(Json(Page::from_rows(rows, page, |m| m.id)))
}

/// Change a member's role (owner only). The last owner cannot be demoted.
#[utoipa::path(patch, path = "/v1/account/members/{user_id}", tag = "team", security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The member's user id")), request_body = ChangeRole,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would leave no owner", body = Problem, content_type = "application/problem+json"),
    ))]
async fn change_role(
    State(state): State<AppState>,
    user: AuthUser,
    Path(member): Path<Uuid>,
    Json(req): Json<ChangeRole>,
) -> Result<StatusCode> {
    user.require(Role::Owner)?;
    let mut tx = state.pool.begin().await?;
    keeps_an_owner(&mut tx, &user, member, Some(req.role)).await?;
    store::set_role(&mut *tx, user.scope(), member, req.role).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a member (owner only); their sessions for this organisation end.
#[utoipa::path(delete, path = "/v1/account/members/{user_id}", tag = "team", security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The member's user id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would leave no owner", body = Problem, content_type = "application/problem+json"),
    ))]
async fn remove_member(
    State(state): State<AppState>,
    user: AuthUser,
    Path(member): Path<Uuid>,
) -> Result<StatusCode> {
    user.require(Role::Owner)?;
    let mut tx = state.pool.begin().await?;
    keeps_an_owner(&mut tx, &user, member, None).await?;
    store::remove(&mut *tx, user.scope(), member).await?;
    sessions::revoke_for_membership(&mut *tx, member, user.account_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
