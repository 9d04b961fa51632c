//! Staff authentication: login with lock-out, refresh (permissions re-read), logout, the
//! forced first password change, and "me". Every step is written to the audit log.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;
use sqlx::{Postgres, Transaction};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::audit::{self, Entry};
use crate::admin::guard::StaffSession;
use crate::admin::store::{self, StaffCredentials};
use crate::admin::types::*;
use crate::auth::issue::IpLimited;
use crate::auth::lockout::{self, Attempt, Policy, Table};
use crate::auth::sessions::{self, Rotation, Subject};
use crate::auth::types::RefreshRequest;
use crate::error::{Error, Problem, Result};
use crate::http::{Json, reply::found, with::With};
use crate::identity::jwt::{ISSUER, STAFF_AUDIENCE, now_secs};
use crate::identity::password::check_strength;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(staff_login))
        .routes(routes!(staff_refresh))
        .routes(routes!(staff_logout))
        .routes(routes!(staff_change_password))
        .routes(routes!(staff_me))
}

/// Reads the staff member's current permissions on `tx`, commits it and signs the tokens of
/// session `session_id` (login and refresh).
async fn issue(
    state: &AppState,
    mut tx: Transaction<'_, Postgres>,
    staff: &StaffCredentials,
    session_id: Uuid,
    refresh: String,
) -> Result<Json<StaffTokens>> {
    let perms = store::permissions(&mut *tx, staff.id).await?;
    tx.commit().await?;
    let (iat, pwc) = (now_secs(), staff.must_change_password);
    let ttl = state.config.admin.access_token_ttl_secs;
    let claims = StaffClaims {
        sub: staff.id,
        sid: session_id,
        perms: perms.clone(),
        pwc,
        iat,
        exp: iat + ttl,
        aud: STAFF_AUDIENCE.into(),
        iss: ISSUER.into(),
    };
    Ok(Json(StaffTokens {
        access_token: state.staff_keys.sign(&claims)?,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: refresh,
        must_change_password: pwc,
        permissions: perms,
    }))
}

/// Staff login. Locks out after repeated failures.
#[utoipa::path(post, path = "/v1/admin/auth/login", tag = "admin-staff", request_body = StaffLogin,
    responses(
        (status = 200, description = "Signed in", body = StaffTokens),
        (status = 401, description = "Invalid credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Deactivated", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "Locked out", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ))]
async fn staff_login(
    With(state, IpLimited(origin)): With<IpLimited>,
    Json(req): Json<StaffLogin>,
) -> Result<Json<StaffTokens>> {
    let policy = Policy {
        threshold: state.config.admin.lockout_threshold,
        lock_secs: state.config.admin.lockout_secs,
        account_threshold: state.config.admin.account_lockout_threshold,
    };
    let base = &state.config.server.public_base_url;
    let ip = origin.ip.as_deref();
    let attempt = Attempt {
        table: Table::Staff,
        email: &req.email,
        ip,
        user_agent: origin.user_agent.as_deref(),
    };
    lockout::ensure_unlocked(&state.pool, &attempt).await?;
    let Some(staff) = store::credentials_by_email(&state.pool, req.email.trim()).await? else {
        state.passwords.verify(req.password, None).await;
        return Err(lockout::record_failure(&state.pool, &attempt, policy, None, base).await?);
    };
    if !state
        .passwords
        .verify(req.password, Some(staff.password_hash.clone()))
        .await
    {
        let answer =
            lockout::record_failure(&state.pool, &attempt, policy, Some(&req.email), base).await?;
        let action = if matches!(answer, Error::Locked { .. }) {
            "auth.locked_out"
        } else {
            "auth.login_failed"
        };
        audit::record(&state.pool, Entry::staff(staff.id, action, ip)).await?;
        return Err(answer);
    }
    if !staff.is_active {
        lockout::record_event(&state.pool, &attempt, Some(staff.id), Some("deactivated")).await?;
        return Err(Error::Forbidden("this staff account is deactivated"));
    }
    lockout::record_success(&state.pool, &attempt, staff.id).await?;
    let mut tx = state.pool.begin().await?;
    let subject = Subject::Staff { staff_id: staff.id };
    let ttl = state.config.admin.refresh_token_ttl_secs;
    let (session_id, refresh) = sessions::create(&mut tx, subject, &origin, ttl).await?;
    let entry = Entry::staff(staff.id, "auth.login", ip)
        .on("session", session_id)
        .with(json!({ "user_agent": origin.user_agent }));
    audit::record(&mut *tx, entry).await?;
    issue(&state, tx, &staff, session_id, refresh).await
}

