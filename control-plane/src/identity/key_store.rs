//! The SQL the API-key principal needs: find an active key by its secret, stamp its last use.
//! Creating, listing and revoking keys is the `api_keys` feature's.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::crypto;
use crate::error::Result;

/// An active key found by its secret.
#[derive(Debug, sqlx::FromRow)]
pub struct Authenticated {
    /// Key id.
    pub id: Uuid,
    /// Owning account.
    pub account_id: Uuid,
    /// Granted scopes (stored names).
    pub scopes: Vec<String>,
}

/// Looks up an active key by secret.
pub async fn authenticate(
    conn: impl PgExecutor<'_>,
    secret: &str,
) -> Result<Option<Authenticated>> {
    Ok(sqlx::query_as(
        "SELECT id, account_id, scopes FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(crypto::digest(secret))
    .fetch_optional(conn)
    .await?)
}

/// Stamps the last use.
pub async fn touch(conn: impl PgExecutor<'_>, id: Uuid) -> Result<()> {
    sqlx::query("UPDATE api_keys SET last_used_at = now() WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
