//! SQL for API keys, scoped by account; keys are found by the SHA-256 of the secret.

use crate::identity::scope::AccountScope;
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::api_keys::types::{ApiKey, Scope};
use crate::crypto;
use crate::error::Result;
use crate::http::pagination::PageRequest;

const COLUMNS: &str = "id, name, prefix, scopes, last_used_at, revoked_at, created_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    name: String,
    prefix: String,
    scopes: Vec<String>,
    last_used_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
}

impl From<Row> for ApiKey {
    fn from(r: Row) -> ApiKey {
        ApiKey {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            scopes: r.scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
            created_at: r.created_at,
        }
    }
}

/// Stores a key by its secret's digest.
pub async fn insert(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    name: &str,
    prefix: &str,
    secret: &str,
    scopes: &[Scope],
    created_by: Uuid,
) -> Result<ApiKey> {
    let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    let sql = format!(
        "INSERT INTO api_keys (id, account_id, name, prefix, key_hash, scopes, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    );
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::now_v7())
        .bind(scope.id())
        .bind(name)
        .bind(prefix)
        .bind(crypto::digest(secret))
        .bind(&scopes)
        .bind(created_by)
        .fetch_one(conn)
        .await?;
    Ok(row.into())
}

/// An account's keys (including revoked ones), newest first.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    page: &PageRequest,
) -> Result<Vec<ApiKey>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_keys WHERE account_id = $1 AND id < $2
         ORDER BY id DESC LIMIT $3"
    );
    let rows: Vec<Row> = crate::scoped::page(conn, sql, scope, page, |q| q).await?;
    Ok(rows.into_iter().map(ApiKey::from).collect())
}

/// One key of an account.
pub async fn get(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<ApiKey>> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE account_id = $1 AND id = $2");
    let row: Option<Row> = crate::scoped::one(conn, sql, scope, id).await?;
    Ok(row.map(ApiKey::from))
}

/// Revokes a key; false when the account has no such active key.
pub async fn revoke(conn: impl PgExecutor<'_>, scope: AccountScope, id: Uuid) -> Result<bool> {
    let sql = "UPDATE api_keys SET revoked_at = now()
               WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL";
    crate::scoped::hit_one(conn, sql, scope, id).await
}
