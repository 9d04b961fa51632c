//! Single-use action tokens (SQL): email verification (24 h), password reset (1 h) and magic
//! link (15 min). Stored as SHA-256 digests; redeeming one marks it used in the same statement,
//! so it can be redeemed once only.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::crypto;
use crate::error::{Error, Result};

/// What a token is for; the variants match the `token_type` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "token_type", rename_all = "snake_case")]
pub enum Purpose {
    /// Confirms an email address.
    EmailVerification,
    /// Sets a new password.
    PasswordReset,
    /// Signs in without a password.
    MagicLink,
}

impl Purpose {
    /// How long a token of this purpose stays valid.
    pub fn ttl_secs(self) -> i64 {
        match self {
            Purpose::EmailVerification => 24 * 3600,
            Purpose::PasswordReset => 3600,
            Purpose::MagicLink => 15 * 60,
        }
    }
}

/// Creates a token for `user_id` and returns the raw value (to be emailed).
pub async fn create(
    conn: impl PgExecutor<'_>,
    user_id: Uuid,
    email: &str,
    purpose: Purpose,
) -> Result<String> {
    let token = crypto::random_token();
    sqlx::query(
        "INSERT INTO auth_tokens (id, user_id, email, token_hash, type, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))",
    )
    .bind(Uuid::now_v7())
    .bind(user_id)
    .bind(email)
    .bind(crypto::digest(&token))
    .bind(purpose)
    .bind(purpose.ttl_secs() as f64)
    .execute(conn)
    .await?;
    Ok(token)
}

/// Redeems a token: marks it used and returns its user, or [`Error::InvalidToken`] when it is
/// unknown, of another purpose, expired or already used.
pub async fn redeem(conn: impl PgExecutor<'_>, raw: &str, purpose: Purpose) -> Result<Uuid> {
    sqlx::query_scalar(
        "UPDATE auth_tokens SET used_at = now()
         WHERE token_hash = $1 AND type = $2 AND used_at IS NULL AND expires_at > now()
         RETURNING user_id",
    )
    .bind(crypto::digest(raw))
    .bind(purpose)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::InvalidToken)
}

/// Spends every outstanding password-reset and magic-link token of `user_id`: after the
/// password changed (by reset or by the user), a link mailed earlier must not change it again
/// or sign in. Verification links stay valid: they prove the mailbox, not the password.
pub async fn spend_sign_in_tokens(conn: impl PgExecutor<'_>, user_id: Uuid) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE auth_tokens SET used_at = now()
         WHERE user_id = $1 AND used_at IS NULL AND type IN ('password_reset', 'magic_link')",
    )
    .bind(user_id)
    .execute(conn)
    .await?
    .rows_affected())
}
