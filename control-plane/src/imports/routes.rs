//! Import endpoints. Reading needs `contacts:read` (API keys) or any member role; changing
//! needs `contacts:write` or any member role. Another organisation's import answers 404.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures::TryStreamExt;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api_keys::types::Scope;
use crate::error::{Error, Problem, Result};
use crate::exports::stream::{self, FileFormat, Writer};
use crate::http::reply::found;
use crate::http::{Json, Page, Paged, Path, Query, with::With};
use crate::identity::principal::Principal;
use crate::identity::role::Role;
use crate::imports::commit::{self, Target};
use crate::imports::store;
use crate::imports::types::{CommitImport, DryRun, Import, ImportQuery, UploadParams};
use crate::imports::upload::{self, Uploader};
use crate::state::AppState;

/// Routes of this module. The upload takes the raw body stream, which the global body limit
/// (for JSON extractors) does not cover; it enforces [`crate::imports::MAX_FILE_BYTES`] itself.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_import, list_imports))
        .routes(routes!(get_import, delete_import))
        .routes(routes!(dry_run))
        .routes(routes!(commit_import))
        .routes(routes!(cancel_import))
        .routes(routes!(rejected_rows))
}

fn uploader(who: &Principal) -> Uploader {
    let (user_id, api_key_id) = match who {
        Principal::User(u) => (Some(u.user_id), None),
        Principal::Key(k) => (None, Some(k.key_id)),
    };
    Uploader {
        account_id: who.account_id(),
        scope: who.scope(),
        user_id,
        api_key_id,
    }
}

/// Uploads a CSV file (the raw request body, `Content-Type: text/csv`) and validates it: the
/// answer carries the detected format, the mapping and the dry-run counts.
#[utoipa::path(post, path = "/v1/contacts/imports", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(UploadParams),
    request_body(content = String, content_type = "text/csv", description = "The CSV file, up to 64 MiB"),
    responses(
        (status = 201, description = "Uploaded and validated", body = Import),
        (status = 400, description = "Bad query or interrupted upload", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Cancelled while uploading", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File larger than 64 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a CSV upload (JSON or multipart)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unreadable file, no phone column, bad parameter", body = Problem, content_type = "application/problem+json"),
    ))]
async fn upload_import(
    With(state, who): With<Principal>,
    Query(params): Query<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Import>)> {
    who.require(Scope::ContactsWrite, Role::Member)?;
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if media.starts_with("application/json") || media.starts_with("multipart/") {
        return Err(Error::UnsupportedMediaType);
    }
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    if length.is_some_and(|l| l > crate::imports::MAX_FILE_BYTES as i64) {
        return Err(Error::PayloadTooLarge);
    }
    let import = upload::upload(&state, uploader(&who), params, length, body).await?;
    Ok((StatusCode::CREATED, Json(import)))
}

/// The organisation's imports, newest first.
#[utoipa::path(get, path = "/v1/contacts/imports", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(Paged<ImportQuery>),
    responses(
        (status = 200, description = "Imports", body = Page<Import>),
    ))]
async fn list_imports(
    With(state, who): With<Principal>,
    Paged { query: q, page }: Paged<ImportQuery>,
) -> Result<Json<Page<Import>>> {
    who.require(Scope::ContactsRead, Role::Member)?;
    let rows = store::list(&state.pool, who.scope(), q.status, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |i| i.id)))
}

/// One import: status, progress while it uploads or commits, counts.
#[utoipa::path(get, path = "/v1/contacts/imports/{import_id}", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("import_id" = Uuid, Path, description = "Import id")),
    responses(
        (status = 200, description = "The import", body = Import),
    ))]
async fn get_import(
    With(state, who): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<Import>> {
    who.require(Scope::ContactsRead, Role::Member)?;
    found(store::get(&state.pool, who.scope(), id).await?).map(Json)
}

/// Sample sizes of the dry run.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DryRunQuery {
    /// Rows in each sample (0–100, default 10).
    pub sample: Option<i64>,
}

/// The dry run: what a commit would do (counts re-checked against the current contacts) with
/// a sample of the rows to import and of the rejected ones. Writes no contact.
#[utoipa::path(get, path = "/v1/contacts/imports/{import_id}/dry-run", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("import_id" = Uuid, Path, description = "Import id"), DryRunQuery),
    responses(
        (status = 200, description = "The report", body = DryRun),
    ))]
async fn dry_run(
    With(state, who): With<Principal>,
    Path(id): Path<Uuid>,
    Query(q): Query<DryRunQuery>,
) -> Result<Json<DryRun>> {
    who.require(Scope::ContactsRead, Role::Member)?;
    let sample = q.sample.unwrap_or(10);
    if !(0..=100).contains(&sample) {
        return Err(Error::field("sample", "must be between 0 and 100"));
    }
    let scope = who.scope();
    let (mut tx, guard) = crate::db::begin_bulk(&state.pool, upload::bulk_ms(&state)).await?;
    store::analyse(&mut *tx, scope, id).await?;
    tx.commit().await?;
    guard.disarm();
    let import = found(store::get(&state.pool, scope, id).await?)?;
    Ok(Json(DryRun {
        sample: store::preview(&state.pool, id, sample).await?,
        rejected_sample: store::rejected(&state.pool, id, sample).await?,
        import,
    }))
}

