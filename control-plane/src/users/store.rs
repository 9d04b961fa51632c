//! SQL for users. Every function takes an executor so the caller owns the transaction.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::{Result, conflict_on_unique};
use crate::users::types::Profile;

/// What a login needs to know about a user.
#[derive(Debug, sqlx::FromRow)]
pub struct Credentials {
    /// User id.
    pub id: Uuid,
    /// Email as stored.
    pub email: String,
    /// Password hash, if the user has a password.
    pub password_hash: Option<String>,
    /// Deactivated users cannot log in.
    pub is_active: bool,
    /// Seconds left on a lock-out, if locked.
    pub locked_secs_left: Option<i64>,
    /// Whether TOTP is on.
    pub mfa_enabled: bool,
}

/// Inserts a user; 409 when the email is taken.
pub async fn insert(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    email: &str,
    first_name: &str,
    last_name: &str,
    password_hash: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, email, first_name, last_name, password_hash) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(email)
    .bind(first_name)
    .bind(last_name)
    .bind(password_hash)
    .execute(conn)
    .await
    .map_err(|e| conflict_on_unique(e, "an account with this email already exists"))?;
    Ok(())
}

/// [`Credentials`] of the users rows matching `condition` (on `$1`).
fn credentials(condition: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!(
        "SELECT id, email, password_hash, is_active,
            CEIL(EXTRACT(EPOCH FROM (locked_until - now())))::bigint AS locked_secs_left,
            totp_enabled_at IS NOT NULL AS mfa_enabled
        FROM users WHERE {condition}"
    ))
}

/// Login data by email (case-insensitive).
pub async fn credentials_by_email(
    conn: impl PgExecutor<'_>,
    email: &str,
) -> Result<Option<Credentials>> {
    let sql = credentials("lower(email) = lower($1)");
    Ok(sqlx::query_as(sql).bind(email).fetch_optional(conn).await?)
}

/// Login data by id.
pub async fn credentials_by_id(conn: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Credentials>> {
    let sql = credentials("id = $1");
    Ok(sqlx::query_as(sql).bind(id).fetch_optional(conn).await?)
}

/// The profile of a user.
pub async fn profile(conn: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Profile>> {
    Ok(sqlx::query_as(
        "SELECT id, email, first_name, last_name, phone, email_verified_at IS NOT NULL AS email_verified,
                totp_enabled_at IS NOT NULL AS mfa_enabled, last_login_at, created_at
         FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Applies profile changes (`None` keeps a field; an empty phone clears it).
pub async fn update_profile(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    first_name: Option<&str>,
    last_name: Option<&str>,
    phone: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET first_name = COALESCE($2, first_name), last_name = COALESCE($3, last_name),
            phone = CASE WHEN $4::text IS NULL THEN phone ELSE NULLIF($4, '') END, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(first_name)
    .bind(last_name)
    .bind(phone)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces the password hash.
pub async fn set_password(conn: impl PgExecutor<'_>, id: Uuid, hash: &str) -> Result<()> {
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the email verified (first time only).
pub async fn mark_verified(conn: impl PgExecutor<'_>, id: Uuid) -> Result<()> {
    sqlx::query("UPDATE users SET email_verified_at = COALESCE(email_verified_at, now()), updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
