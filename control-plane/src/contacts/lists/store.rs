//! Contact lists' SQL. Membership counts are kept by the database
//! (triggers in `migrations/0007_contacts.sql`), so every writer keeps them right.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::{Error, Result, conflict_on_unique};
use crate::http::pagination::PageRequest;
use crate::identity::scope::AccountScope;
use crate::scoped;

use super::types::*;

const LIST_COLUMNS: &str =
    "id, name, description, total_count, valid_count, invalid_count, created_at, updated_at";

fn duplicate_name(err: sqlx::Error) -> Error {
    conflict_on_unique(err, "a list with this name already exists")
}

/// Creates a list.
pub async fn insert(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    name: &str,
    description: Option<&str>,
) -> Result<ContactList> {
    let sql = format!(
        "INSERT INTO contact_lists (id, account_id, name, description)
         VALUES ($1, $2, $3, NULLIF($4, '')) RETURNING {LIST_COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::now_v7())
        .bind(scope.id())
        .bind(name)
        .bind(description)
        .fetch_one(conn)
        .await
        .map_err(duplicate_name)
}

/// One list of the account.
pub async fn get(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<ContactList>> {
    let sql = format!("SELECT {LIST_COLUMNS} FROM contact_lists WHERE account_id = $1 AND id = $2");
    scoped::one(conn, sql, scope, id).await
}

/// A page of the account's lists, newest first, optionally by name substring.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    name_like: Option<&str>,
    page: &PageRequest,
) -> Result<Vec<ContactList>> {
    let sql = format!(
        "SELECT {LIST_COLUMNS} FROM contact_lists
         WHERE account_id = $1 AND id < $2
           AND ($3::text IS NULL OR lower(name) LIKE '%' || $3 || '%')
         ORDER BY id DESC LIMIT $4"
    );
    scoped::page(conn, sql, scope, page, |q| q.bind(name_like)).await
}

/// Renames or re-describes a list.
pub async fn update(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<Option<ContactList>> {
    let sql = format!(
        "UPDATE contact_lists SET name = coalesce($3, name),
             description = CASE WHEN $4::text IS NULL THEN description ELSE NULLIF($4, '') END,
             updated_at = now()
         WHERE account_id = $1 AND id = $2 RETURNING {LIST_COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(id)
        .bind(name)
        .bind(description)
        .fetch_optional(conn)
        .await
        .map_err(duplicate_name)
}

/// Deletes a list (its contacts stay); the memberships go by cascade, which the count
/// trigger skips (the list is gone), so no contact lock is taken after the list's.
pub async fn delete(conn: impl PgExecutor<'_>, scope: AccountScope, id: Uuid) -> Result<bool> {
    let sql = "DELETE FROM contact_lists WHERE account_id = $1 AND id = $2";
    scoped::hit_one(conn, sql, scope, id).await
}

/// Adds the account's contacts among `contact_ids` (trashed ones excluded) to the lists;
/// returns how many memberships were new. Lists must belong to the account (checked by the
/// caller; the composite foreign key refuses anything else).
pub async fn add_members(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    list_ids: &[Uuid],
    contact_ids: &[Uuid],
) -> Result<u64> {
    Ok(sqlx::query(
        "INSERT INTO contact_list_memberships (list_id, contact_id, account_id)
         SELECT l.id, c.id, $1 FROM contacts c CROSS JOIN contact_lists l
          WHERE c.account_id = $1 AND c.id = ANY($3) AND c.deleted_at IS NULL
            AND l.account_id = $1 AND l.id = ANY($2)
          ORDER BY l.id, c.id
         ON CONFLICT DO NOTHING",
    )
    .bind(scope.id())
    .bind(list_ids)
    .bind(contact_ids)
    .execute(conn)
    .await
    .map_err(|err| match &err {
        // The list was deleted while the members were being added.
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => Error::NotFound,
        _ => Error::Database(err),
    })?
    .rows_affected())
}

/// Removes contacts from a list; returns how many were members.
pub async fn remove_members(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    list_id: Uuid,
    contact_ids: &[Uuid],
) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM contact_list_memberships
         WHERE account_id = $1 AND list_id = $2 AND contact_id = ANY($3)",
    )
    .bind(scope.id())
    .bind(list_id)
    .bind(contact_ids)
    .execute(conn)
    .await?
    .rows_affected())
}

/// The ids among `list_ids` that are not the account's lists.
pub async fn missing_lists(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    list_ids: &[Uuid],
) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT w.id FROM unnest($2::uuid[]) AS w (id)
         WHERE NOT EXISTS (SELECT 1 FROM contact_lists l WHERE l.account_id = $1 AND l.id = w.id)",
    )
    .bind(scope.id())
    .bind(list_ids)
    .fetch_all(conn)
    .await?)
}