/// Commits the valid rows into an existing list (`list_id`) or a new one (`list_name`), all
/// or nothing. Committing again returns the completed import and imports nothing twice.
#[utoipa::path(post, path = "/v1/contacts/imports/{import_id}/commit", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("import_id" = Uuid, Path, description = "Import id")),
    request_body = CommitImport,
    responses(
        (status = 200, description = "Committed", body = Import),
        (status = 409, description = "Being committed, cancelled, failed, or list name taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such list, or bad list name", body = Problem, content_type = "application/problem+json"),
    ))]
async fn commit_import(
    With(state, who): With<Principal>,
    Path(id): Path<Uuid>,
    Json(body): Json<CommitImport>,
) -> Result<Json<Import>> {
    who.require(Scope::ContactsWrite, Role::Member)?;
    let scope = who.scope();
    found(store::get(&state.pool, scope, id).await?)?;
    let target = Target::from_request(body)?;
    let bulk_ms = upload::bulk_ms(&state);
    let import = commit::commit(&state.pool, bulk_ms, scope, id, target).await?;
    Ok(Json(import))
}

/// Cancels an import that is not committed (also stops an upload in progress); its staged
/// rows are deleted.
#[utoipa::path(post, path = "/v1/contacts/imports/{import_id}/cancel", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("import_id" = Uuid, Path, description = "Import id")),
    responses(
        (status = 200, description = "Cancelled", body = Import),
        (status = 409, description = "Already committed, committing, or failed", body = Problem, content_type = "application/problem+json"),
    ))]
async fn cancel_import(
    With(state, who): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<Import>> {
    use crate::imports::types::ImportStatus as S;
    who.require(Scope::ContactsWrite, Role::Member)?;
    let scope = who.scope();
    match store::cancel(&state.pool, scope, id).await? {
        None => return Err(Error::NotFound),
        Some(S::Validating | S::Uploaded | S::Validated | S::Cancelled) => {}
        Some(S::Importing) => return Err(Error::Conflict("the import is being committed")),
        Some(S::Completed) => return Err(Error::Conflict("the import is already committed")),
        Some(S::Failed) => return Err(Error::Conflict("the upload failed; delete it instead")),
    }
    found(store::get(&state.pool, scope, id).await?).map(Json)
}

/// Deletes an import and its staged rows; the contacts it created stay.
#[utoipa::path(delete, path = "/v1/contacts/imports/{import_id}", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("import_id" = Uuid, Path, description = "Import id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Uploading or committing: cancel or wait first", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_import(
    With(state, who): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    who.require(Scope::ContactsWrite, Role::Member)?;
    let scope = who.scope();
    found(store::get(&state.pool, scope, id).await?)?;
    if store::delete(&state.pool, scope, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::Conflict(
            "the import is uploading or being committed: cancel it or wait",
        ))
    }
}

/// The rows that will not be (or were not) imported, as CSV: row number, reason, then the
/// row's original columns. Formula cells are neutralised.
#[utoipa::path(get, path = "/v1/contacts/imports/{import_id}/rejected", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("import_id" = Uuid, Path, description = "Import id")),
    responses(
        (status = 200, description = "The rejected rows (streamed CSV)", content_type = "text/csv"),
    ))]
async fn rejected_rows(
    With(state, who): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Response> {
    who.require(Scope::ContactsRead, Role::Member)?;
    let import = found(store::get(&state.pool, who.scope(), id).await?)?;
    let pool = state.pool.clone();
    let bulk_ms = upload::bulk_ms(&state);
    let width = import.columns.len();
    let mut header: Vec<String> = vec!["row".into(), "reason".into()];
    header.extend(import.columns);
    stream::download(
        FileFormat::Csv,
        &format!("rejected-{id}"),
        move |mut sink| async move {
            let mut writer = Writer::new(FileFormat::Csv);
            writer.row(header.iter().map(String::as_str));
            let (mut tx, guard) = crate::db::begin_bulk(&pool, bulk_ms).await?;
            let mut rows = sqlx::query_as::<_, (i32, String, Vec<String>)>(store::REJECTED_SQL)
                .bind(id)
                .fetch(&mut *tx);
            while let Some((row, reason, fields)) = rows.try_next().await? {
                let row = row.to_string();
                let pad = width.saturating_sub(fields.len());
                let cells = [row.as_str(), reason.as_str()]
                    .into_iter()
                    .chain(fields.iter().map(String::as_str))
                    .chain(std::iter::repeat_n("", pad));
                writer.row(cells);
                if let Some(bytes) = writer.ready()
                    && !sink.send(bytes).await
                {
                    // Client gone: dropping the guard cancels the rest of the query.
                    return Ok(());
                }
            }
            guard.disarm();
            sink.send(writer.finish()).await;
            Ok(())
        },
    )
    .await
}
