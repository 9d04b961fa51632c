//! The audit log: one row per staff action, INSERT-only for the service role (enforced by the
//! migration's grants), readable through `GET /v1/admin/audit` with `audit: read`.

use std::fmt::Display;

use serde_json::Value;
use sqlx::PgExecutor;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::guard::{AuditRead, Require};
use crate::admin::permissions::Module;
use crate::admin::types::AuditEntry;
use crate::error::Result;
use crate::http::{Json, Page, Paged, pagination::PageRequest, with::With};
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .merge(crate::admin::audit_export::router())
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

impl<'a> Entry<'a> {
    /// An entry of the staff module by staff member `staff_id` about their own access (signing
    /// in and out, their password, their invitation), without a target or details yet.
    pub fn staff(staff_id: Uuid, action: &'a str, ip: Option<&'a str>) -> Entry<'a> {
        Entry {
            staff_id: Some(staff_id),
            module: Module::Staff,
            action,
            target_type: None,
            target_id: None,
            metadata: Value::Object(Default::default()),
            ip,
        }
    }

    /// The entry, about the `target_type` with id `target_id`.
    pub fn on(self, target_type: &'a str, target_id: impl Display) -> Entry<'a> {
        Entry {
            target_type: Some(target_type),
            target_id: Some(target_id.to_string()),
            ..self
        }
    }

    /// The entry, with `metadata` as its details.
    pub fn with(self, metadata: Value) -> Entry<'a> {
        Entry { metadata, ..self }
    }
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

/// Filters of the audit viewer and its export.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this staff member's actions.
    pub staff_id: Option<Uuid>,
    /// Only this module.
    pub module: Option<Module>,
    /// Only this action (e.g. `org.suspend`).
    pub action: Option<String>,
    /// Only this kind of target (e.g. `account`).
    pub target_type: Option<String>,
    /// Only this target id.
    pub target_id: Option<String>,
    /// At or after this time (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<time::OffsetDateTime>,
    /// Before this time (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<time::OffsetDateTime>,
}

/// The filter's SQL condition (binds `$1`–`$7`).
pub const FILTER_SQL: &str = "($1::uuid IS NULL OR staff_id = $1)
    AND ($2::staff_module IS NULL OR module = $2)
    AND ($3::text IS NULL OR action = $3)
    AND ($4::text IS NULL OR target_type = $4)
    AND ($5::text IS NULL OR target_id = $5)
    AND ($6::timestamptz IS NULL OR created_at >= $6)
    AND ($7::timestamptz IS NULL OR created_at < $7)";

/// Columns of an [`AuditEntry`].
pub const COLUMNS: &str =
    "id, staff_id, module, action, target_type, target_id, metadata, ip, created_at";

/// Binds the filter's `$1`–`$7` onto a query.
pub fn bind_filter<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    q: &'q AuditQuery,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    query
        .bind(q.staff_id)
        .bind(q.module)
        .bind(q.action.as_deref())
        .bind(q.target_type.as_deref())
        .bind(q.target_id.as_deref())
        .bind(q.from)
        .bind(q.to)
}

/// A page of the entries matching `q`, newest first.
pub async fn page_of(
    conn: impl PgExecutor<'_>,
    q: &AuditQuery,
    page: &PageRequest,
) -> Result<Vec<AuditEntry>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE {FILTER_SQL} AND id < $8 ORDER BY id DESC LIMIT $9"
    );
    Ok(bind_filter(sqlx::query_as(sqlx::AssertSqlSafe(sql)), q)
        .bind(page.before_or_max())
        .bind(page.fetch_limit())
        .fetch_all(conn)
        .await?)
}

/// The audit log, newest first, filtered by staff, module, action, target and date range
/// (`audit: read`).
#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin-audit", security(("staff_bearer" = [])), params(Paged<AuditQuery>),
    responses(
        (status = 200, description = "Audit entries", body = Page<AuditEntry>),
    ))]
async fn list_audit(
    With(state, _): With<Require<AuditRead>>,
    Paged { query, page }: Paged<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>> {
    let rows = page_of(&state.pool, &query, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |e| e.id)))
}