/// Exchange a staff refresh token (single use; reuse revokes the session).
#[utoipa::path(post, path = "/v1/admin/auth/refresh", tag = "admin-staff", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens with current permissions", body = StaffTokens),
        (status = 401, description = "Unknown, spent, expired or revoked", body = Problem, content_type = "application/problem+json"),
    ))]
async fn staff_refresh(
    State(state): State<AppState>,
    Json(req): Json<RefreshRequest>,
) -> Result<Json<StaffTokens>> {
    let mut tx = state.pool.begin().await?;
    let outcome = sessions::rotate(
        &mut tx,
        &req.refresh_token,
        true,
        state.config.admin.refresh_token_ttl_secs,
        state.config.admin.session_max_lifetime_secs,
    )
    .await?;
    let (session_id, staff_id, refresh) = match outcome {
        Rotation::Rotated {
            session_id,
            subject: Subject::Staff { staff_id },
            refresh_token,
        } => (session_id, staff_id, refresh_token),
        Rotation::Reused => {
            tx.commit().await?;
            return Err(Error::Unauthorized(
                "refresh token already used; the session has been revoked",
            ));
        }
        _ => return Err(Error::Unauthorized("invalid refresh token")),
    };
    let staff = store::credentials_by_id(&mut *tx, staff_id)
        .await?
        .filter(|s| s.is_active);
    let Some(staff) = staff else {
        sessions::revoke(&mut *tx, session_id, "staff_deactivated").await?;
        tx.commit().await?;
        return Err(Error::Unauthorized("this staff account is deactivated"));
    };
    issue(&state, tx, &staff, session_id, refresh).await
}

/// Staff logout: revokes the session.
#[utoipa::path(post, path = "/v1/admin/auth/logout", tag = "admin-staff", security(("staff_bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
    ))]
async fn staff_logout(With(state, session): With<StaffSession>) -> Result<StatusCode> {
    let mut tx = state.pool.begin().await?;
    sessions::revoke(&mut *tx, session.session_id, "logout").await?;
    let entry = Entry::staff(session.staff_id, "auth.logout", Some(&session.ip));
    let entry = entry.on("session", session.session_id);
    audit::record(&mut *tx, entry).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change my staff password (required after the first login). Other sessions are revoked;
/// refresh to get a token without the forced-change flag.
#[utoipa::path(post, path = "/v1/admin/auth/password", tag = "admin-staff", security(("staff_bearer" = [])), request_body = StaffPasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "Not signed in or wrong current password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Weak or unchanged password", body = Problem, content_type = "application/problem+json"),
    ))]
async fn staff_change_password(
    With(state, session): With<StaffSession>,
    Json(req): Json<StaffPasswordChange>,
) -> Result<StatusCode> {
    let staff = store::get(&state.pool, session.staff_id)
        .await?
        .ok_or(Error::Unauthorized("unknown staff member"))?;
    check_strength("new_password", &req.new_password, &staff.email)
        .map_err(|e| Error::Validation(vec![e]))?;
    if req.new_password == req.current_password {
        return Err(Error::field(
            "new_password",
            "must differ from the current password",
        ));
    }
    let creds = found(store::credentials_by_id(&state.pool, session.staff_id).await?)?;
    if !state
        .passwords
        .verify(req.current_password, Some(creds.password_hash))
        .await
    {
        return Err(Error::InvalidCredentials);
    }
    let hash = state.passwords.hash(req.new_password).await?;
    let mut tx = state.pool.begin().await?;
    store::set_password(&mut *tx, session.staff_id, &hash).await?;
    sessions::revoke_others_for_staff(
        &mut *tx,
        session.staff_id,
        session.session_id,
        "password_changed",
    )
    .await?;
    let entry = Entry::staff(session.staff_id, "auth.password_changed", Some(&session.ip));
    let entry = entry.on("staff", session.staff_id);
    audit::record(&mut *tx, entry).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in staff member.
#[utoipa::path(get, path = "/v1/admin/me", tag = "admin-staff", security(("staff_bearer" = [])),
    responses(
        (status = 200, description = "Me", body = StaffMember),
    ))]
async fn staff_me(With(state, session): With<StaffSession>) -> Result<Json<StaffMember>> {
    Ok(Json(
        store::get(&state.pool, session.staff_id)
            .await?
            .ok_or(Error::Unauthorized("unknown staff member"))?,
    ))
}
