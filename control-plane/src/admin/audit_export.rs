//! The audit log as a CSV download for compliance (`audit: read`), with the viewer's filters,
//! streamed through [`crate::exports::stream`]: rows are read from one cursor and sent in
//! ~64 KiB chunks as they come, so an export of any size holds only a chunk in memory.

use axum::response::Response;
use futures::TryStreamExt;
use sqlx::PgPool;
use time::format_description::well_known::Rfc3339;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::audit::{AuditQuery, COLUMNS, FILTER_SQL, bind_filter};
use crate::admin::guard::{AuditRead, Require};
use crate::admin::types::AuditEntry;
use crate::error::Result;
use crate::exports::stream::{self, FileFormat, Sink, Writer};
use crate::http::{Query, with::With};
use crate::state::AppState;

/// The file's columns.
pub const HEADER: [&str; 9] = [
    "id",
    "created_at",
    "staff_id",
    "module",
    "action",
    "target_type",
    "target_id",
    "ip",
    "metadata",
];

/// Routes of the export.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_audit))
}

/// The audit log matching the filters as CSV, oldest first (`audit: read`).
#[utoipa::path(get, path = "/v1/admin/audit/export", tag = "admin-audit", security(("staff_bearer" = [])), params(AuditQuery),
    responses(
        (status = 200, description = "CSV file", content_type = "text/csv"),
    ))]
async fn export_audit(
    With(state, _): With<Require<AuditRead>>,
    Query(query): Query<AuditQuery>,
) -> Result<Response> {
    let date = time::OffsetDateTime::now_utc().date();
    let pool = state.pool.clone();
    let bulk_ms = state.config.database.bulk_statement_timeout_ms;
    stream::download(FileFormat::Csv, &format!("audit-{date}"), move |sink| {
        produce(pool, bulk_ms, query, sink)
    })
    .await
}

async fn produce(pool: PgPool, bulk_ms: u64, q: AuditQuery, mut sink: Sink) -> Result<()> {
    let (mut tx, guard) = crate::db::begin_bulk(&pool, bulk_ms).await?;
    let mut writer = Writer::new(FileFormat::Csv);
    writer.row(HEADER);
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE {FILTER_SQL} ORDER BY id");
    let query = bind_filter(
        sqlx::query_as::<_, AuditEntry>(sqlx::AssertSqlSafe(sql)),
        &q,
    );
    let mut rows = query.fetch(&mut *tx);
    while let Some(e) = rows.try_next().await? {
        let id = e.id.to_string();
        let at = e.created_at.format(&Rfc3339).unwrap_or_default();
        let staff = e.staff_id.map(|s| s.to_string()).unwrap_or_default();
        let module = serde_json::to_value(e.module)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let metadata = e.metadata.to_string();
        writer.row([
            id.as_str(),
            &at,
            &staff,
            &module,
            &e.action,
            e.target_type.as_deref().unwrap_or(""),
            e.target_id.as_deref().unwrap_or(""),
            e.ip.as_deref().unwrap_or(""),
            &metadata,
        ]);
        if let Some(bytes) = writer.ready()
            && !sink.send(bytes).await
        {
            return Ok(());
        }
    }
    drop(rows);
    guard.disarm();
    sink.send(writer.finish()).await;
    Ok(())
}
