//! SQL for imports, scoped by account: the import record, its progress, the set-based
//! duplicate analysis (the dry run) and the samples. The commit is in [`crate::imports::commit`].

use crate::identity::scope::AccountScope;
use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::error::Result;
use crate::http::pagination::PageRequest;
use crate::imports::mapping::Mapping;
use crate::imports::types::{Import, ImportStatus, PreviewRow, RejectedRow};

/// What the upload knows when it creates the import.
#[derive(Debug)]
pub struct NewImport<'a> {
    /// Owning account.
    pub account_id: Uuid,
    /// Uploading user, if a user.
    pub created_by: Option<Uuid>,
    /// Uploading API key, if a key.
    pub api_key_id: Option<Uuid>,
    /// File name.
    pub filename: Option<&'a str>,
    /// Encoding name.
    pub encoding: &'a str,
    /// Delimiter.
    pub delimiter: char,
    /// Header row present.
    pub has_header: bool,
    /// Header names.
    pub columns: &'a [String],
    /// Column mapping.
    pub mapping: &'a Mapping,
    /// Country for national numbers.
    pub default_country: &'a str,
    /// Declared body size.
    pub content_length: Option<i64>,
}

/// The columns of [`Import`], its progress and counts computed here: the upload percentage
/// while validating (when the size is known, at most 99), 100 afterwards; the new contacts a
/// commit creates (or, once completed, created).
const COLUMNS: &str = "id, status, filename, error, encoding, delimiter, has_header, columns, \
    mapping, default_country, bytes_received, \
    CASE WHEN status <> 'validating' THEN 100 WHEN content_length > 0 \
         THEN greatest(0, least(bytes_received * 100 / content_length, 99))::int4 END AS progress, \
    total_rows AS total, valid_rows AS valid, invalid_rows AS invalid, \
    duplicate_rows AS duplicate_in_file, existing_rows AS existing, trashed_rows AS in_trash, \
    CASE WHEN status = 'completed' THEN created_contacts \
         ELSE valid_rows - duplicate_rows - existing_rows END AS \"new\", \
    neutralised_cells, list_id, linked_contacts, created_at, updated_at, committed_at";

/// Creates an import in `validating`; returns its id.
pub async fn create(conn: impl PgExecutor<'_>, new: &NewImport<'_>) -> Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO contact_imports (id, account_id, created_by, api_key_id, filename, status,
             encoding, delimiter, has_header, columns, mapping, default_country, content_length)
         VALUES ($1, $2, $3, $4, $5, 'validating', $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(new.account_id)
    .bind(new.created_by)
    .bind(new.api_key_id)
    .bind(new.filename)
    .bind(new.encoding)
    .bind(new.delimiter.to_string())
    .bind(new.has_header)
    .bind(new.columns)
    .bind(Json(new.mapping))
    .bind(new.default_country)
    .bind(new.content_length)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Records upload progress; `false` when the import is no longer validating (cancelled).
pub async fn progress(pool: &PgPool, id: Uuid, bytes: i64, rows: i32) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE contact_imports SET bytes_received = $2, total_rows = $3, updated_at = now()
         WHERE id = $1 AND status = 'validating'",
    )
    .bind(id)
    .bind(bytes)
    .bind(rows)
    .execute(pool)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Final row counts of the upload.
#[derive(Debug, Default, Clone, Copy)]
pub struct UploadCounts {
    /// Bytes received.
    pub bytes: i64,
    /// Data rows.
    pub total: i32,
    /// Rows without a reason.
    pub valid: i32,
    /// Cells neutralised.
    pub neutralised: i32,
}

/// Ends the upload: `validating` → `uploaded` with the counts and the encoding actually used.
/// `false` when the import was cancelled meanwhile.
pub async fn uploaded(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    counts: UploadCounts,
    encoding: &str,
) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE contact_imports SET status = 'uploaded', bytes_received = $2, total_rows = $3,
             valid_rows = $4, invalid_rows = $3 - $4, neutralised_cells = $5, encoding = $6,
             updated_at = now()
         WHERE id = $1 AND status = 'validating'",
    )
    .bind(id)
    .bind(counts.bytes)
    .bind(counts.total)
    .bind(counts.valid)
    .bind(counts.neutralised)
    .bind(encoding)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Marks an upload failed with a message for the client.
