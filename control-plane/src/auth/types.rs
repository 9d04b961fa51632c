//! Request and response types of the customer auth endpoints.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use crate::identity::sessions::SessionView;
pub use crate::identity::types::{TokenPair, TokenRequest};

/// Creates a user, their organisation and its owner membership.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// Email address; becomes the login.
    #[schema(format = Email)]
    pub email: String,
    /// Password (10+ characters, three character classes unless 16+).
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    /// Given name.
    #[schema(min_length = 1, max_length = 100)]
    pub first_name: String,
    /// Family name.
    #[schema(min_length = 1, max_length = 100)]
    pub last_name: String,
    /// Name of the organisation to create.
    #[schema(min_length = 1, max_length = 200)]
    pub organisation_name: String,
    /// The organisation's ISO 3166-1 alpha-2 country (default `KE`): the default for national
    /// phone numbers.
    #[serde(default)]
    pub country: Option<String>,
    /// The organisation's IANA time zone; by default the zone of the country's capital.
    #[serde(default)]
    pub timezone: Option<String>,
}

/// Email and password login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
    /// Organisation to act for; default: the oldest membership.
    pub account_id: Option<Uuid>,
}

/// Second login step when TOTP is enabled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaLoginRequest {
    /// The `mfa_token` from the login response (valid 5 minutes).
    pub mfa_token: String,
    /// A 6-digit TOTP code or an unused backup code.
    pub code: String,
}

/// A refresh token to exchange (or revoke).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token; each one works once.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub refresh_token: String,
}

/// Outcome of the password step of a login.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoginStatus {
    /// Tokens issued.
    Authenticated,
    /// Send the TOTP code with `mfa_token` to `/v1/auth/login/mfa`.
    MfaRequired,
}

/// Login response: tokens, or a request for the second factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// What happened.
    pub status: LoginStatus,
    /// Present when authenticated.
    pub tokens: Option<TokenPair>,
    /// Present when a TOTP code is required.
    pub mfa_token: Option<String>,
}

/// Result of signing up.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    /// The new user's id.
    pub user_id: Uuid,
    /// The new organisation's id.
    pub account_id: Uuid,
    /// Tokens for the new session.
    pub tokens: TokenPair,
}

/// An email address (password reset, magic link).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    /// The account's email address.
    #[schema(format = Email)]
    pub email: String,
}

/// Sets a new password with a reset token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// The token from the reset email.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub token: String,
    /// The new password.
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// A TOTP secret to add to an authenticator app.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32 secret, for manual entry.
    pub secret: String,
    /// `otpauth://` URI, for a QR code.
    pub otpauth_uri: String,
}

/// A TOTP code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// 6-digit code from the authenticator app.
    #[schema(pattern = "^[0-9]{6}$")]
    pub code: String,
}

/// One-time backup codes, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackupCodes {
    /// Ten single-use codes.
    pub backup_codes: Vec<String>,
}

/// Turns TOTP off; needs the password and a current code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableMfaRequest {
    /// Current password.
    pub password: String,
    /// A TOTP or backup code.
    pub code: String,
}
