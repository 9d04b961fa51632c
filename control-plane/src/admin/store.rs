//! SQL for staff members and their permissions.

use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::admin::permissions::{Level, Module, Permissions};
use crate::admin::types::StaffMember;
use crate::error::{Result, conflict_on_unique};
use crate::http::pagination::PageRequest;

/// What a staff login needs.
#[derive(Debug, sqlx::FromRow)]
pub struct StaffCredentials {
    /// Staff id.
    pub id: Uuid,
    /// Password hash.
    pub password_hash: String,
    /// Deactivated staff cannot log in.
    pub is_active: bool,
    /// Must set a new password first.
    pub must_change_password: bool,
    /// Seconds left on a lock-out.
    pub locked_secs_left: Option<i64>,
}

/// The columns of [`StaffCredentials`], from `admin_staff`.
const CREDENTIALS: &str = "SELECT id, password_hash, is_active, must_change_password,
        CEIL(EXTRACT(EPOCH FROM (locked_until - now())))::bigint AS locked_secs_left
     FROM admin_staff";

/// Login data by email.
pub async fn credentials_by_email(
    conn: impl PgExecutor<'_>,
    email: &str,
) -> Result<Option<StaffCredentials>> {
    let sql = format!("{CREDENTIALS} WHERE lower(email) = lower($1)");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(email)
        .fetch_optional(conn)
        .await?)
}

/// Login data by id.
pub async fn credentials_by_id(
    conn: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<StaffCredentials>> {
    let sql = format!("{CREDENTIALS} WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The columns of [`StaffMember`] with the permissions, from `admin_staff s`.
const MEMBER: &str = "SELECT s.id, s.email, s.name, s.is_active, s.must_change_password, s.last_login_at, s.created_at,
        COALESCE((SELECT jsonb_object_agg(p.module, p.level) FROM staff_permissions p WHERE p.staff_id = s.id), '{}')
            AS permissions
     FROM admin_staff s";

/// A page of the staff members, newest first, with their permissions.
pub async fn list(conn: impl PgExecutor<'_>, page: &PageRequest) -> Result<Vec<StaffMember>> {
    let sql = format!("{MEMBER} WHERE s.id < $1 ORDER BY s.id DESC LIMIT $2");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(page.before_or_max())
        .bind(page.fetch_limit())
        .fetch_all(conn)
        .await?)
}

/// One staff member.
pub async fn get(conn: impl PgExecutor<'_>, id: Uuid) -> Result<Option<StaffMember>> {
    let sql = format!("{MEMBER} WHERE s.id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// A staff member's permissions.
pub async fn permissions(conn: impl PgExecutor<'_>, id: Uuid) -> Result<Permissions> {
    let Json(p): Json<Permissions> = sqlx::query_scalar(
        "SELECT COALESCE(jsonb_object_agg(module, level), '{}') FROM staff_permissions WHERE staff_id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(p)
}

/// Inserts a staff member who must change the password at first login; 409 on a taken email.
pub async fn insert(
    conn: impl PgExecutor<'_>,
    email: &str,
    name: &str,
    password_hash: &str,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO admin_staff (id, email, name, password_hash) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(email)
        .bind(name)
        .bind(password_hash)
        .execute(conn)
        .await
        .map_err(|e| conflict_on_unique(e, "a staff member with this email already exists"))?;
    Ok(id)
}

/// Replaces the permissions (levels of `none` are simply not stored).
pub async fn set_permissions(
    conn: &mut PgConnection,
    id: Uuid,
    permissions: &Permissions,
) -> Result<()> {
    sqlx::query("DELETE FROM staff_permissions WHERE staff_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for (module, level) in permissions
        .iter()
        .filter(|(_, l)| **l != crate::admin::permissions::Level::None)
    {
        sqlx::query("INSERT INTO staff_permissions (staff_id, module, level) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(module)
            .bind(level)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Sets a new password chosen by the staff member.
pub async fn set_password(conn: impl PgExecutor<'_>, id: Uuid, hash: &str) -> Result<()> {
    sqlx::query("UPDATE admin_staff SET password_hash = $2, must_change_password = false, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Number of staff members.
pub async fn count(conn: impl PgExecutor<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM admin_staff")
        .fetch_one(conn)
        .await?)
}

/// Emails of the active staff whose permission on `module` reaches `level`, sorted.
pub async fn emails_with(
    conn: impl PgExecutor<'_>,
    module: Module,
    level: Level,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT s.email FROM admin_staff s JOIN staff_permissions p ON p.staff_id = s.id
         WHERE s.is_active AND p.module = $1 AND p.level >= $2
         ORDER BY s.email",
    )
    .bind(module)
    .bind(level)
    .fetch_all(conn)
    .await?)
}

/// Activates or deactivates a staff member.
pub async fn set_active(conn: impl PgExecutor<'_>, id: Uuid, active: bool) -> Result<()> {
    sqlx::query("UPDATE admin_staff SET is_active = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(active)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes a staff member: inactive for good, no permissions left. `false` when unknown or
/// removed already.
pub async fn remove(conn: &mut PgConnection, id: Uuid) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE admin_staff SET is_active = false, removed_at = now(), updated_at = now()
          WHERE id = $1 AND removed_at IS NULL",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if done {
        sqlx::query("DELETE FROM staff_permissions WHERE staff_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(done)
}
