//! The audit log: one row per staff action, INSERT-only for the service role (enforced by the
//! migration's grants), readable through `GET /v1/admin/audit` with `audit: read`.

use axum::extract::State;
use serde_json::Value;
use sqlx::PgExecutor;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::guard::{AuditRead, Require};
use crate::admin::permissions::Module;
use crate::admin::types::AuditEntry;
use crate::error::{Problem, Result};
use crate::http::{Json, Page, Paged};
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// One action to record.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// Acting staff member (None for system actions).
    pub staff_id: Option<Uuid>,
    /// Module acted in.
    pub module: Module,
    /// Action name (`staff.create`, `auth.login`, …).
    pub action: &'a str,
    /// Kind of target.
    pub target_type: Option<&'a str>,
    /// Target id.
    pub target_id: Option<String>,
    /// Details.
    pub metadata: Value,
    /// Client IP.
    pub ip: Option<&'a str>,
}

/// Appends an entry.
pub async fn record(conn: impl PgExecutor<'_>, entry: Entry<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, staff_id, module, action, target_type, target_id, metadata, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7())
    .bind(entry.staff_id)
    .bind(entry.module)
    .bind(entry.action)
    .bind(entry.target_type)
    .bind(entry.target_id)
    .bind(entry.metadata)
    .bind(entry.ip)
    .execute(conn)
    .await?;
    Ok(())
}

/// Entries with id below `before`, newest first.
pub async fn page_of(
    conn: impl PgExecutor<'_>,
    before: Uuid,
    limit: i64,
) -> Result<Vec<AuditEntry>> {
    Ok(sqlx::query_as(
        "SELECT id, staff_id, module, action, target_type, target_id, metadata, ip, created_at
         FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// The audit log, newest first (`audit: read`).
#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin-audit", security(("staff_bearer" = [])), params(Paged),
    responses(
        (status = 200, description = "Audit entries", body = Page<AuditEntry>),
        (status = 403, description = "Permission too low or password change pending", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_audit(
    State(state): State<AppState>,
    _: Require<AuditRead>,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<AuditEntry>>> {
    let rows = page_of(&state.pool, page.before_or_max(), page.fetch_limit()).await?;
    Ok(Json(Page::from_rows(rows, page, |e| e.id)))
}
