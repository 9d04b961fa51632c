//! SQL of staff notifications, always for one staff member (the caller) except the fan-out.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::admin::notices::Audience;
use crate::admin::notices::types::StaffNotification;
use crate::error::Result;
use crate::http::pagination::PageRequest;
use crate::notifications::Notice;

/// One row per active staff member of `audience` (ids made here, time-ordered); returns how
/// many.
pub async fn insert_for(
    conn: &mut PgConnection,
    audience: Audience,
    notice: &Notice<'_>,
) -> Result<u64> {
    let staff: Vec<Uuid> = sqlx::query_scalar(
        "SELECT s.id FROM admin_staff s JOIN staff_permissions p ON p.staff_id = s.id
          WHERE s.is_active AND s.removed_at IS NULL AND p.module = $1 AND p.level >= $2
          ORDER BY s.id",
    )
    .bind(audience.module)
    .bind(audience.level)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<Uuid> = staff.iter().map(|_| Uuid::now_v7()).collect();
    Ok(sqlx::query(
        "INSERT INTO staff_notifications (id, staff_id, kind, title, body, data)
         SELECT i, s, $3, $4, $5, $6 FROM unnest($1::uuid[], $2::uuid[]) AS t(i, s)",
    )
    .bind(&ids)
    .bind(&staff)
    .bind(notice.kind)
    .bind(notice.title)
    .bind(notice.body)
    .bind(&notice.data)
    .execute(conn)
    .await?
    .rows_affected())
}

/// A page of the staff member's notifications, newest first.
pub async fn list(
    conn: impl PgExecutor<'_>,
    staff_id: Uuid,
    unread_only: bool,
    page: &PageRequest,
) -> Result<Vec<StaffNotification>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, title, body, data, read_at, created_at FROM staff_notifications
          WHERE staff_id = $1 AND id < $2 AND (NOT $3 OR read_at IS NULL)
          ORDER BY id DESC LIMIT $4",
    )
    .bind(staff_id)
    .bind(page.before_or_max())
    .bind(unread_only)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?)
}

/// Unread notifications of the staff member.
pub async fn unread_count(conn: impl PgExecutor<'_>, staff_id: Uuid) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM staff_notifications WHERE staff_id = $1 AND read_at IS NULL",
    )
    .bind(staff_id)
    .fetch_one(conn)
    .await?)
}

/// Marks one read (idempotent); `None` when it is not the staff member's.
pub async fn mark_read(
    conn: impl PgExecutor<'_>,
    staff_id: Uuid,
    id: Uuid,
) -> Result<Option<StaffNotification>> {
    Ok(sqlx::query_as(
        "UPDATE staff_notifications SET read_at = coalesce(read_at, now())
          WHERE staff_id = $1 AND id = $2
          RETURNING id, kind, title, body, data, read_at, created_at",
    )
    .bind(staff_id)
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Marks every unread one read; returns how many.
pub async fn mark_all_read(conn: impl PgExecutor<'_>, staff_id: Uuid) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE staff_notifications SET read_at = now() WHERE staff_id = $1 AND read_at IS NULL",
    )
    .bind(staff_id)
    .execute(conn)
    .await?
    .rows_affected())
}
