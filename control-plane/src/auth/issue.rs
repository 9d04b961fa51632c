//! Issuing tokens: starting a customer session for a membership, signing access tokens, and
//! the request facts (origin, per-IP limit) the auth endpoints share.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::accounts::store as accounts;
use crate::auth::sessions::{self, Origin, Subject};
use crate::auth::types::TokenPair;
use crate::error::{Error, Result};
use crate::http::client_ip::ClientIp;
use crate::identity::jwt::{AccessClaims, CUSTOMER_AUDIENCE, ISSUER, now_secs};
use crate::identity::role::Role;
use crate::state::AppState;

/// The caller's origin, after counting the request against the per-IP auth limit. Put on every
/// unauthenticated auth endpoint (signup, login, reset, magic link).
#[derive(Debug, Clone)]
pub struct IpLimited(pub Origin);

impl FromRequestParts<AppState> for IpLimited {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        state.limits.check_auth(ip)?;
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(IpLimited(Origin {
            user_agent,
            ip: Some(ip.to_string()),
        }))
    }
}

/// Signs a customer access token.
pub fn access_token(
    state: &AppState,
    user_id: Uuid,
    account_id: Uuid,
    role: Role,
    session_id: Uuid,
) -> Result<String> {
    let iat = now_secs();
    state.customer_keys.sign(&AccessClaims {
        sub: user_id,
        acc: account_id,
        role,
        sid: session_id,
        iat,
        exp: iat + state.config.auth.access_token_ttl_secs,
        aud: CUSTOMER_AUDIENCE.into(),
        iss: ISSUER.into(),
    })
}

/// Builds the token pair for a session.
pub fn pair(
    state: &AppState,
    user_id: Uuid,
    account_id: Uuid,
    role: Role,
    session_id: Uuid,
    refresh: String,
) -> Result<TokenPair> {
    Ok(TokenPair {
        access_token: access_token(state, user_id, account_id, role, session_id)?,
        token_type: "Bearer",
        expires_in: state.config.auth.access_token_ttl_secs,
        refresh_token: refresh,
        account_id,
        role,
    })
}

/// Picks the membership (the requested one, or the oldest) and starts a session for it.
pub async fn start_session(
    state: &AppState,
    user_id: Uuid,
    requested: Option<Uuid>,
    origin: &Origin,
) -> Result<TokenPair> {
    let (account_id, role) = match requested {
        Some(account_id) => match accounts::role_of(&state.pool, user_id, account_id).await? {
            Some(role) => (account_id, role),
            None => {
                return Err(Error::field(
                    "account_id",
                    "you are not a member of this organisation",
                ));
            }
        },
        None => accounts::default_membership(&state.pool, user_id)
            .await?
            .ok_or(Error::Forbidden("you are not a member of any organisation"))?,
    };
    let mut conn = state.pool.acquire().await?;
    open_session(&mut conn, state, (user_id, account_id, role), origin).await
}

/// Starts a session of `user_id` acting for `account_id` as `role` on `conn` (the caller's
/// transaction, when it has one) and builds its token pair.
pub async fn open_session(
    conn: &mut PgConnection,
    state: &AppState,
    (user_id, account_id, role): (Uuid, Uuid, Role),
    origin: &Origin,
) -> Result<TokenPair> {
    let subject = Subject::User {
        user_id,
        account_id,
    };
    let ttl = state.config.auth.refresh_token_ttl_secs;
    let (session_id, refresh) = sessions::create(conn, subject, origin, ttl).await?;
    pair(state, user_id, account_id, role, session_id, refresh)
}
