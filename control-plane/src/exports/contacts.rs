//! The contact export file: the fixed columns (what the import recognises, so an exported
//! file imports back as the same contacts), then up to 50 attribute keys as extra columns.
//! Rows are read by name into [`ExportRow`] through the contacts' one filter.

use axum::response::Response;
use futures::TryStreamExt;
use sqlx::PgPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::contacts::filter::SearchFilter;
use crate::contacts::store::{FILTER_SQL, bind_filter};
use crate::error::Result;
use crate::exports::stream::{self, FileFormat, Sink, Writer};
use crate::identity::scope::AccountScope;
use crate::state::AppState;

/// The fixed columns, in order; attribute keys follow.
pub const COLUMNS: [&str; 12] = [
    "phone",
    "first_name",
    "last_name",
    "email",
    "tags",
    "notes",
    "status",
    "invalid_reason",
    "operator",
    "country",
    "opted_out",
    "created_at",
];

/// One exported contact.
#[derive(Debug, sqlx::FromRow)]
struct ExportRow {
    phone: String,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    tags: Vec<String>,
    notes: Option<String>,
    status: String,
    invalid_reason: Option<String>,
    mno_id: Option<String>,
    country: Option<String>,
    is_opted_out: bool,
    created_at: OffsetDateTime,
    attributes: serde_json::Value,
}

/// Starts streaming the account's active contacts matching `filter`.
pub async fn start(
    state: &AppState,
    format: FileFormat,
    scope: AccountScope,
    filter: SearchFilter,
) -> Result<Response> {
    let date = OffsetDateTime::now_utc().date();
    let pool = state.pool.clone();
    let bulk_ms = state.config.database.bulk_statement_timeout_ms;
    stream::download(format, &format!("contacts-{date}"), move |sink| {
        produce(pool, bulk_ms, format, scope, filter, sink)
    })
    .await
}

/// Writes the file: both queries in one bulk-timeout transaction (one snapshot), cancelled if
/// the client goes away mid-query.
async fn produce(
    pool: PgPool,
    bulk_ms: u64,
    format: FileFormat,
    scope: AccountScope,
    f: SearchFilter,
    mut sink: Sink,
) -> Result<()> {
    let (mut tx, guard) = crate::db::begin_bulk(&pool, bulk_ms).await?;
    let keys_sql = format!(
        "SELECT DISTINCT k FROM contacts c, jsonb_object_keys(c.attributes) k
          WHERE {FILTER_SQL} AND c.deleted_at IS NULL ORDER BY k LIMIT 50"
    );
    let keys: Vec<(String,)> =
        bind_filter(sqlx::query_as(sqlx::AssertSqlSafe(keys_sql)), scope, &f)
            .fetch_all(&mut *tx)
            .await?;
    let keys: Vec<String> = keys
        .into_iter()
        .map(|(k,)| k)
        .filter(|k| !COLUMNS.contains(&k.as_str()))
        .collect();
    let mut writer = Writer::new(format);
    writer.row(
        COLUMNS
            .iter()
            .copied()
            .chain(keys.iter().map(String::as_str)),
    );
    let sql = format!(
        "SELECT c.phone, c.first_name, c.last_name, c.email, c.tags, c.notes,
                c.status::text AS status, c.invalid_reason, c.mno_id, c.country, c.is_opted_out,
                c.created_at, c.attributes
           FROM contacts c WHERE {FILTER_SQL} AND c.deleted_at IS NULL ORDER BY c.id"
    );
    let query = bind_filter(
        sqlx::query_as::<_, ExportRow>(sqlx::AssertSqlSafe(sql)),
        scope,
        &f,
    );
    let mut rows = query.fetch(&mut *tx);
    while let Some(r) = rows.try_next().await? {
        let tags = r.tags.join("; ");
        let created = r.created_at.format(&Rfc3339).unwrap_or_default();
        let opted_out = if r.is_opted_out { "true" } else { "false" };
        let fixed = [
            r.phone.as_str(),
            text(&r.first_name),
            text(&r.last_name),
            text(&r.email),
            &tags,
            text(&r.notes),
            &r.status,
            text(&r.invalid_reason),
            text(&r.mno_id),
            text(&r.country),
            opted_out,
            &created,
        ];
        let extra = keys
            .iter()
            .map(|k| r.attributes.get(k).and_then(|v| v.as_str()).unwrap_or(""));
        writer.row(fixed.into_iter().chain(extra));
        if let Some(bytes) = writer.ready()
            && !sink.send(bytes).await
        {
            return Ok(());
        }
    }
    guard.disarm();
    sink.send(writer.finish()).await;
    Ok(())
}

/// An optional cell as text (empty when absent).
fn text(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("")
}
