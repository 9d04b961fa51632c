//! Staff invitations: an owner invites by email (`staff: owner`); the invitee is inactive
//! until they set a password with the emailed token (valid 72 hours, single use). SQL in
//! [`crate::admin::store`]'s style, kept here with its two routes.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use sqlx::PgExecutor;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::action::StaffAction;
use crate::admin::audit::{self, Entry};
use crate::admin::guard::{Require, StaffOwner};
use crate::admin::permissions::{Level, Module};
use crate::admin::staff::checked_email;
use crate::admin::store;
use crate::admin::types::{CreateStaff, StaffMember};
use crate::crypto;
use crate::email::{Template, outbox};
use crate::error::{Error, Problem, Result};
use crate::http::{Json, with::With};
use crate::identity::password::check_strength;
use crate::state::AppState;

/// How long an invitation token is valid.
const INVITE_TTL_SECS: f64 = 72.0 * 3600.0;

/// Routes of invitations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(invite_staff))
        .routes(routes!(accept_staff_invite))
}

/// Accepting an invitation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptStaffInvite {
    /// The token from the invitation email.
    pub token: String,
    /// The password to set.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

async fn insert_invitation(conn: impl PgExecutor<'_>, staff_id: Uuid) -> Result<String> {
    let token = crypto::random_token();
    sqlx::query(
        "INSERT INTO staff_invitations (id, staff_id, token_hash, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
    )
    .bind(Uuid::now_v7())
    .bind(staff_id)
    .bind(crypto::digest(&token))
    .bind(INVITE_TTL_SECS)
    .execute(conn)
    .await?;
    Ok(token)
}

/// Spends a live invitation; the staff member's id and email.
async fn redeem(conn: impl PgExecutor<'_>, token: &str) -> Result<Option<(Uuid, String)>> {
    Ok(sqlx::query_as(
        "UPDATE staff_invitations i SET used_at = now() FROM admin_staff s
          WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.expires_at > now()
            AND s.id = i.staff_id AND s.removed_at IS NULL
          RETURNING s.id, s.email",
    )
    .bind(crypto::digest(token))
    .fetch_optional(conn)
    .await?)
}

/// Invite a staff member by email (`staff: owner`): inactive, with the given permissions,
/// until they set a password with the emailed link.
#[utoipa::path(post, path = "/v1/admin/staff/invitations", tag = "admin-staff", security(("staff_bearer" = [])), request_body = CreateStaff,
    responses(
        (status = 201, description = "Invited (inactive until accepted)", body = StaffMember),
        (status = 409, description = "Email taken", body = Problem, content_type = "application/problem+json"),
    ))]
async fn invite_staff(
    With(state, Require(me, _)): With<Require<StaffOwner>>,
    Json(req): Json<CreateStaff>,
) -> Result<(StatusCode, Json<StaffMember>)> {
    let email = checked_email(&req)?;
    let act = StaffAction::new(&me, Module::Staff, Level::Owner)?;
    // Nobody knows this password: the account opens only through the invitation.
    let unusable = state.passwords.hash(crypto::random_token()).await?;
    let mut tx = state.pool.begin().await?;
    let id = store::insert(&mut *tx, &email, req.name.trim(), &unusable).await?;
    store::set_active(&mut *tx, id, false).await?;
    store::set_permissions(&mut tx, id, &req.permissions).await?;
    let token = insert_invitation(&mut *tx, id).await?;
    let template = Template::StaffInvitation {
        name: req.name.trim(),
        token: &token,
    };
    let base = &state.config.server.public_base_url;
    outbox::enqueue(&mut *tx, &email, &template, base).await?;
    let metadata = json!({ "email": email, "permissions": req.permissions });
    act.audit(&mut *tx, "staff.invite", "staff", id, metadata)
        .await?;
    let staff = store::get(&mut *tx, id)
        .await?
        .ok_or_else(|| Error::internal("staff vanished"))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(staff)))
}

/// Accept a staff invitation: set the password; the account becomes active.
#[utoipa::path(post, path = "/v1/admin/auth/accept-invite", tag = "admin-staff", request_body = AcceptStaffInvite,
    responses(
        (status = 204, description = "Active; sign in with the new password"),
        (status = 400, description = "Unknown, expired or used token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Weak password", body = Problem, content_type = "application/problem+json"),
    ))]
async fn accept_staff_invite(
    State(state): State<AppState>,
    Json(req): Json<AcceptStaffInvite>,
) -> Result<StatusCode> {
    check_strength("password", &req.password, "").map_err(|e| Error::Validation(vec![e]))?;
    let hash = state.passwords.hash(req.password).await?;
    let mut tx = state.pool.begin().await?;
    let (id, email) = redeem(&mut *tx, &req.token)
        .await?
        .ok_or(Error::InvalidToken)?;
    store::set_password(&mut *tx, id, &hash).await?;
    store::set_active(&mut *tx, id, true).await?;
    let entry = Entry::staff(id, "staff.invite_accepted", None)
        .on("staff", id)
        .with(json!({ "email": email }));
    audit::record(&mut *tx, entry).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
