//! The credential types other features hand around: the token pair a login, a switch or an
//! accepted invitation answers with, and the single-use token of an email link.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::identity::role::Role;

/// Access and refresh tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Access token lifetime in seconds.
    pub expires_in: i64,
    /// Single-use refresh token.
    pub refresh_token: String,
    /// Organisation the tokens act for.
    pub account_id: Uuid,
    /// Role there.
    pub role: Role,
}

/// A single-use token from an email link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token from the link.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub token: String,
}
