//! Sessions and their refresh tokens (SQL). A session is one refresh-token family: every
//! refresh spends the presented token and issues the next; presenting a spent token again
//! means it was stolen or replayed, so the whole session is revoked.

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::crypto;
use crate::error::Result;
use crate::http::pagination::PageRequest;

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A customer acting for one account.
    User {
        /// The user.
        user_id: Uuid,
        /// The account the session acts for.
        account_id: Uuid,
    },
    /// A staff member.
    Staff {
        /// The staff member.
        staff_id: Uuid,
    },
}

/// Where a login came from, kept for the session list.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The User-Agent header.
    pub user_agent: Option<String>,
    /// The client IP.
    pub ip: Option<String>,
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Rotation {
    /// The token was valid: here is its successor.
    Rotated {
        /// The session.
        session_id: Uuid,
        /// Its owner.
        subject: Subject,
        /// The new refresh token (raw, shown once).
        refresh_token: String,
    },
    /// The token had already been spent: the session is now revoked.
    Reused,
    /// Unknown, expired, or its session is revoked.
    Invalid,
}

/// Starts a session and returns its id and first refresh token.
pub async fn create(
    conn: &mut PgConnection,
    subject: Subject,
    origin: &Origin,
    ttl_secs: i64,
) -> Result<(Uuid, String)> {
    let id = Uuid::now_v7();
    let (user_id, account_id, staff_id) = match subject {
        Subject::User {
            user_id,
            account_id,
        } => (Some(user_id), Some(account_id), None),
        Subject::Staff { staff_id } => (None, None, Some(staff_id)),
    };
    sqlx::query(
        "INSERT INTO sessions (id, user_id, account_id, staff_id, user_agent, ip, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))",
    )
    .bind(id)
    .bind(user_id)
    .bind(account_id)
    .bind(staff_id)
    .bind(
        origin
            .user_agent
            .as_deref()
            .map(|ua| ua.chars().take(300).collect::<String>()),
    )
    .bind(&origin.ip)
    .bind(ttl_secs as f64)
    .execute(&mut *conn)
    .await?;
    let token = insert_refresh(&mut *conn, id, ttl_secs).await?;
    Ok((id, token))
}

async fn insert_refresh(
    conn: impl PgExecutor<'_>,
    session_id: Uuid,
    ttl_secs: i64,
) -> Result<String> {
    let token = crypto::random_token();
    sqlx::query(
        "INSERT INTO refresh_tokens (id, session_id, token_hash, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
    )
    .bind(Uuid::now_v7())
    .bind(session_id)
    .bind(crypto::digest(&token))
    .bind(ttl_secs as f64)
    .execute(conn)
    .await?;
    Ok(token)
}

#[derive(sqlx::FromRow)]
struct Presented {
    id: Uuid,
    session_id: Uuid,
    spent: bool,
    expired: bool,
    revoked: bool,
    user_id: Option<Uuid>,
    account_id: Option<Uuid>,
    staff_id: Option<Uuid>,
}

/// Spends `raw` and issues its successor, or detects reuse. `staff` selects which kind of
/// session the endpoint serves, so a token of the other kind is simply unknown there. The
/// caller must commit the transaction whatever the outcome, so that a reuse revocation sticks.
///
/// Each rotation extends the session by `ttl_secs`, but never past `max_lifetime_secs` after
/// it was created: a stolen refresh token cannot be kept alive forever by refreshing.
pub async fn rotate(
    conn: &mut PgConnection,
    raw: &str,
    staff: bool,
    ttl_secs: i64,
    max_lifetime_secs: i64,
) -> Result<Rotation> {
    let found: Option<Presented> = sqlx::query_as(
        "SELECT rt.id, rt.session_id, rt.used_at IS NOT NULL AS spent, rt.expires_at <= now() AS expired,
                (s.revoked_at IS NOT NULL OR s.expires_at <= now()
                 OR s.created_at + make_interval(secs => $3) <= now()) AS revoked,
                s.user_id, s.account_id, s.staff_id
         FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
         WHERE rt.token_hash = $1 AND (s.staff_id IS NOT NULL) = $2
         FOR UPDATE OF rt, s",
    )
    .bind(crypto::digest(raw))
    .bind(staff)
    .bind(max_lifetime_secs as f64)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(found) = found else {
        return Ok(Rotation::Invalid);
    };
    if found.revoked {
        return Ok(Rotation::Invalid);
    }
    if found.spent {
        revoke(&mut *conn, found.session_id, "refresh_token_reuse").await?;
        tracing::warn!(session_id = %found.session_id, "refresh token reused; session revoked");
        return Ok(Rotation::Reused);
    }
    if found.expired {
        return Ok(Rotation::Invalid);
    }
    let subject = match (found.user_id, found.account_id, found.staff_id) {
        (Some(user_id), Some(account_id), _) => Subject::User {
            user_id,
            account_id,
        },
        (_, _, Some(staff_id)) => Subject::Staff { staff_id },
        _ => return Ok(Rotation::Invalid),
    };
    sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE id = $1")
        .bind(found.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE sessions SET last_used_at = now(),
                expires_at = LEAST(now() + make_interval(secs => $2),
                                   created_at + make_interval(secs => $3))
          WHERE id = $1",
    )
    .bind(found.session_id)
    .bind(ttl_secs as f64)
    .bind(max_lifetime_secs as f64)
    .execute(&mut *conn)
    .await?;
    let refresh_token = insert_refresh(&mut *conn, found.session_id, ttl_secs).await?;
    Ok(Rotation::Rotated {
        session_id: found.session_id,
        subject,
        refresh_token,
    })
}

