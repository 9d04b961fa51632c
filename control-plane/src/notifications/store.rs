//! SQL for notifications, scoped by account.

use crate::identity::scope::AccountScope;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::Result;
use crate::http::pagination::PageRequest;
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

/// A page of an account's notifications, newest first.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    unread_only: bool,
    page: &PageRequest,
) -> Result<Vec<Notification>> {
    let sql = "SELECT id, kind, title, body, data, read_at, created_at FROM notifications
               WHERE account_id = $1 AND id < $2 AND (NOT $3 OR read_at IS NULL)
               ORDER BY id DESC LIMIT $4";
    crate::scoped::page(conn, sql.into(), scope, page, |q| q.bind(unread_only)).await
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
    let sql = "UPDATE notifications SET read_at = coalesce(read_at, now())
               WHERE account_id = $1 AND id = $2
               RETURNING id, kind, title, body, data, read_at, created_at";
    crate::scoped::one(conn, sql.into(), scope, id).await
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
