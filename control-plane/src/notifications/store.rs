//! SQL for notifications, scoped by account.

use crate::identity::scope::AccountScope;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::Result;
use crate::notifications::Notice;
use crate::notifications::types::Notification;

/// Inserts a notification; returns its id.
pub async fn insert(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    notice: &Notice<'_>,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO notifications (id, account_id, kind, title, body, data)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(scope.id())
    .bind(notice.kind)
    .bind(notice.title)
    .bind(notice.body)
    .bind(&notice.data)
    .execute(conn)
    .await?;
    Ok(id)
}

/// An account's notifications below `before`, newest first.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    unread_only: bool,
    before: Uuid,
    limit: i64,
) -> Result<Vec<Notification>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, title, body, data, read_at, created_at FROM notifications
         WHERE account_id = $1 AND id < $2 AND (NOT $3 OR read_at IS NULL)
         ORDER BY id DESC LIMIT $4",
    )
    .bind(scope.id())
    .bind(before)
    .bind(unread_only)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Unread notifications of an account.
pub async fn unread_count(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM notifications WHERE account_id = $1 AND read_at IS NULL",
    )
    .bind(scope.id())
    .fetch_one(conn)
    .await?)
}

/// Marks one notification read (idempotent); `None` when the account has no such
/// notification.
pub async fn mark_read(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<Notification>> {
    Ok(sqlx::query_as(
        "UPDATE notifications SET read_at = coalesce(read_at, now())
         WHERE account_id = $1 AND id = $2
         RETURNING id, kind, title, body, data, read_at, created_at",
    )
    .bind(scope.id())
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Marks every unread notification of the account read; returns how many.
pub async fn mark_all_read(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE notifications SET read_at = now() WHERE account_id = $1 AND read_at IS NULL",
    )
    .bind(scope.id())
    .execute(conn)
    .await?
    .rows_affected())
}
