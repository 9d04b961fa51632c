//! Email-link flows: verify email, resend verification, forgot/reset password, magic link.
//! Requests that take an email answer 202 whether or not it is registered, so they cannot be
//! used to discover accounts.

use axum::extract::State;
use axum::http::StatusCode;
use sqlx::PgConnection;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::issue::{self, IpLimited};
use crate::auth::sessions;
use crate::auth::types::{EmailRequest, ResetPasswordRequest, TokenPair, TokenRequest};
use crate::email::{Template, outbox};
use crate::error::{Error, Problem, Result};
use crate::http::Json;
use crate::identity::action_tokens::{self, Purpose};
use crate::identity::password::check_strength;
use crate::identity::user::AuthUser;
use crate::state::AppState;
use crate::users::store as users;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
        .routes(routes!(request_magic_link))
        .routes(routes!(redeem_magic_link))
}

/// An email carrying a single-use link: which link (and, for the verification, the first
/// name it greets).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mail<'a> {
    /// Confirm the email address.
    Verification(&'a str),
    /// Set a new password.
    PasswordReset,
    /// Sign in without a password.
    MagicLink,
}

/// Creates the link's single-use token for the user and queues the email that carries it,
/// on the caller's transaction.
pub(crate) async fn mail_link(
    conn: &mut PgConnection,
    state: &AppState,
    (user_id, email): (Uuid, &str),
    link: Mail<'_>,
) -> Result<()> {
    let purpose = match link {
        Mail::Verification(_) => Purpose::EmailVerification,
        Mail::PasswordReset => Purpose::PasswordReset,
        Mail::MagicLink => Purpose::MagicLink,
    };
    let token = action_tokens::create(&mut *conn, user_id, email, purpose).await?;
    let token = token.as_str();
    let template = match link {
        Mail::Verification(first_name) => Template::Verification { first_name, token },
        Mail::PasswordReset => Template::PasswordReset { token },
        Mail::MagicLink => Template::MagicLink { token },
    };
    let base = &state.config.server.public_base_url;
    outbox::enqueue(&mut *conn, email, &template, base).await
}

/// Confirm an email address with the token from the verification email.
#[utoipa::path(post, path = "/v1/auth/verify-email", tag = "auth", request_body = TokenRequest,
    responses(
        (status = 204, description = "Verified"),
        (status = 400, description = "Malformed body, or unknown/expired/used token", body = Problem, content_type = "application/problem+json"),
    ))]
async fn verify_email(
    State(state): State<AppState>,
    Json(req): Json<TokenRequest>,
) -> Result<StatusCode> {
    let mut tx = state.pool.begin().await?;
    let user_id = action_tokens::redeem(&mut *tx, &req.token, Purpose::EmailVerification).await?;
    users::mark_verified(&mut *tx, user_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send the verification email again.
#[utoipa::path(post, path = "/v1/auth/verify-email/resend", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued (or already verified)"),
    ))]
async fn resend_verification(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode> {
    let profile = users::profile(&state.pool, user.user_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !profile.email_verified {
        let mut tx = state.pool.begin().await?;
        let to = (user.user_id, profile.email.as_str());
        mail_link(&mut tx, &state, to, Mail::Verification(&profile.first_name)).await?;
        tx.commit().await?;
    }
    Ok(StatusCode::ACCEPTED)
}

/// Ask for a password-reset email (valid 1 hour).
#[utoipa::path(post, path = "/v1/auth/password/forgot", tag = "auth", request_body = EmailRequest,
    responses(
        (status = 202, description = "Queued if the email is registered"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ))]
async fn forgot_password(
    State(state): State<AppState>,
    _: IpLimited,
    Json(req): Json<EmailRequest>,
) -> Result<StatusCode> {
    if let Some(user) = users::credentials_by_email(&state.pool, req.email.trim())
        .await?
        .filter(|u| u.is_active)
    {
        let mut tx = state.pool.begin().await?;
        mail_link(&mut tx, &state, (user.id, &user.email), Mail::PasswordReset).await?;
        tx.commit().await?;
    }
    Ok(StatusCode::ACCEPTED)
}

/// Set a new password with a reset token. Signs out every session of the user and spends every
/// other reset and magic link sent to them.
#[utoipa::path(post, path = "/v1/auth/password/reset", tag = "auth", request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password changed"),
        (status = 400, description = "Malformed body, or unknown/expired/used token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Weak password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reset_password(
    State(state): State<AppState>,
    _: IpLimited,
    Json(req): Json<ResetPasswordRequest>,
) -> Result<StatusCode> {
    // Check strength against a placeholder first: the email is only known after redeeming, and
    // a weak password must not burn the token.
    check_strength("new_password", &req.new_password, "")
        .map_err(|e| Error::Validation(vec![e]))?;
    let hash = state.passwords.hash(req.new_password).await?;
    let mut tx = state.pool.begin().await?;
    let user_id = action_tokens::redeem(&mut *tx, &req.token, Purpose::PasswordReset).await?;
    users::set_password(&mut *tx, user_id, &hash).await?;
    // Whoever could read the reset email owns the mailbox, so the address is verified too.
    users::mark_verified(&mut *tx, user_id).await?;
    sessions::revoke_all_for_user(&mut *tx, user_id, "password_reset").await?;
    action_tokens::spend_sign_in_tokens(&mut *tx, user_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask for a sign-in link by email (valid 15 minutes).
#[utoipa::path(post, path = "/v1/auth/magic-link", tag = "auth", request_body = EmailRequest,
    responses(
        (status = 202, description = "Queued if the email is registered"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ))]
async fn request_magic_link(
    State(state): State<AppState>,
    _: IpLimited,
    Json(req): Json<EmailRequest>,
) -> Result<StatusCode> {
    let user = users::credentials_by_email(&state.pool, req.email.trim()).await?;
    // Users with TOTP must use their second factor, which a link cannot carry.
    if let Some(user) = user.filter(|u| u.is_active && !u.mfa_enabled) {
        let mut tx = state.pool.begin().await?;
        mail_link(&mut tx, &state, (user.id, &user.email), Mail::MagicLink).await?;
        tx.commit().await?;
    }
    Ok(StatusCode::ACCEPTED)
}

/// Sign in with the token from a magic link.
#[utoipa::path(post, path = "/v1/auth/magic-link/redeem", tag = "auth", request_body = TokenRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 400, description = "Malformed body, or unknown/expired/used token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Deactivated or no organisation", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ))]
async fn redeem_magic_link(
    State(state): State<AppState>,
    IpLimited(origin): IpLimited,
    Json(req): Json<TokenRequest>,
) -> Result<Json<TokenPair>> {
    let mut tx = state.pool.begin().await?;
    let user_id = action_tokens::redeem(&mut *tx, &req.token, Purpose::MagicLink).await?;
    let user = users::credentials_by_id(&mut *tx, user_id)
        .await?
        .ok_or(Error::InvalidToken)?;
    if !user.is_active {
        return Err(Error::Forbidden("this user is deactivated"));
    }
    users::mark_verified(&mut *tx, user_id).await?;
    crate::auth::lockout::stamp_login(&mut *tx, crate::auth::lockout::Table::Users, user_id)
        .await?;
    tx.commit().await?;
    Ok(Json(
        issue::start_session(&state, user_id, None, &origin).await?,
    ))
}
