//! Contact lists: types, validation and SQL. Membership counts are kept by the database
//! (triggers in `migrations/0007_contacts.sql`), so every writer keeps them right.

use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{Error, FieldError, Result, conflict_on_unique};
use crate::identity::scope::AccountScope;

/// Most contact ids in one add/remove request.
pub const MAX_IDS: usize = 1000;

/// A contact list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct ContactList {
    /// Id (time-ordered).
    pub id: Uuid,
    /// Name, unique in the organisation (case-insensitively).
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Members not in the trash.
    pub total_count: i32,
    /// Of those, with a valid number.
    pub valid_count: i32,
    /// Of those, with an invalid number.
    pub invalid_count: i32,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change of name or description.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A new list, or changes to one (absent fields stay; an empty description clears it).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInput {
    /// Name (1–100 characters); required when creating.
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Description (at most 1000 characters).
    #[schema(max_length = 1000)]
    pub description: Option<String>,
}

impl ListInput {
    /// Validates; `creating` makes the name required.
    pub fn check(&self, creating: bool) -> Result<(Option<String>, Option<String>)> {
        let mut errors = Vec::new();
        let name = self.name.as_deref().map(str::trim);
        match name {
            None if creating => errors.push(FieldError::new("name", "is required")),
            Some(n) if n.is_empty() || n.chars().count() > 100 => {
                errors.push(FieldError::new("name", "must be 1 to 100 characters"));
            }
            _ => {}
        }
        let description = self.description.as_deref().map(str::trim);
        if description.is_some_and(|d| d.chars().count() > 1000) {
            errors.push(FieldError::new(
                "description",
                "must be at most 1000 characters",
            ));
        }
        if errors.is_empty() {
            Ok((name.map(str::to_owned), description.map(str::to_owned)))
        } else {
            Err(Error::Validation(errors))
        }
    }
}

/// Contacts to add to or remove from a list.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberIds {
    /// Contact ids (1 to 1000).
    #[serde(default)]
    #[schema(min_items = 1, max_items = 1000)]
    pub contact_ids: Vec<Uuid>,
}

impl MemberIds {
    /// Validates the id count.
    pub fn check(&self) -> Result<&[Uuid]> {
        if self.contact_ids.is_empty() || self.contact_ids.len() > MAX_IDS {
            return Err(Error::field("contact_ids", "must hold 1 to 1000 ids"));
        }
        Ok(&self.contact_ids)
    }
}

/// How many memberships a request changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Affected {
    /// Rows changed (ids that were already in the wanted state do not count).
    pub affected: u64,
}

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
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The account's lists below `before`, newest first, optionally by name substring.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    name_like: Option<&str>,
    before: Uuid,
    limit: i64,
) -> Result<Vec<ContactList>> {
    let sql = format!(
        "SELECT {LIST_COLUMNS} FROM contact_lists
         WHERE account_id = $1 AND id < $2
           AND ($3::text IS NULL OR lower(name) LIKE '%' || $3 || '%')
         ORDER BY id DESC LIMIT $4"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(before)
        .bind(name_like)
        .bind(limit)
        .fetch_all(conn)
        .await?)
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
    Ok(
        sqlx::query("DELETE FROM contact_lists WHERE account_id = $1 AND id = $2")
            .bind(scope.id())
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
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