/// Points a customer session at another account and replaces its refresh token: the old
/// token is spent (so presenting it later counts as reuse).
pub async fn switch_account(
    conn: &mut PgConnection,
    session_id: Uuid,
    account_id: Uuid,
    ttl_secs: i64,
) -> Result<String> {
    sqlx::query("UPDATE sessions SET account_id = $2, last_used_at = now() WHERE id = $1")
        .bind(session_id)
        .bind(account_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE refresh_tokens SET used_at = now() WHERE session_id = $1 AND used_at IS NULL",
    )
    .bind(session_id)
    .execute(&mut *conn)
    .await?;
    insert_refresh(&mut *conn, session_id, ttl_secs).await
}

/// Revokes the live sessions matching `condition` (on `$1` and, when given, `$2`) with `reason`
/// (`$3`); how many. Every revocation below is this one statement.
async fn revoke_where(
    conn: impl PgExecutor<'_>,
    condition: &str,
    a: Uuid,
    b: Option<Uuid>,
    reason: &str,
) -> Result<u64> {
    let sql = format!(
        "UPDATE sessions SET revoked_at = now(), revoke_reason = $3
         WHERE {condition} AND revoked_at IS NULL"
    );
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(a)
        .bind(b)
        .bind(reason)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Revokes one session (idempotent).
pub async fn revoke(conn: impl PgExecutor<'_>, session_id: Uuid, reason: &str) -> Result<()> {
    revoke_where(conn, "id = $1", session_id, None, reason).await?;
    Ok(())
}

/// Revokes every session of a user (password reset, deactivation).
pub async fn revoke_all_for_user(
    conn: impl PgExecutor<'_>,
    user_id: Uuid,
    reason: &str,
) -> Result<()> {
    revoke_where(conn, "user_id = $1", user_id, None, reason).await?;
    Ok(())
}

/// Revokes every session of a user except `keep` (password change).
pub async fn revoke_others_for_user(
    conn: impl PgExecutor<'_>,
    user_id: Uuid,
    keep: Uuid,
    reason: &str,
) -> Result<()> {
    revoke_where(
        conn,
        "user_id = $1 AND id <> $2",
        user_id,
        Some(keep),
        reason,
    )
    .await?;
    Ok(())
}

/// Revokes every session of a staff member except `keep` (password change).
pub async fn revoke_others_for_staff(
    conn: impl PgExecutor<'_>,
    staff_id: Uuid,
    keep: Uuid,
    reason: &str,
) -> Result<()> {
    revoke_where(
        conn,
        "staff_id = $1 AND id <> $2",
        staff_id,
        Some(keep),
        reason,
    )
    .await?;
    Ok(())
}

/// Revokes every session of a user for one account (removed from a team).
pub async fn revoke_for_membership(
    conn: impl PgExecutor<'_>,
    user_id: Uuid,
    account_id: Uuid,
) -> Result<()> {
    let reason = "membership_removed";
    revoke_where(
        conn,
        "user_id = $1 AND account_id = $2",
        user_id,
        Some(account_id),
        reason,
    )
    .await?;
    Ok(())
}

/// Revokes every session of a staff member.
pub async fn revoke_all_for_staff(
    conn: impl PgExecutor<'_>,
    staff_id: Uuid,
    reason: &str,
) -> Result<()> {
    revoke_where(conn, "staff_id = $1", staff_id, None, reason).await?;
    Ok(())
}

/// An active session of the signed-in user.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct SessionView {
    /// Session id.
    pub id: Uuid,
    /// Organisation the session acts for.
    pub account_id: Option<Uuid>,
    /// Browser or client at login.
    pub user_agent: Option<String>,
    /// IP address at login.
    pub ip: Option<String>,
    /// Whether this is the session making the request.
    pub current: bool,
    /// Login time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last token refresh.
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: OffsetDateTime,
    /// Expiry unless refreshed.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A user's active sessions, newest first, paginated by id (the session `current` is marked
/// as such).
pub async fn list_for_user(
    conn: impl PgExecutor<'_>,
    user_id: Uuid,
    current: Uuid,
    page: &PageRequest,
) -> Result<Vec<SessionView>> {
    Ok(sqlx::query_as(
        "SELECT id, account_id, user_agent, ip, id = $4 AS current, created_at, last_used_at,
                expires_at FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() AND id < $2
         ORDER BY id DESC LIMIT $3",
    )
    .bind(user_id)
    .bind(page.before_or_max())
    .bind(page.fetch_limit())
    .bind(current)
    .fetch_all(conn)
    .await?)
}

/// Revokes one of the user's own sessions; false when it is not theirs or already gone.
pub async fn revoke_own(
    conn: impl PgExecutor<'_>,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<bool> {
    let condition = "id = $1 AND user_id = $2";
    let done = revoke_where(
        conn,
        condition,
        session_id,
        Some(user_id),
        "revoked_by_user",
    )
    .await?;
    Ok(done == 1)
}
