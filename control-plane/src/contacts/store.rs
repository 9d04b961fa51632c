//! SQL for contacts, every statement scoped by the caller's [`AccountScope`]. Filters are one fixed statement with optional
//! parameters (`$n IS NULL OR …`), so every combination runs the same prepared query.

use sqlx::postgres::PgArguments;
use sqlx::query::{QueryAs, QueryScalar};
use sqlx::{PgConnection, PgExecutor, Postgres};
use uuid::Uuid;

use crate::contacts::filter::SearchFilter;
use crate::contacts::types::{Contact, ContactFields};
use crate::error::{Error, Result, conflict_on_unique};
use crate::http::pagination::PageRequest;
use crate::identity::scope::AccountScope;
use crate::scoped;

/// Columns of [`Contact`] selected from `contacts c`.
pub const CONTACT_COLUMNS: &str = "c.id, c.phone, c.phone_raw, c.status, c.invalid_reason, \
    c.mno_id, c.country, c.first_name, c.last_name, c.email, c.tags, c.notes, c.consent_source, \
    c.consent_at, c.consent_note, c.is_opted_out, c.opted_out_at, c.attributes, \
    ARRAY(SELECT m.list_id FROM contact_list_memberships m WHERE m.contact_id = c.id \
          ORDER BY m.list_id) AS list_ids, \
    c.deleted_at, c.created_at, c.updated_at";

/// The filter condition over `contacts c`, using parameters `$2` to `$7` (bind them with
/// [`bind_filter`]); `$1` is the account.
pub const FILTER_SQL: &str = "c.account_id = $1
    AND ($2::text IS NULL OR c.search LIKE '%' || $2 || '%' OR c.phone = $3)
    AND ($4::text IS NULL OR c.tags @> ARRAY[$4::text])
    AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM contact_list_memberships fm
                                      WHERE fm.list_id = $5 AND fm.contact_id = c.id))
    AND ($6::contact_status IS NULL OR c.status = $6)
    AND ($7::boolean IS NULL OR c.is_opted_out = $7)";

/// Binds the account and the filter as `$1` to `$7`.
pub fn bind_filter<'q, O>(
    query: QueryAs<'q, Postgres, O, PgArguments>,
    scope: AccountScope,
    f: &'q SearchFilter,
) -> QueryAs<'q, Postgres, O, PgArguments> {
    query
        .bind(scope.id())
        .bind(f.q_like.as_deref())
        .bind(f.q_phone.as_deref())
        .bind(f.tag.as_deref())
        .bind(f.list_id)
        .bind(f.status)
        .bind(f.opted_out)
}

/// The organisation's country, the default for national numbers.
pub async fn account_country(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<String> {
    Ok(
        sqlx::query_scalar("SELECT country FROM accounts WHERE id = $1")
            .bind(scope.id())
            .fetch_one(conn)
            .await?,
    )
}

fn duplicate_phone(err: sqlx::Error) -> Error {
    conflict_on_unique(
        err,
        "a contact with this phone number already exists (it may be in the trash)",
    )
}

/// Binds the account and `id` as `$1` and `$2`, then `f` as `$3` to `$17` in the order
/// [`insert`] and [`update`] share: the phone, its raw input, status, reason, operator and
/// country, then names, email, tags, notes, consent and attributes.
fn bind_fields<'q>(
    query: QueryScalar<'q, Postgres, Uuid, PgArguments>,
    scope: AccountScope,
    id: Uuid,
    f: &'q ContactFields,
) -> QueryScalar<'q, Postgres, Uuid, PgArguments> {
    let phone = f.phone.as_ref();
    query
        .bind(scope.id())
        .bind(id)
        .bind(phone.map(|(p, _)| p.phone.as_str()))
        .bind(phone.map(|(_, raw)| raw.as_str()))
        .bind(phone.map(|(p, _)| p.status))
        .bind(phone.and_then(|(p, _)| p.reason.as_deref()))
        .bind(phone.and_then(|(p, _)| p.mno_id))
        .bind(phone.and_then(|(p, _)| p.country))
        .bind(f.first_name.as_deref())
        .bind(f.last_name.as_deref())
        .bind(f.email.as_deref())
        .bind(f.tags.as_deref())
        .bind(f.notes.as_deref())
        .bind(f.consent_source.as_deref())
        .bind(f.consent_at)
        .bind(f.consent_note.as_deref())
        .bind(f.attributes.as_ref())
}

/// Inserts a contact; 409 when the account already has the number.
pub async fn insert(
    conn: &mut PgConnection,
    scope: AccountScope,
    f: &ContactFields,
) -> Result<Uuid> {
    if f.phone.is_none() {
        return Err(Error::field("phone", "is required"));
    }
    let sql = "INSERT INTO contacts (account_id, id, phone, phone_raw, status, invalid_reason,
                   mno_id, country, first_name, last_name, email, tags, notes, consent_source,
                   consent_at, consent_note, attributes)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, ''), NULLIF($10, ''),
                       NULLIF($11, ''), coalesce($12, '{}'), NULLIF($13, ''), NULLIF($14, ''),
                       $15, NULLIF($16, ''), coalesce($17, '{}'::jsonb))
               RETURNING id";
    bind_fields(sqlx::query_scalar(sql), scope, Uuid::now_v7(), f)
        .fetch_one(conn)
        .await
        .map_err(duplicate_phone)
}