pub async fn fail(pool: &PgPool, id: Uuid, error: &str) -> Result<()> {
    sqlx::query(
        "UPDATE contact_imports SET status = 'failed', error = left($2, 1000), updated_at = now()
         WHERE id = $1 AND status = 'validating'",
    )
    .bind(id)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// The dry run: counts in-file duplicates and numbers the account already has (set-based),
/// stores them, and moves `uploaded` to `validated` (`importing` stays: the commit re-runs it
/// in its transaction). Final statuses keep the counts they had.
pub async fn analyse(conn: impl PgExecutor<'_>, scope: AccountScope, id: Uuid) -> Result<()> {
    sqlx::query(
        "UPDATE contact_imports i
            SET duplicate_rows = i.valid_rows - a.distinct_phones,
                existing_rows = a.existing, trashed_rows = a.trashed,
                status = CASE WHEN i.status = 'uploaded' THEN 'validated' ELSE i.status END,
                validated_at = now(), updated_at = now()
           FROM (SELECT count(*)::int AS distinct_phones,
                        count(c.id)::int AS existing,
                        count(c.deleted_at)::int AS trashed
                   FROM (SELECT DISTINCT phone FROM contact_import_rows
                          WHERE import_id = $2 AND reason IS NULL) r
                   LEFT JOIN contacts c ON c.account_id = $1 AND c.phone = r.phone) a
          WHERE i.id = $2 AND i.account_id = $1
            AND i.status IN ('uploaded', 'validated', 'importing')",
    )
    .bind(scope.id())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Refreshes the planner statistics of the staged rows (`ANALYZE` through a function that runs
/// as the table owner), so the set-based dry-run and commit statements get plans for the rows
/// just staged rather than for whatever autovacuum last saw.
pub async fn analyse_rows(conn: impl PgExecutor<'_>) -> Result<()> {
    sqlx::query("SELECT analyse_contact_import_rows()")
        .execute(conn)
        .await?;
    Ok(())
}

/// One import of the account.
pub async fn get(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<Import>> {
    let sql = format!("SELECT {COLUMNS} FROM contact_imports WHERE account_id = $1 AND id = $2");
    crate::scoped::one(conn, sql, scope, id).await
}

/// A page of the account's imports, newest first.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    status: Option<ImportStatus>,
    page: &PageRequest,
) -> Result<Vec<Import>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM contact_imports
         WHERE account_id = $1 AND id < $2 AND ($3::text IS NULL OR status = $3)
         ORDER BY id DESC LIMIT $4"
    );
    crate::scoped::page(conn, sql, scope, page, |q| q.bind(status)).await
}

/// The first rows a commit would import (first occurrence of each number).
pub async fn preview(conn: impl PgExecutor<'_>, id: Uuid, limit: i64) -> Result<Vec<PreviewRow>> {
    Ok(sqlx::query_as(
        "SELECT * FROM (
             SELECT DISTINCT ON (phone) row_no AS row, phone, first_name, last_name, email,
                    tags, mno_id
               FROM contact_import_rows
              WHERE import_id = $1 AND reason IS NULL
              ORDER BY phone, row_no) first_of_each
          ORDER BY row LIMIT $2",
    )
    .bind(id)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Rejected rows (invalid ones and repeats of an earlier row's number) in file order.
pub const REJECTED_SQL: &str = "
    SELECT row_no, reason, fields FROM contact_import_rows
     WHERE import_id = $1 AND reason IS NOT NULL
    UNION ALL
    SELECT row_no, 'duplicate: same number as row ' || first_row, fields
      FROM (SELECT row_no, fields, first_value(row_no) OVER w AS first_row,
                   row_number() OVER w AS n
              FROM contact_import_rows
             WHERE import_id = $1 AND reason IS NULL
            WINDOW w AS (PARTITION BY phone ORDER BY row_no)) d
     WHERE n > 1
     ORDER BY row_no";

/// The first rejected rows.
pub async fn rejected(conn: impl PgExecutor<'_>, id: Uuid, limit: i64) -> Result<Vec<RejectedRow>> {
    let sql = format!("{REJECTED_SQL} LIMIT $2");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(limit)
        .fetch_all(conn)
        .await?)
}

/// Cancels an import that is not committed: its staged rows are deleted. Returns the status
/// it had, or `None` when the account has no such import.
pub async fn cancel(pool: &PgPool, scope: AccountScope, id: Uuid) -> Result<Option<ImportStatus>> {
    let mut tx = pool.begin().await?;
    let status: Option<ImportStatus> = sqlx::query_scalar(
        "SELECT status FROM contact_imports WHERE account_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(scope.id())
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(status) = status else {
        return Ok(None);
    };
    if matches!(
        status,
        ImportStatus::Validating | ImportStatus::Uploaded | ImportStatus::Validated
    ) {
        sqlx::query(
            "UPDATE contact_imports SET status = 'cancelled', updated_at = now() WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM contact_import_rows WHERE import_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Some(status))
}

/// Deletes an import and its staged rows (the contacts it created stay).
pub async fn delete(conn: impl PgExecutor<'_>, scope: AccountScope, id: Uuid) -> Result<bool> {
    let deleted = sqlx::query(
        "DELETE FROM contact_imports WHERE account_id = $1 AND id = $2
            AND status NOT IN ('validating', 'importing')",
    )
    .bind(scope.id())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected() == 1)
}
