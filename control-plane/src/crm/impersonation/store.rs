//! SQL of impersonations.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::admin::permissions::{Level, Module};
use crate::error::Result;
use crate::identity::impersonation::Impersonated;

/// Starts one; returns its id and expiry.
pub async fn insert(
    conn: impl PgExecutor<'_>,
    staff_id: Uuid,
    account_id: Uuid,
    reason: &str,
    ttl_secs: i64,
) -> Result<(Uuid, OffsetDateTime)> {
    let id = Uuid::now_v7();
    let expires_at = sqlx::query_scalar(
        "INSERT INTO impersonations (id, staff_id, account_id, reason, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING expires_at",
    )
    .bind(id)
    .bind(staff_id)
    .bind(account_id)
    .bind(reason)
    .bind(ttl_secs as f64)
    .fetch_one(conn)
    .await?;
    Ok((id, expires_at))
}

/// The impersonation if it is live: not revoked or expired, its staff member active and
/// still at `crm: admin`, the organisation not deleted.
pub async fn live(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    staff_id: Uuid,
    account_id: Uuid,
) -> Result<Option<Impersonated>> {
    let user_id: Option<Option<Uuid>> = sqlx::query_scalar(
        "SELECT (SELECT m.user_id FROM account_members m
                  WHERE m.account_id = i.account_id AND m.is_active AND m.role = 'owner'
                  ORDER BY m.id LIMIT 1)
           FROM impersonations i
           JOIN admin_staff s ON s.id = i.staff_id AND s.is_active AND s.removed_at IS NULL
           JOIN staff_permissions p ON p.staff_id = s.id AND p.module = $4 AND p.level >= $5
           JOIN accounts a ON a.id = i.account_id AND a.deleted_at IS NULL
          WHERE i.id = $1 AND i.staff_id = $2 AND i.account_id = $3
            AND i.revoked_at IS NULL AND i.expires_at > now()",
    )
    .bind(id)
    .bind(staff_id)
    .bind(account_id)
    .bind(Module::Crm)
    .bind(Level::Admin)
    .fetch_optional(conn)
    .await?;
    Ok(user_id.map(|owner| Impersonated {
        id,
        staff_id,
        account_id,
        user_id: owner.unwrap_or(Uuid::nil()),
    }))
}

/// Revokes it; `None` when unknown, else (staff id, account id, whether it was live).
pub async fn revoke(conn: impl PgExecutor<'_>, id: Uuid) -> Result<Option<(Uuid, Uuid, bool)>> {
    Ok(sqlx::query_as(
        "UPDATE impersonations SET revoked_at = coalesce(revoked_at, now())
          WHERE id = $1
          RETURNING staff_id, account_id,
                    (revoked_at = now() AND expires_at > now()) AS was_live",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Revokes every impersonation of a staff member (removal).
pub async fn revoke_all_of(conn: impl PgExecutor<'_>, staff_id: Uuid) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE impersonations SET revoked_at = now() WHERE staff_id = $1 AND revoked_at IS NULL",
    )
    .bind(staff_id)
    .execute(conn)
    .await?
    .rows_affected())
}
