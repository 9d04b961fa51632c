//! Purging the trash: explicitly (one contact, or all of an account's trash) and
//! periodically for contacts trashed more than [`RETENTION_DAYS`] ago. A purge deletes the row
//! and its memberships; list counts are unaffected (trashed contacts are not counted).

use crate::identity::scope::AccountScope;
use std::time::Duration;

use sqlx::{PgExecutor, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::error::Result;
use crate::worker::{Worker, pause};

/// Days a contact stays in the trash before the periodic purge deletes it.
pub const RETENTION_DAYS: i32 = 90;

/// Rows deleted per statement by the periodic purge, to keep transactions short.
const BATCH: i64 = 5_000;

/// Purges one trashed contact of the account; false when it has none such in the trash.
pub async fn purge_one(conn: impl PgExecutor<'_>, scope: AccountScope, id: Uuid) -> Result<bool> {
    let sql = "DELETE FROM contacts WHERE account_id = $1 AND id = $2 AND deleted_at IS NOT NULL";
    crate::scoped::hit_one(conn, sql, scope, id).await
}

/// Empties the account's trash; returns how many contacts were purged.
pub async fn purge_all(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM contacts WHERE account_id = $1 AND deleted_at IS NOT NULL")
            .bind(scope.id())
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Purges, across all accounts, contacts trashed more than `days` days ago, in batches;
/// returns how many were purged.
pub async fn purge_expired(pool: &PgPool, days: i32) -> Result<u64> {
    let mut total = 0;
    loop {
        let purged = sqlx::query(
            "DELETE FROM contacts WHERE id IN (
                 SELECT id FROM contacts
                  WHERE deleted_at < now() - make_interval(days => $1)
                  ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(days)
        .bind(BATCH)
        .execute(pool)
        .await?
        .rows_affected();
        total += purged;
        if purged < BATCH.unsigned_abs() {
            return Ok(total);
        }
    }
}

/// How often the periodic purge runs.
const PERIOD: Duration = Duration::from_secs(3600);

/// The periodic purge (`trash_purge`): at start, then every hour, until `stop`.
pub fn worker(pool: PgPool, stop: CancellationToken) -> Worker {
    Worker::new("trash_purge", run(pool, PERIOD, stop))
}

/// Background task: purges expired trash every `interval` until `stop` is cancelled.
pub async fn run(pool: PgPool, interval: Duration, stop: CancellationToken) {
    loop {
        match purge_expired(&pool, RETENTION_DAYS).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged expired contacts from the trash"),
            Err(error) => tracing::error!(%error, "trash purge failed"),
        }
        if !pause(interval, &stop).await {
            break;
        }
    }
}
