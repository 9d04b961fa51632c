//! Contact exports: a list's contacts, or any filter over the organisation's contacts, as
//! CSV or XLSX. The columns match what the import recognises, so an exported file imports
//! back as the same contacts (extra attributes become columns after the fixed ones).

use axum::extract::State;
use axum::response::Response;
use futures::TryStreamExt;
use serde::Deserialize;
use sqlx::PgPool;
use time::format_description::well_known::Rfc3339;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api_keys::extract::Principal;
use crate::api_keys::types::Scope;
use crate::auth::role::Role;
use crate::error::{Error, Problem, Result};
use crate::exports::stream::{self, FileFormat, Sink, Writer};
use crate::http::{Path, Query};
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_contacts))
        .routes(routes!(export_list))
}

/// Export filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (default) or `xlsx`.
    pub format: Option<FileFormat>,
    /// Only members of this list.
    pub list_id: Option<Uuid>,
    /// `valid` or `invalid`.
    pub status: Option<String>,
    /// Only contacts with this tag.
    pub tag: Option<String>,
    /// Only opted-out (`true`) or not opted-out (`false`) contacts.
    pub opted_out: Option<bool>,
    /// Name, phone or email contains this text.
    pub q: Option<String>,
}

/// Format of a list export.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `csv` (default) or `xlsx`.
    pub format: Option<FileFormat>,
}

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

const FILTER: &str = "c.account_id = $1 AND c.deleted_at IS NULL
    AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM contact_list_memberships m
                                      WHERE m.list_id = $2 AND m.contact_id = c.id))
    AND ($3::text IS NULL OR c.status::text = $3)
    AND ($4::text IS NULL OR $4 = ANY (c.tags))
    AND ($5::boolean IS NULL OR c.is_opted_out = $5)
    AND ($6::text IS NULL OR c.search LIKE '%' || $6 || '%' ESCAPE '\\')";

/// The organisation's contacts (not in the trash) matching the filters, as CSV or XLSX.
#[utoipa::path(get, path = "/v1/contacts/export", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(ExportQuery),
    responses(
        (status = 200, description = "The file (streamed)", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or key scope too low", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
    ))]
async fn export_contacts(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<ExportQuery>,
) -> Result<Response> {
    who.require(Scope::ContactsRead, Role::Member)?;
    let account_id = who.account_id();
    if let Some(list_id) = q.list_id
        && !list_exists(&state.pool, account_id, list_id).await?
    {
        return Err(Error::field("list_id", "the organisation has no such list"));
    }
    if q.status
        .as_deref()
        .is_some_and(|s| s != "valid" && s != "invalid")
    {
        return Err(Error::field("status", "must be valid or invalid"));
    }
    let search = q.q.as_deref().map(|s| {
        s.trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    });
    let filter = Filter {
        account_id,
        list_id: q.list_id,
        status: q.status,
        tag: q.tag,
        opted_out: q.opted_out,
        search,
    };
    start(&state, q.format.unwrap_or_default(), filter).await
}

/// One list's contacts (not in the trash) as CSV or XLSX.
#[utoipa::path(get, path = "/v1/contact-lists/{list_id}/export", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("list_id" = Uuid, Path, description = "List id"), FormatQuery),
    responses(
        (status = 200, description = "The file (streamed)", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "Bad id or query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or key scope too low", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such list", body = Problem, content_type = "application/problem+json"),
    ))]
async fn export_list(
    State(state): State<AppState>,
    who: Principal,
    Path(list_id): Path<Uuid>,
    Query(q): Query<FormatQuery>,
) -> Result<Response> {
    who.require(Scope::ContactsRead, Role::Member)?;
    let account_id = who.account_id();
    if !list_exists(&state.pool, account_id, list_id).await? {
        return Err(Error::NotFound);
    }
    let filter = Filter {
        account_id,
        list_id: Some(list_id),
        ..Filter::default()
    };
    start(&state, q.format.unwrap_or_default(), filter).await
}

async fn list_exists(pool: &PgPool, account_id: Uuid, list_id: Uuid) -> Result<bool> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM contact_lists WHERE account_id = $1 AND id = $2")
            .bind(account_id)
            .bind(list_id)
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}

#[derive(Debug, Default, Clone)]
struct Filter {
    account_id: Uuid,
    list_id: Option<Uuid>,
    status: Option<String>,
    tag: Option<String>,
    opted_out: Option<bool>,
    search: Option<String>,
}

fn bind<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    f: &'q Filter,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    query
        .bind(f.account_id)
        .bind(f.list_id)
        .bind(f.status.as_deref())
        .bind(f.tag.as_deref())
        .bind(f.opted_out)
        .bind(f.search.as_deref())
}

type ContactRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    time::OffsetDateTime,
    serde_json::Value,
);

async fn start(state: &AppState, format: FileFormat, filter: Filter) -> Result<Response> {
    let date = time::OffsetDateTime::now_utc().date();
    let pool = state.pool.clone();
    let bulk_ms = state.config.database.bulk_statement_timeout_ms;
    stream::download(format, &format!("contacts-{date}"), move |sink| {
        produce(pool, bulk_ms, format, filter, sink)
    })
    .await
}

/// Writes the file: both queries in one bulk-timeout transaction (one snapshot), cancelled if
/// the client goes away mid-query.
async fn produce(
    pool: PgPool,
    bulk_ms: u64,
    format: FileFormat,
    f: Filter,
    mut sink: Sink,
) -> Result<()> {
    let (mut tx, guard) = crate::db::begin_bulk(&pool, bulk_ms).await?;
    let keys_sql = format!(
        "SELECT DISTINCT k FROM contacts c, jsonb_object_keys(c.attributes) k
          WHERE {FILTER} ORDER BY k LIMIT 50"
    );
    let keys: Vec<(String,)> = bind(sqlx::query_as(sqlx::AssertSqlSafe(keys_sql)), &f)
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
        "SELECT c.phone, c.first_name, c.last_name, c.email, c.tags, c.notes, c.status::text,
                c.invalid_reason, c.mno_id, c.country, c.is_opted_out, c.created_at, c.attributes
           FROM contacts c WHERE {FILTER} ORDER BY c.id"
    );
    let query = bind(
        sqlx::query_as::<_, ContactRow>(sqlx::AssertSqlSafe(sql)),
        &f,
    );
    let mut rows = query.fetch(&mut *tx);
    while let Some(r) = rows.try_next().await? {
        let tags = r.4.join("; ");
        let created = r.11.format(&Rfc3339).unwrap_or_default();
        let opted_out = if r.10 { "true" } else { "false" };
        let fixed = [
            r.0.as_str(),
            r.1.as_deref().unwrap_or(""),
            r.2.as_deref().unwrap_or(""),
            r.3.as_deref().unwrap_or(""),
            &tags,
            r.5.as_deref().unwrap_or(""),
            &r.6,
            r.7.as_deref().unwrap_or(""),
            r.8.as_deref().unwrap_or(""),
            r.9.as_deref().unwrap_or(""),
            opted_out,
            &created,
        ];
        let extra = keys
            .iter()
            .map(|k| r.12.get(k).and_then(|v| v.as_str()).unwrap_or(""));
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
