//! SQL of the delivery log and replays, scoped by account.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::types::{Attempt, Delivery, DeliveryQuery};
use crate::error::Result;
use crate::http::pagination::PageRequest;
use crate::identity::scope::AccountScope;
use crate::scoped;

const COLUMNS: &str = "id, endpoint_id, event_type, state, attempts, next_attempt_at, \
    last_status, last_error, delivered_at, created_at";

/// A page of the account's deliveries matching `q`, newest first.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    q: &DeliveryQuery,
    page: &PageRequest,
) -> Result<Vec<Delivery>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhook_deliveries
         WHERE account_id = $1 AND id < $2
           AND ($3::uuid IS NULL OR endpoint_id = $3)
           AND ($4::text IS NULL OR state = $4)
           AND ($5::text IS NULL OR event_type = $5)
         ORDER BY id DESC LIMIT $6"
    );
    let event_type = q.event_type.map(|t| t.as_str());
    scoped::page(conn, sql, scope, page, |rows| {
        rows.bind(q.endpoint_id).bind(q.state).bind(event_type)
    })
    .await
}

/// One delivery of the account and its body.
pub async fn get(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<(Delivery, String)>> {
    #[derive(sqlx::FromRow)]
    struct WithBody {
        #[sqlx(flatten)]
        delivery: Delivery,
        body: String,
    }
    let sql =
        format!("SELECT {COLUMNS}, body FROM webhook_deliveries WHERE account_id = $1 AND id = $2");
    let row: Option<WithBody> = scoped::one(conn, sql, scope, id).await?;
    Ok(row.map(|r| (r.delivery, r.body)))
}

/// A delivery's attempts, oldest first (the last 100).
pub async fn attempts(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    delivery_id: Uuid,
) -> Result<Vec<Attempt>> {
    Ok(sqlx::query_as(
        "SELECT * FROM (SELECT id, attempted_at, status_code, latency_ms, error, response_excerpt
                        FROM webhook_attempts WHERE account_id = $1 AND delivery_id = $2
                        ORDER BY attempted_at DESC, id DESC LIMIT 100) a
         ORDER BY attempted_at, id",
    )
    .bind(scope.id())
    .bind(delivery_id)
    .fetch_all(conn)
    .await?)
}

/// Queues one delivery again now (same id and body, a fresh 24-hour retry window);
/// `None` when the account has no such delivery.
pub async fn replay(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<Delivery>> {
    let sql = format!(
        "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now(),
             window_started_at = now(), locked_until = NULL
         WHERE account_id = $1 AND id = $2 RETURNING {COLUMNS}"
    );
    scoped::one(conn, sql, scope, id).await
}

/// Queues again the endpoint's deliveries of events in `[since, until)` that are not
/// pending (only the failed ones with `only_failed`); how many.
pub async fn replay_range(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    endpoint_id: Uuid,
    since: OffsetDateTime,
    until: OffsetDateTime,
    only_failed: bool,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now(),
             window_started_at = now(), locked_until = NULL
         WHERE account_id = $1 AND endpoint_id = $2 AND created_at >= $3 AND created_at < $4
           AND state <> 'pending' AND (NOT $5 OR state = 'failed')",
    )
    .bind(scope.id())
    .bind(endpoint_id)
    .bind(since)
    .bind(until)
    .bind(only_failed)
    .execute(conn)
    .await?
    .rows_affected())
}
