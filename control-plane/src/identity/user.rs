//! Extractors for authenticated customers: `AuthUser` (a valid access token, counted against
//! the account's rate limit) and `VerifiedUser` (additionally a verified email address — the
//! guard for anything that sends or spends).
//!
//! A signature is not enough: every request also checks, in one indexed query and without a
//! cache, that the token's session is still live (logout, password change and revocation take
//! effect at once) and reads the caller's *current* role, so a demotion applies to the next
//! request and not when the 15-minute token expires.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::error::Error;
use crate::identity::IdentityState;
use crate::identity::impersonation::{Impersonated, is_impersonation};
use crate::identity::jwt::{AccessClaims, CUSTOMER_AUDIENCE};
use crate::identity::role::Role;
use crate::identity::scope::AccountScope;

/// A caller holding a valid customer access token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The user.
    pub user_id: Uuid,
    /// The account the token acts for; every query is scoped by it.
    pub account_id: Uuid,
    /// Role within that account.
    pub role: Role,
    /// The session (refresh-token family).
    pub session_id: Uuid,
}

impl AuthUser {
    /// The organisation the token acts for, as the scope of its queries.
    pub fn scope(&self) -> AccountScope {
        AccountScope::of_credentials(self.account_id)
    }

    /// Fails with 403 unless the caller's role is at least `needed`.
    pub fn require(&self, needed: Role) -> Result<(), Error> {
        if self.role.at_least(needed) {
            Ok(())
        } else {
            Err(Error::Forbidden("your role does not allow this"))
        }
    }
}

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl<S: IdentityState> FromRequestParts<S> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(Error::Unauthorized("missing bearer token"))?;
        if is_impersonation(token) {
            // Checked, audited and held to reads by the impersonation middleware.
            let view = parts
                .extensions
                .get::<Impersonated>()
                .ok_or(Error::Unauthorized("invalid or expired access token"))?;
            state.limits().check_principal(view.account_id)?;
            return Ok(AuthUser {
                user_id: view.user_id,
                account_id: view.account_id,
                role: Role::Owner,
                session_id: view.id,
            });
        }
        let claims: AccessClaims = state.customer_keys().verify(token, CUSTOMER_AUDIENCE)?;
        state.limits().check_principal(claims.acc)?;
        let role: Option<Role> = sqlx::query_scalar(
            "SELECT m.role FROM sessions s
               JOIN users u ON u.id = s.user_id AND u.is_active
               JOIN account_members m ON m.user_id = s.user_id AND m.account_id = $3
                                     AND m.is_active
              WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()",
        )
        .bind(claims.sid)
        .bind(claims.sub)
        .bind(claims.acc)
        .fetch_optional(state.pool())
        .await?;
        let role = role.ok_or(Error::Unauthorized("the session has ended"))?;
        Ok(AuthUser {
            user_id: claims.sub,
            account_id: claims.acc,
            role,
            session_id: claims.sid,
        })
    }
}

/// An `AuthUser` whose email address is verified. Unverified users can read but not send or
/// spend; later modules put this extractor on those endpoints.
#[derive(Debug, Clone)]
pub struct VerifiedUser(pub AuthUser);

impl<S: IdentityState> FromRequestParts<S> for VerifiedUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if parts.extensions.get::<Impersonated>().is_some() {
            return Err(Error::Forbidden("impersonation is read-only"));
        }
        let verified: Option<bool> = sqlx::query_scalar(
            "SELECT email_verified_at IS NOT NULL FROM users WHERE id = $1 AND is_active",
        )
        .bind(user.user_id)
        .fetch_optional(state.pool())
        .await?;
        match verified {
            Some(true) => Ok(VerifiedUser(user)),
            Some(false) => Err(Error::EmailUnverified),
            None => Err(Error::Unauthorized("user no longer active")),
        }
    }
}
