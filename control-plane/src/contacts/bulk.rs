//! Bulk actions on contacts chosen by ids or by a filter: tag, untag, add to / remove from a
//! list, move to the trash. One transaction per request; contacts are locked in id order so
//! concurrent bulk edits cannot deadlock.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::contacts::filter::{ContactFilter, SearchFilter};
use crate::contacts::lists;
use crate::contacts::store::{self, FILTER_SQL, bind_filter};
use crate::contacts::types::check_tags;
use crate::error::{Error, FieldError, Result};
use crate::http::reply::checked;
use crate::identity::scope::AccountScope;

/// Most contacts a filter may select in one bulk action; narrow the filter beyond that.
pub const MAX_FILTER_MATCHES: usize = 50_000;
/// Rows fetched to tell "at most the maximum" from "more".
const FILTER_FETCH: i64 = 50_001;

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    /// Add `tags`.
    Tag,
    /// Remove `tags`.
    Untag,
    /// Add to `list_id`.
    AddToList,
    /// Remove from `list_id`.
    RemoveFromList,
    /// Move to the trash.
    Delete,
}

/// A bulk action: exactly one of `ids` and `filter` chooses the contacts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// The action.
    pub action: BulkAction,
    /// Contact ids (1 to 1000).
    #[schema(min_items = 1, max_items = 1000)]
    pub ids: Option<Vec<Uuid>>,
    /// Active contacts matching this filter (at most 50,000).
    pub filter: Option<ContactFilter>,
    /// Tags for `tag` / `untag`.
    pub tags: Option<Vec<String>>,
    /// List for `add_to_list` / `remove_from_list`.
    pub list_id: Option<Uuid>,
}

/// What a bulk action did. Named `ContactBulkResult` in the OpenAPI document: the sender-ID
/// module has its own `BulkResult`, and component names must be unique.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = ContactBulkResult)]
pub struct BulkResult {
    /// Contacts the request selected (existing, active).
    pub matched: u64,
    /// Contacts (or memberships) actually changed.
    pub affected: u64,
}

/// A checked bulk request.
#[derive(Debug)]
pub struct CheckedBulk {
    action: BulkAction,
    ids: Option<Vec<Uuid>>,
    filter: Option<SearchFilter>,
    tags: Vec<String>,
    list_id: Option<Uuid>,
}

impl BulkRequest {
    /// Validates the request (`country` for a phone number in `filter.q`).
    pub fn check(&self, country: &str) -> Result<CheckedBulk> {
        let mut errors = Vec::new();
        match (&self.ids, &self.filter) {
            (Some(ids), None) if ids.is_empty() || ids.len() > lists::MAX_IDS => {
                errors.push(FieldError::new("ids", "must hold 1 to 1000 ids"));
            }
            (Some(_), None) | (None, Some(_)) => {}
            _ => errors.push(FieldError::new("ids", "give exactly one of ids and filter")),
        }
        let filter = match &self.filter {
            Some(f) => match f.check("filter.", country) {
                Ok(f) => Some(f),
                Err(Error::Validation(mut e)) => {
                    errors.append(&mut e);
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        let mut tags = Vec::new();
        match self.action {
            BulkAction::Tag | BulkAction::Untag => match &self.tags {
                Some(t) if !t.is_empty() => tags = check_tags("tags", t, &mut errors),
                _ => errors.push(FieldError::new("tags", "is required for this action")),
            },
            BulkAction::AddToList | BulkAction::RemoveFromList if self.list_id.is_none() => {
                errors.push(FieldError::new("list_id", "is required for this action"));
            }
            _ => {}
        }
        let bulk = CheckedBulk {
            action: self.action,
            ids: self.ids.clone(),
            filter,
            tags,
            list_id: self.list_id,
        };
        checked(bulk, errors)
    }
}

/// Runs a checked bulk action in the caller's transaction.
pub async fn run(
    conn: &mut PgConnection,
    scope: AccountScope,
    req: &CheckedBulk,
) -> Result<BulkResult> {
    let account_id = scope.id();
    if let Some(list_id) = req.list_id
        && lists::get(&mut *conn, scope, list_id).await?.is_none()
    {
        return Err(Error::field("list_id", "no such list"));
    }
    let ids = select(conn, scope, req).await?;
    let matched = ids.len() as u64;
    let affected = match req.action {
        BulkAction::Delete => store::trash(conn, scope, &ids).await?,
        BulkAction::Tag | BulkAction::Untag => {
            let sql = if req.action == BulkAction::Tag {
                "UPDATE contacts SET tags = ARRAY(SELECT DISTINCT unnest(tags || $3::text[])),
                     updated_at = now()
                 WHERE account_id = $1 AND id = ANY($2) AND NOT tags @> $3::text[]"
            } else {
                "UPDATE contacts SET tags = ARRAY(SELECT t FROM unnest(tags) t
                                                  WHERE t <> ALL($3::text[])),
                     updated_at = now()
                 WHERE account_id = $1 AND id = ANY($2) AND tags && $3::text[]"
            };
            sqlx::query(sql)
                .bind(account_id)
                .bind(&ids)
                .bind(&req.tags)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        }
        BulkAction::AddToList => {
            let list = [req.list_id.unwrap_or_default()];
            lists::add_members(&mut *conn, scope, &list, &ids).await?
        }
        BulkAction::RemoveFromList => {
            let list = req.list_id.unwrap_or_default();
            lists::remove_members(&mut *conn, scope, list, &ids).await?
        }
    };
    Ok(BulkResult { matched, affected })
}

/// The active contacts the request chooses. For actions that update the contacts (tag,
/// untag, trash) they are locked in id order, so a concurrent bulk edit of the same contacts
/// waits rather than deadlocks. Membership actions take no contact lock here: the membership
/// triggers take theirs, and holding one while waiting on another transaction's membership
/// row would deadlock with that transaction's trigger.
async fn select(
    conn: &mut PgConnection,
    scope: AccountScope,
    req: &CheckedBulk,
) -> Result<Vec<Uuid>> {
    let account_id = scope.id();
    let lock = matches!(
        req.action,
        BulkAction::Tag | BulkAction::Untag | BulkAction::Delete
    );
    if let Some(ids) = &req.ids {
        let ids = if lock {
            store::lock(&mut *conn, scope, ids).await?
        } else {
            ids.clone()
        };
        let active: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM contacts
             WHERE account_id = $1 AND id = ANY($2) AND deleted_at IS NULL ORDER BY id",
        )
        .bind(account_id)
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?;
        return Ok(active);
    }
    let filter = req.filter.clone().unwrap_or_default();
    let sql = format!(
        "SELECT c.id FROM contacts c WHERE {FILTER_SQL} AND c.deleted_at IS NULL
         ORDER BY c.id LIMIT $8 {}",
        if lock { "FOR NO KEY UPDATE OF c" } else { "" }
    );
    let rows: Vec<(Uuid,)> = bind_filter(sqlx::query_as(sqlx::AssertSqlSafe(sql)), scope, &filter)
        .bind(FILTER_FETCH)
        .fetch_all(&mut *conn)
        .await?;
    if rows.len() > MAX_FILTER_MATCHES {
        return Err(Error::field(
            "filter",
            "matches more than 50000 contacts: narrow it",
        ));
    }
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
