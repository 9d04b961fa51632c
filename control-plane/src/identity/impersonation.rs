//! Staff impersonation as the identity extractors see it: a request carrying an
//! impersonation token (prefix [`PREFIX`]) acts as the organisation it names, read-only. The
//! token is checked, audited and refused for mutations by the CRM's middleware
//! (`crm::impersonation::layer`), which puts an [`Impersonated`] into the request; the
//! extractors only take it from there, so no other path can forge one.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How an impersonation token starts (before its JWT).
pub const PREFIX: &str = "sl_imp_";

/// Audience of impersonation tokens (signed with the customer keys: no customer token has
/// this audience, so neither can stand for the other).
pub const AUDIENCE: &str = "semalink-impersonation";

/// Claims of an impersonation token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImpersonationClaims {
    /// The impersonation id (revocable row).
    pub sub: Uuid,
    /// The staff member impersonating.
    pub stf: Uuid,
    /// The organisation viewed.
    pub acc: Uuid,
    /// Issued at.
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
    /// Audience.
    pub aud: String,
    /// Issuer.
    pub iss: String,
}

/// A checked, live impersonation, as the middleware leaves it in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct Impersonated {
    /// The impersonation id.
    pub id: Uuid,
    /// The staff member.
    pub staff_id: Uuid,
    /// The organisation viewed.
    pub account_id: Uuid,
    /// The organisation's owner whose view is shown (nil when it has none).
    pub user_id: Uuid,
}

/// Whether a bearer token is an impersonation token.
pub fn is_impersonation(token: &str) -> bool {
    token.starts_with(PREFIX)
}
