//! Signup, login (with the TOTP step), token refresh and logout.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::store as accounts;
use crate::accounts::types::check_place;
use crate::auth::flows::{Mail, mail_link};
use crate::auth::issue::{self, IpLimited};
use crate::auth::lockout::{self, Attempt, Policy, Table};
use crate::auth::mfa;
use crate::auth::sessions::{self, Origin, Rotation, Subject};
use crate::auth::types::*;
use crate::error::{Error, Problem, Result};
use crate::http::Json;
use crate::identity::jwt::{ISSUER, MFA_AUDIENCE, MfaClaims, now_secs};
use crate::identity::password::check_strength;
use crate::identity::user::AuthUser;
use crate::state::AppState;
use crate::users::store as users;
use crate::users::types::{check_name, parse_email};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login))
        .routes(routes!(login_mfa))
        .routes(routes!(refresh))
        .routes(routes!(logout))
}

/// A customer login attempt for `email` from `origin`.
fn attempt<'a>(email: &'a str, origin: &'a Origin) -> Attempt<'a> {
    let (ip, user_agent) = (origin.ip.as_deref(), origin.user_agent.as_deref());
    Attempt {
        table: Table::Users,
        email,
        ip,
        user_agent,
    }
}

/// Records a failed customer login under the configured policy (`owner`: the real user's
/// address, when there is one); the error to answer.
async fn failed(state: &AppState, attempt: &Attempt<'_>, owner: Option<&str>) -> Result<Error> {
    let policy = Policy {
        threshold: state.config.auth.lockout_threshold,
        lock_secs: state.config.auth.lockout_secs,
        account_threshold: state.config.auth.account_lockout_threshold,
    };
    let base = &state.config.server.public_base_url;
    lockout::record_failure(&state.pool, attempt, policy, owner, base).await
}

/// Create a user with a new organisation they own.
///
/// Creates the user, the organisation, the owner membership and a zero credit balance in one
/// transaction, queues the verification email and signs the user in.
#[utoipa::path(post, path = "/v1/auth/signup", tag = "auth", request_body = SignupRequest,
    responses(
        (status = 201, description = "Signed up", body = SignupResponse),
        (status = 409, description = "Email taken", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ))]
async fn signup(
    State(state): State<AppState>,
    IpLimited(origin): IpLimited,
    Json(req): Json<SignupRequest>,
) -> Result<(StatusCode, Json<SignupResponse>)> {
    let mut errors = Vec::new();
    let email = parse_email("email", &req.email, &mut errors);
    check_name("first_name", &req.first_name, &mut errors);
    check_name("last_name", &req.last_name, &mut errors);
    crate::accounts::types::check_account_name(
        "organisation_name",
        &req.organisation_name,
        &mut errors,
    );
    if let Err(e) = check_strength("password", &req.password, &email) {
        errors.push(e);
    }
    let place = check_place(req.country.as_deref(), req.timezone.as_deref(), &mut errors);
    let ((Some(country), timezone), true) = (place, errors.is_empty()) else {
        return Err(Error::Validation(errors));
    };
    let hash = state.passwords.hash(req.password).await?;
    let user_id = uuid::Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    users::insert(
        &mut *tx,
        user_id,
        &email,
        req.first_name.trim(),
        req.last_name.trim(),
        &hash,
    )
    .await?;
    let account_id = accounts::create_with_owner(
        &mut tx,
        user_id,
        &req.organisation_name,
        &timezone,
        country.as_str(),
    )
    .await?;
    let verification = Mail::Verification(req.first_name.trim());
    mail_link(&mut tx, &state, (user_id, &email), verification).await?;
    let owner = (user_id, account_id, crate::identity::role::Role::Owner);
    let tokens = issue::open_session(&mut tx, &state, owner, &origin).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(SignupResponse {
            user_id,
            account_id,
            tokens,
        }),
    ))
}

/// Log in with email and password.
///
/// Repeated failures from one IP are delayed, and many from several IPs lock the email for a
/// while (423 with Retry-After, alike for unknown addresses). When TOTP is enabled the answer is
/// `mfa_required` with an `mfa_token` for `/v1/auth/login/mfa`.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Tokens, or a request for the TOTP code", body = LoginResponse),
        (status = 401, description = "Invalid credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No organisation or deactivated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a member of account_id", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "Locked out", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ))]
