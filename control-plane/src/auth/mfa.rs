//! TOTP two-factor authentication: enrol (secret + otpauth URI), confirm with a first code
//! (which enables it and returns backup codes), disable; and the second-factor check used by
//! the login.

use axum::extract::State;
use axum::http::StatusCode;
use data_encoding::BASE32_NOPAD;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::mfa_store as store;
use crate::auth::totp;
use crate::auth::types::{BackupCodes, CodeRequest, DisableMfaRequest, TotpEnrolment};
use crate::crypto;
use crate::error::{Error, Problem, Result};
use crate::http::Json;
use crate::identity::jwt::now_secs;
use crate::identity::user::AuthUser;
use crate::state::AppState;
use crate::users::store as users;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enrol))
        .routes(routes!(confirm))
        .routes(routes!(disable))
}

/// Checks a TOTP code (once per step) or spends a backup code.
pub async fn check_second_factor(state: &AppState, user_id: Uuid, code: &str) -> Result<bool> {
    let Some(totp_state) = store::state(&state.pool, user_id).await? else {
        return Ok(false);
    };
    let Some(secret) = totp_state
        .totp_secret
        .as_deref()
        .and_then(|s| BASE32_NOPAD.decode(s.as_bytes()).ok())
    else {
        return Ok(false);
    };
    let code = code.trim();
    if code.len() == totp::DIGITS_LEN {
        return match totp::matching_step(&secret, code, now_secs(), totp_state.totp_last_step) {
            Some(step) => store::accept_step(&state.pool, user_id, step).await,
            None => Ok(false),
        };
    }
    if totp_state.enabled {
        return store::use_backup_code(&state.pool, user_id, &code.to_ascii_lowercase()).await;
    }
    Ok(false)
}

fn backup_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let hex = hex::encode(crypto::random_bytes::<5>());
            format!("{}-{}", &hex[..5], &hex[5..])
        })
        .collect()
}

/// Start TOTP enrolment.
///
/// Returns a new secret and its `otpauth://` URI; TOTP is enabled only once a code from the
/// app is confirmed.
#[utoipa::path(post, path = "/v1/auth/mfa/totp", tag = "mfa", security(("bearer" = [])),
    responses(
        (status = 200, description = "Secret to add to an authenticator app", body = TotpEnrolment),
        (status = 409, description = "Already enabled", body = Problem, content_type = "application/problem+json"),
    ))]
async fn enrol(State(state): State<AppState>, user: AuthUser) -> Result<Json<TotpEnrolment>> {
    let current = store::state(&state.pool, user.user_id)
        .await?
        .ok_or(Error::NotFound)?;
    if current.enabled {
        return Err(Error::Conflict(
            "two-factor authentication is already enabled",
        ));
    }
    let secret = BASE32_NOPAD.encode(&crypto::random_bytes::<20>());
    store::set_pending_secret(&state.pool, user.user_id, &secret).await?;
    let email = users::credentials_by_id(&state.pool, user.user_id)
        .await?
        .map(|u| u.email)
        .unwrap_or_default();
    let otpauth_uri = totp::otpauth_uri("Sema Link", &email, &secret);
    Ok(Json(TotpEnrolment {
        secret,
        otpauth_uri,
    }))
}

/// Confirm TOTP enrolment with a code; enables it and returns backup codes (shown once).
#[utoipa::path(post, path = "/v1/auth/mfa/totp/confirm", tag = "mfa", security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "Enabled; keep these backup codes", body = BackupCodes),
        (status = 409, description = "Already enabled or not enrolling", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong code", body = Problem, content_type = "application/problem+json"),
    ))]
async fn confirm(
    State(state): State<AppState>,
    user: AuthUser,
    Json(req): Json<CodeRequest>,
) -> Result<Json<BackupCodes>> {
    let current = store::state(&state.pool, user.user_id)
        .await?
        .ok_or(Error::NotFound)?;
    if current.enabled || current.totp_secret.is_none() {
        return Err(Error::Conflict(
            "start enrolment first (POST /v1/auth/mfa/totp)",
        ));
    }
    if req.code.trim().len() != totp::DIGITS_LEN
        || !check_second_factor(&state, user.user_id, &req.code).await?
    {
        return Err(Error::field("code", "is not the current code"));
    }
    let codes = backup_codes();
    let mut tx = state.pool.begin().await?;
    store::enable(&mut tx, user.user_id, &codes).await?;
    tx.commit().await?;
    Ok(Json(BackupCodes {
        backup_codes: codes,
    }))
}

/// Disable TOTP (needs the password and a current or backup code).
#[utoipa::path(post, path = "/v1/auth/mfa/totp/disable", tag = "mfa", security(("bearer" = [])),
    request_body = DisableMfaRequest,
    responses(
        (status = 204, description = "Disabled"),
        (status = 401, description = "Not signed in or wrong password/code", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enabled", body = Problem, content_type = "application/problem+json"),
    ))]
async fn disable(
    State(state): State<AppState>,
    user: AuthUser,
    Json(req): Json<DisableMfaRequest>,
) -> Result<StatusCode> {
    let current = store::state(&state.pool, user.user_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !current.enabled {
        return Err(Error::Conflict("two-factor authentication is not enabled"));
    }
    let creds = users::credentials_by_id(&state.pool, user.user_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !state
        .passwords
        .verify(req.password, creds.password_hash)
        .await
        || !check_second_factor(&state, user.user_id, &req.code).await?
    {
        return Err(Error::InvalidCredentials);
    }
    let mut tx = state.pool.begin().await?;
    store::disable(&mut tx, user.user_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
