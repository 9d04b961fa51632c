//! Who is asking: the request extractors ([`user::AuthUser`], [`user::VerifiedUser`],
//! [`principal::Principal`] for a user or an API key), the roles, the access-token format
//! ([`jwt`]), the API-key `last_used_at` throttle and the tenant wall every customer query
//! takes ([`scope::AccountScope`]).
//!
//! It is a leaf: it knows no feature and not the application state, only [`IdentityState`],
//! which the state implements. Features take their caller from here;
//! this module depends on no feature's routes.

pub mod action_tokens;
pub mod agent;
pub mod impersonation;
pub mod jwt;
pub mod key_scope;
pub mod key_store;
pub mod password;
pub mod principal;
pub mod role;
pub mod scope;
pub mod sessions;
pub mod touch;
pub mod types;
pub mod user;

use sqlx::PgPool;

use crate::identity::jwt::TokenKeys;
use crate::identity::touch::LastUsed;
use crate::rate_limit::RateLimits;

/// What the identity extractors need from the application state.
pub trait IdentityState: Send + Sync {
    /// Keys of customer access tokens.
    fn customer_keys(&self) -> &TokenKeys;
    /// The request pool (API-key lookup, the verified-email check).
    fn pool(&self) -> &PgPool;
    /// The per-account and per-key rate limits every authenticated request counts against.
    fn limits(&self) -> &RateLimits;
    /// The throttle of API-key `last_used_at` writes.
    fn last_used(&self) -> &LastUsed;
}