async fn login(
    State(state): State<AppState>,
    IpLimited(origin): IpLimited,
    Json(req): Json<LoginRequest>,
) -> Result<Json<LoginResponse>> {
    let attempt = attempt(&req.email, &origin);
    // Before anything else, and the same for unknown addresses: no oracle.
    lockout::ensure_unlocked(&state.pool, &attempt).await?;
    let Some(user) = users::credentials_by_email(&state.pool, req.email.trim()).await? else {
        state.passwords.verify(req.password, None).await;
        return Err(failed(&state, &attempt, None).await?);
    };
    if !state
        .passwords
        .verify(req.password, user.password_hash.clone())
        .await
    {
        return Err(failed(&state, &attempt, Some(&user.email)).await?);
    }
    if !user.is_active {
        lockout::record_event(&state.pool, &attempt, Some(user.id), Some("deactivated")).await?;
        return Err(Error::Forbidden("this user is deactivated"));
    }
    if user.mfa_enabled {
        let claims = MfaClaims {
            sub: user.id,
            acc: req.account_id,
            exp: now_secs() + 300,
            aud: MFA_AUDIENCE.into(),
            iss: ISSUER.into(),
        };
        let mfa_token = state.customer_keys.sign(&claims)?;
        return Ok(Json(LoginResponse {
            status: LoginStatus::MfaRequired,
            tokens: None,
            mfa_token: Some(mfa_token),
        }));
    }
    lockout::record_success(&state.pool, &attempt, user.id).await?;
    let tokens = issue::start_session(&state, user.id, req.account_id, &origin).await?;
    Ok(Json(LoginResponse {
        status: LoginStatus::Authenticated,
        tokens: Some(tokens),
        mfa_token: None,
    }))
}

/// Complete a login with a TOTP or backup code.
#[utoipa::path(post, path = "/v1/auth/login/mfa", tag = "auth", request_body = MfaLoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 401, description = "Bad token or code", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "Locked out", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ))]
async fn login_mfa(
    State(state): State<AppState>,
    IpLimited(origin): IpLimited,
    Json(req): Json<MfaLoginRequest>,
) -> Result<Json<TokenPair>> {
    let claims: MfaClaims = state.customer_keys.verify(&req.mfa_token, MFA_AUDIENCE)?;
    let user = users::credentials_by_id(&state.pool, claims.sub)
        .await?
        .ok_or(Error::InvalidCredentials)?;
    let attempt = attempt(&user.email, &origin);
    lockout::ensure_unlocked(&state.pool, &attempt).await?;
    if !mfa::check_second_factor(&state, user.id, &req.code).await? {
        return Err(failed(&state, &attempt, Some(&user.email)).await?);
    }
    lockout::record_success(&state.pool, &attempt, user.id).await?;
    Ok(Json(
        issue::start_session(&state, user.id, claims.acc, &origin).await?,
    ))
}

/// Exchange a refresh token for new tokens.
///
/// Each refresh token works once. Presenting a spent one revokes the whole session.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenPair),
        (status = 401, description = "Unknown, spent, expired or revoked", body = Problem, content_type = "application/problem+json"),
    ))]
async fn refresh(
    State(state): State<AppState>,
    Json(req): Json<RefreshRequest>,
) -> Result<Json<TokenPair>> {
    let mut tx = state.pool.begin().await?;
    let outcome = sessions::rotate(
        &mut tx,
        &req.refresh_token,
        false,
        state.config.auth.refresh_token_ttl_secs,
        state.config.auth.session_max_lifetime_secs,
    )
    .await?;
    let (session_id, user_id, account_id, refresh_token) = match outcome {
        Rotation::Rotated {
            session_id,
            subject:
                Subject::User {
                    user_id,
                    account_id,
                },
            refresh_token,
        } => (session_id, user_id, account_id, refresh_token),
        Rotation::Reused => {
            tx.commit().await?;
            return Err(Error::Unauthorized(
                "refresh token already used; the session has been revoked",
            ));
        }
        _ => return Err(Error::Unauthorized("invalid refresh token")),
    };
    let active = users::credentials_by_id(&mut *tx, user_id)
        .await?
        .is_some_and(|u| u.is_active);
    let role = accounts::role_of(&mut *tx, user_id, account_id).await?;
    let Some(role) = role.filter(|_| active) else {
        sessions::revoke(&mut *tx, session_id, "membership_gone").await?;
        tx.commit().await?;
        return Err(Error::Unauthorized(
            "the session's membership no longer exists",
        ));
    };
    tx.commit().await?;
    Ok(Json(issue::pair(
        &state,
        user_id,
        account_id,
        role,
        session_id,
        refresh_token,
    )?))
}

/// Log out: revoke the current session and its refresh tokens.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
    ))]
async fn logout(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode> {
    sessions::revoke(&state.pool, user.session_id, "logout").await?;
    Ok(StatusCode::NO_CONTENT)
}
