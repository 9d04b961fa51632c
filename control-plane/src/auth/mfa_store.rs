//! SQL for TOTP: the pending/enabled secret, the last used step (replay guard) and backup codes.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::crypto;
use crate::error::Result;

/// A user's TOTP state.
#[derive(Debug, sqlx::FromRow)]
pub struct TotpState {
    /// Base32 secret, if enrolment started.
    pub totp_secret: Option<String>,
    /// Whether TOTP is enabled.
    pub enabled: bool,
    /// Last accepted step.
    pub totp_last_step: Option<i64>,
}

/// Reads the TOTP state.
pub async fn state(conn: impl PgExecutor<'_>, user_id: Uuid) -> Result<Option<TotpState>> {
    Ok(sqlx::query_as(
        "SELECT totp_secret, totp_enabled_at IS NOT NULL AS enabled, totp_last_step FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?)
}

/// Stores a new pending secret (enrolment restarts replace it).
pub async fn set_pending_secret(
    conn: impl PgExecutor<'_>,
    user_id: Uuid,
    secret: &str,
) -> Result<()> {
    sqlx::query("UPDATE users SET totp_secret = $2, totp_enabled_at = NULL, totp_last_step = NULL WHERE id = $1")
        .bind(user_id)
        .bind(secret)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records an accepted step; false when a concurrent request already used it (replay).
pub async fn accept_step(conn: impl PgExecutor<'_>, user_id: Uuid, step: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
    )
    .bind(user_id)
    .bind(step)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Enables TOTP and replaces the backup codes.
pub async fn enable(conn: &mut PgConnection, user_id: Uuid, backup_codes: &[String]) -> Result<()> {
    sqlx::query("UPDATE users SET totp_enabled_at = now() WHERE id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM mfa_backup_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for code in backup_codes {
        sqlx::query("INSERT INTO mfa_backup_codes (id, user_id, code_hash) VALUES ($1, $2, $3)")
            .bind(Uuid::now_v7())
            .bind(user_id)
            .bind(crypto::digest(code))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Turns TOTP off and deletes the backup codes.
pub async fn disable(conn: &mut PgConnection, user_id: Uuid) -> Result<()> {
    sqlx::query("UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL WHERE id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM mfa_backup_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Spends a backup code; false when it is unknown or used.
pub async fn use_backup_code(conn: impl PgExecutor<'_>, user_id: Uuid, code: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE mfa_backup_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(crypto::digest(code))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
