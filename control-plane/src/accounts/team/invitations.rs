//! Team invitations: invite by email (admin+), list and revoke pending ones, and accept (the
//! signed-in user whose email the invitation names).

use crate::identity::scope::AccountScope;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::accounts::store as accounts;
use crate::accounts::team::store::{self as store, Invitation};
use crate::email::{Template, outbox};
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Page, Paged, Path};
use crate::identity::role::Role;
use crate::identity::types::TokenRequest;
use crate::identity::user::AuthUser;
use crate::state::AppState;
use crate::users::store as users;
use crate::users::types::parse_email;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitations, invite))
        .routes(routes!(revoke_invitation))
        .routes(routes!(accept))
}

/// Whom to invite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// Email address to invite.
    #[schema(format = Email)]
    pub email: String,
    /// Role on acceptance: `member` or `admin` (only owners may invite admins).
    pub role: Role,
}

/// The membership an accepted invitation created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// The organisation joined.
    pub account_id: Uuid,
    /// The role there.
    pub role: Role,
}

/// Invite someone by email (admin or owner).
#[utoipa::path(post, path = "/v1/account/invitations", tag = "team", security(("bearer" = [])), request_body = InviteRequest,
    responses(
        (status = 201, description = "Invitation sent", body = Invitation),
        (status = 409, description = "Already a member", body = Problem, content_type = "application/problem+json"),
    ))]
async fn invite(
    State(state): State<AppState>,
    user: AuthUser,
    Json(req): Json<InviteRequest>,
) -> Result<(StatusCode, Json<Invitation>)> {
    user.require(Role::Admin)?;
    let mut errors = Vec::new();
    let email = parse_email("email", &req.email, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    match req.role {
        Role::Owner => {
            return Err(Error::field(
                "role",
                "owners are made by promoting a member",
            ));
        }
        Role::Admin => user.require(Role::Owner)?,
        Role::Member => {}
    }
    let mut tx = state.pool.begin().await?;
    if store::is_member_email(&mut *tx, user.scope(), &email).await? {
        return Err(Error::Conflict("this person is already a member"));
    }
    let account = accounts::get(&mut *tx, user.scope())
        .await?
        .ok_or(Error::NotFound)?;
    let (invitation, token) =
        store::invite(&mut *tx, user.scope(), &email, req.role, user.user_id).await?;
    let template = Template::Invitation {
        account_name: &account.name,
        token: &token,
    };
    outbox::enqueue(
        &mut *tx,
        &email,
        &template,
        &state.config.server.public_base_url,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(invitation)))
}

/// Pending invitations (admin or owner).
#[utoipa::path(get, path = "/v1/account/invitations", tag = "team", security(("bearer" = [])), params(Paged),
    responses(
        (status = 200, description = "Pending invitations", body = Page<Invitation>),
    ))]
async fn list_invitations(
    State(state): State<AppState>,
    user: AuthUser,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<Invitation>>> {
    user.require(Role::Admin)?;
    let rows = store::pending(&state.pool, user.scope(), &page).await?;
    Ok(Json(Page::from_rows(rows, page, |i| i.id)))
}

/// Revoke a pending invitation (admin or owner).
#[utoipa::path(delete, path = "/v1/account/invitations/{invitation_id}", tag = "team", security(("bearer" = [])),
    params(("invitation_id" = Uuid, Path, description = "Invitation id")),
    responses(
        (status = 204, description = "Revoked"),
    ))]
async fn revoke_invitation(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    user.require(Role::Admin)?;
    if store::revoke_invitation(&state.pool, user.scope(), id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}

/// Accept an invitation sent to my email address.
#[utoipa::path(post, path = "/v1/invitations/accept", tag = "team", security(("bearer" = [])), request_body = TokenRequest,
    responses(
        (status = 200, description = "Joined; switch to it with /v1/accounts/switch", body = Accepted),
        (status = 400, description = "Malformed body, or unknown/expired/used token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Invitation is for another address", body = Problem, content_type = "application/problem+json"),
    ))]
async fn accept(
    State(state): State<AppState>,
    user: AuthUser,
    Json(req): Json<TokenRequest>,
) -> Result<Json<Accepted>> {
    let mut tx = state.pool.begin().await?;
    let invitation = store::redeemable(&mut tx, &req.token)
        .await?
        .ok_or(Error::InvalidToken)?;
    let me = users::credentials_by_id(&mut *tx, user.user_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !me.email.eq_ignore_ascii_case(&invitation.email) {
        return Err(Error::Forbidden(
            "this invitation was sent to another email address",
        ));
    }
    accounts::add_member(
        &mut *tx,
        user.user_id,
        AccountScope::trusted(invitation.account_id),
        invitation.role,
    )
    .await?;
    store::mark_accepted(&mut *tx, invitation.id).await?;
    // The link reached this mailbox, so the address is verified too.
    users::mark_verified(&mut *tx, user.user_id).await?;
    let role = accounts::role_of(&mut *tx, user.user_id, invitation.account_id)
        .await?
        .ok_or_else(|| Error::internal("membership vanished"))?;
    tx.commit().await?;
    Ok(Json(Accepted {
        account_id: invitation.account_id,
        role,
    }))
}
