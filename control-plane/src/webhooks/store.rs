//! SQL of webhook endpoints, scoped by account.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::signing;
use super::types::{Checked, Endpoint, RotatedSecret};
use crate::error::Result;
use crate::http::pagination::PageRequest;
use crate::identity::scope::AccountScope;
use crate::scoped;

const COLUMNS: &str = "id, url, description, event_types, enabled, disabled_reason, \
    max_in_flight, previous_secret_until, failing_since, created_at, updated_at";

/// Inserts an endpoint with the checked fields of a registration (no label: empty; no
/// in-flight limit: 16) and `secret`.
pub async fn insert(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    c: &Checked,
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
        .bind(c.url.as_deref().unwrap_or_default())
        .bind(c.description.as_deref().unwrap_or(""))
        .bind(c.event_types.as_deref().unwrap_or(&[]))
        .bind(c.max_in_flight.unwrap_or(16))
        .bind(secret)
        .fetch_one(conn)
        .await?)
}

/// A page of the account's endpoints, newest first.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    page: &PageRequest,
) -> Result<Vec<Endpoint>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhook_endpoints
         WHERE account_id = $1 AND id < $2 AND kind = 'endpoint'
         ORDER BY id DESC LIMIT $3"
    );
    scoped::page(conn, sql, scope, page, |q| q).await
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
    scoped::one(conn, sql, scope, id).await
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
    let sql = "DELETE FROM webhook_endpoints
               WHERE account_id = $1 AND id = $2 AND kind = 'endpoint'";
    scoped::hit_one(conn, sql, scope, id).await
}

/// Makes a new secret current; the current one signs too until `overlap_until` (none: at
/// once retired). `None` when the account has no such endpoint.
pub async fn rotate(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
    overlap_until: Option<OffsetDateTime>,
) -> Result<Option<RotatedSecret>> {
    let secret = signing::new_secret();
    let rotated: Option<Option<OffsetDateTime>> = sqlx::query_scalar(
        "UPDATE webhook_endpoints SET
             previous_secret = CASE WHEN $4::timestamptz IS NULL THEN NULL ELSE secret END,
             previous_secret_until = $4, secret = $3, updated_at = now()
         WHERE account_id = $1 AND id = $2 RETURNING previous_secret_until",
    )
    .bind(scope.id())
    .bind(id)
    .bind(&secret)
    .bind(overlap_until)
    .fetch_optional(conn)
    .await?;
    Ok(rotated.map(|previous_secret_until| RotatedSecret {
        secret,
        previous_secret_until,
    }))
}
