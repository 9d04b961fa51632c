//! SQL of the engineering module.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::engineering::types::{FailedMessage, Migration};
use crate::error::Result;
use crate::http::pagination::PageRequest;

/// A page of the failed messages, newest first.
pub async fn failed(
    conn: impl PgExecutor<'_>,
    account_id: Option<Uuid>,
    page: &PageRequest,
) -> Result<Vec<FailedMessage>> {
    Ok(sqlx::query_as(
        "SELECT id, account_id, campaign_id, destination, mno_id, error_kind, error_code,
                error_text, upstream, created_at, final_at
           FROM messages
          WHERE status = 'failed' AND ($1::uuid IS NULL OR account_id = $1) AND id < $2
          ORDER BY id DESC LIMIT $3",
    )
    .bind(account_id)
    .bind(page.before_or_max())
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?)
}

/// Applied migrations, oldest first.
pub async fn migrations(conn: impl PgExecutor<'_>) -> Result<Vec<Migration>> {
    Ok(sqlx::query_as(
        "SELECT version, description, installed_on, success, execution_time
           FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(conn)
    .await?)
}

/// Outbox rows waiting (not the leases of messages already on the in-process bus), and how
/// many of them are held by a suspension.
pub async fn outbox(conn: impl PgExecutor<'_>) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE held_reason IS NOT NULL) FROM message_outbox
         WHERE leased_at IS NULL",
    )
    .fetch_one(conn)
    .await?)
}