/// One contact (active or trashed) of the account.
pub async fn get(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<Contact>> {
    let sql =
        format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.account_id = $1 AND c.id = $2");
    scoped::one(conn, sql, scope, id).await
}

/// Applies checked changes to an active contact; `None` when there is none.
pub async fn update(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
    f: &ContactFields,
) -> Result<Option<Uuid>> {
    let sql = "UPDATE contacts SET
            phone = coalesce($3, phone),
            phone_raw = coalesce($4, phone_raw),
            status = CASE WHEN $3::text IS NULL THEN status ELSE $5 END,
            invalid_reason = CASE WHEN $3::text IS NULL THEN invalid_reason ELSE $6 END,
            mno_id = CASE WHEN $3::text IS NULL THEN mno_id ELSE $7 END,
            country = CASE WHEN $3::text IS NULL THEN country ELSE $8 END,
            first_name = CASE WHEN $9::text IS NULL THEN first_name ELSE NULLIF($9, '') END,
            last_name = CASE WHEN $10::text IS NULL THEN last_name ELSE NULLIF($10, '') END,
            email = CASE WHEN $11::text IS NULL THEN email ELSE NULLIF($11, '') END,
            tags = coalesce($12, tags),
            notes = CASE WHEN $13::text IS NULL THEN notes ELSE NULLIF($13, '') END,
            consent_source = CASE WHEN $14::text IS NULL THEN consent_source
                                  ELSE NULLIF($14, '') END,
            consent_at = coalesce($15, consent_at),
            consent_note = CASE WHEN $16::text IS NULL THEN consent_note
                                ELSE NULLIF($16, '') END,
            attributes = coalesce($17, attributes),
            updated_at = now()
         WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL
         RETURNING id";
    bind_fields(sqlx::query_scalar(sql), scope, id, f)
        .fetch_optional(conn)
        .await
        .map_err(duplicate_phone)
}

/// A page of the account's active (`trash = false`) or trashed contacts matching `filter`,
/// newest first.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    filter: &SearchFilter,
    trash: bool,
    page: &PageRequest,
) -> Result<Vec<Contact>> {
    let sql = format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c
         WHERE {FILTER_SQL} AND (c.deleted_at IS NOT NULL) = $8 AND c.id < $9
         ORDER BY c.id DESC LIMIT $10"
    );
    Ok(
        bind_filter(sqlx::query_as(sqlx::AssertSqlSafe(sql)), scope, filter)
            .bind(trash)
            .bind(page.before_or_max())
            .bind(page.fetch_limit())
            .fetch_all(conn)
            .await?,
    )
}

/// Moves active contacts to the trash (locking them in id order); returns how many moved.
pub async fn trash(conn: &mut PgConnection, scope: AccountScope, ids: &[Uuid]) -> Result<u64> {
    lock(&mut *conn, scope, ids).await?;
    Ok(sqlx::query(
        "UPDATE contacts SET deleted_at = now(), updated_at = now()
         WHERE account_id = $1 AND id = ANY($2) AND deleted_at IS NULL",
    )
    .bind(scope.id())
    .bind(ids)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Restores trashed contacts; returns how many came back.
pub async fn restore(conn: &mut PgConnection, scope: AccountScope, ids: &[Uuid]) -> Result<u64> {
    lock(&mut *conn, scope, ids).await?;
    Ok(sqlx::query(
        "UPDATE contacts SET deleted_at = NULL, updated_at = now()
         WHERE account_id = $1 AND id = ANY($2) AND deleted_at IS NOT NULL",
    )
    .bind(scope.id())
    .bind(ids)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Locks the account's contacts among `ids` in id order, so that concurrent bulk edits take
/// their locks in one order (no deadlock); returns the ids that exist.
pub async fn lock(conn: &mut PgConnection, scope: AccountScope, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM contacts WHERE account_id = $1 AND id = ANY($2) ORDER BY id FOR NO KEY UPDATE",
    )
    .bind(scope.id())
    .bind(ids)
    .fetch_all(conn)
    .await?)
}

/// Sets or clears the opt-out flag of one active contact; `None` when there is none.
pub async fn set_opted_out(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
    opted_out: bool,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "UPDATE contacts SET is_opted_out = $3,
             opted_out_at = CASE WHEN $3 THEN coalesce(opted_out_at, now()) END,
             updated_at = now()
         WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL
         RETURNING phone",
    )
    .bind(scope.id())
    .bind(id)
    .bind(opted_out)
    .fetch_optional(conn)
    .await?)
}
