//! SQL of webhook endpoints, scoped by account.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::types::{Checked, Endpoint};
use crate::error::Result;
use crate::identity::scope::AccountScope;

const COLUMNS: &str = "id, url, description, event_types, enabled, disabled_reason, \
    max_in_flight, previous_secret_until, failing_since, created_at, updated_at";

/// Inserts an endpoint with `secret`.
pub async fn insert(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    url: &str,
    description: &str,
    event_types: &[String],
    max_in_flight: i32,
    secret: &str,
) -> Result<Endpoint> {
    let sql = format!(
        "INSERT INTO webhook_endpoints (id, account_id, url, description, event_types,
             max_in_flight, secret)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::now_v7())
        .bind(scope.id())
        .bind(url)
        .bind(description)
        .bind(event_types)
        .bind(max_in_flight)
        .bind(secret)
        .fetch_one(conn)
        .await?)
}

/// The account's endpoints below `before`, newest first.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    before: Uuid,
    limit: i64,
) -> Result<Vec<Endpoint>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhook_endpoints
         WHERE account_id = $1 AND id < $2 AND kind = 'endpoint'
         ORDER BY id DESC LIMIT $3"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(before)
        .bind(limit)
        .fetch_all(conn)
        .await?)
}

/// One endpoint of the account.
pub async fn get(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<Endpoint>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhook_endpoints
         WHERE account_id = $1 AND id = $2 AND kind = 'endpoint'"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Applies the present fields; enabling clears the failure state and the reason.
pub async fn update(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
    change: &Checked,
    enabled: Option<bool>,
) -> Result<Option<Endpoint>> {
    let sql = format!(
        "UPDATE webhook_endpoints SET url = coalesce($3, url),
             description = coalesce($4, description), event_types = coalesce($5, event_types),
             max_in_flight = coalesce($6, max_in_flight), enabled = coalesce($7, enabled),
             disabled_reason = CASE WHEN $7 THEN NULL ELSE disabled_reason END,
             failing_since = CASE WHEN $7 THEN NULL ELSE failing_since END,
             updated_at = now()
         WHERE account_id = $1 AND id = $2 AND kind = 'endpoint' RETURNING {COLUMNS}"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(id)
        .bind(change.url.as_deref())
        .bind(change.description.as_deref())
        .bind(change.event_types.as_deref())
        .bind(change.max_in_flight)
        .bind(enabled)
        .fetch_optional(conn)
        .await?)
}

/// Deletes an endpoint (and its deliveries); false when the account has no such endpoint.
pub async fn delete(conn: impl PgExecutor<'_>, scope: AccountScope, id: Uuid) -> Result<bool> {
    Ok(sqlx::query(
        "DELETE FROM webhook_endpoints WHERE account_id = $1 AND id = $2 AND kind = 'endpoint'",
    )
    .bind(scope.id())
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Makes `secret` current; the current one signs too until `overlap_until` (none: at once
/// retired). `None` when the account has no such endpoint.
pub async fn rotate(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
    secret: &str,
    overlap_until: Option<OffsetDateTime>,
) -> Result<Option<Option<OffsetDateTime>>> {
    Ok(sqlx::query_scalar(
        "UPDATE webhook_endpoints SET
             previous_secret = CASE WHEN $4::timestamptz IS NULL THEN NULL ELSE secret END,
             previous_secret_until = $4, secret = $3, updated_at = now()
         WHERE account_id = $1 AND id = $2 RETURNING previous_secret_until",
    )
    .bind(scope.id())
    .bind(id)
    .bind(secret)
    .bind(overlap_until)
    .fetch_optional(conn)
    .await?)
}
