//! The commit: every valid row of an import lands in the organisation's contacts and in one
//! list, in ONE transaction and a few set-based statements — either the whole import lands or
//! none of it.
//!
//! Exactly-once: a transaction-scoped advisory lock on the import makes concurrent commits of
//! the same import answer 409 instead of racing, and a completed import answers with its
//! result without writing again, so a retried commit never imports twice. The `importing`
//! status is set outside the transaction so progress is visible while it runs; if the process
//! dies mid-commit the transaction rolls back and the next commit (the lock is free again)
//! picks the import up from `importing`.

use crate::identity::scope::AccountScope;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::contacts::lists;
use crate::error::{Error, Result};
use crate::http::reply::found;
use crate::imports::store;
use crate::imports::types::{CommitImport, Import, ImportStatus};
use crate::types::BoundedText;

/// Staged rows per membership statement.
const MEMBERSHIP_SLICE: usize = 5_000;

/// Where the rows go.
#[derive(Debug)]
pub enum Target {
    /// An existing list of the account.
    List(Uuid),
    /// A new list with this name.
    NewList(String),
}

impl Target {
    /// Validates the request body: exactly one of `list_id` and `list_name`.
    pub fn from_request(body: CommitImport) -> Result<Target> {
        match (body.list_id, body.list_name) {
            (Some(id), None) => Ok(Target::List(id)),
            (None, Some(name)) => BoundedText::<100>::parse(&name)
                .map(|name| Target::NewList(name.as_str().to_owned()))
                .ok_or_else(|| Error::field("list_name", "must be 1 to 100 characters")),
            (Some(_), Some(_)) => Err(Error::field(
                "list_name",
                "give either list_id or list_name, not both",
            )),
            (None, None) => Err(Error::field(
                "list_id",
                "give the list to import into: list_id, or list_name for a new list",
            )),
        }
    }
}

/// Commits import `id` of `account_id` into `target`; returns the completed import.
/// Runs with the bulk `statement_timeout` (`bulk_ms`); dropping the future (request timeout,
/// client gone) cancels the running statement, which releases the import's lock.
pub async fn commit(
    pool: &PgPool,
    bulk_ms: u64,
    scope: AccountScope,
    id: Uuid,
    target: Target,
) -> Result<Import> {
    let (mut tx, guard) = crate::db::begin_bulk(pool, bulk_ms).await?;
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1::text, 8))")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    if !locked {
        guard.disarm();
        tx.rollback().await?;
        return Err(Error::Conflict("the import is being committed"));
    }
    let claimed = sqlx::query(
        "UPDATE contact_imports SET status = 'importing', updated_at = now()
         WHERE account_id = $1 AND id = $2 AND status IN ('validated', 'importing')",
    )
    .bind(scope.id())
    .bind(id)
    .execute(pool)
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        // Roll back now rather than on drop: a dropped transaction's ROLLBACK is sent later,
        // and until then it still holds the import's advisory lock, so an immediate retry
        // would see "the import is being committed".
        guard.disarm();
        tx.rollback().await?;
        let import = found(store::get(pool, scope, id).await?)?;
        return match import.status {
            ImportStatus::Completed => Ok(import),
            ImportStatus::Validating | ImportStatus::Uploaded => {
                Err(Error::Conflict("the import is still being uploaded"))
            }
            ImportStatus::Failed => {
                Err(Error::Conflict("the upload failed: upload the file again"))
            }
            _ => Err(Error::Conflict("the import was cancelled")),
        };
    }
    let written = write(&mut tx, scope, id, &target).await;
    guard.disarm();
    match written {
        Ok(()) => {
            tx.commit().await?;
            found(store::get(pool, scope, id).await?)
        }
        Err(err) => {
            drop(tx);
            sqlx::query(
                "UPDATE contact_imports SET status = 'validated', updated_at = now()
                 WHERE id = $1 AND status = 'importing'",
            )
            .bind(id)
            .execute(pool)
            .await?;
            Err(err)
        }
    }
}

async fn write(
    conn: &mut PgConnection,
    scope: AccountScope,
    id: Uuid,
    target: &Target,
) -> Result<()> {
    let list_id = match target {
        Target::List(list_id) => {
            let exists: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM contact_lists WHERE account_id = $1 AND id = $2 FOR SHARE",
            )
            .bind(scope.id())
            .bind(list_id)
            .fetch_optional(&mut *conn)
            .await?;
            if exists.is_none() {
                return Err(Error::field("list_id", "the organisation has no such list"));
            }
            *list_id
        }
        Target::NewList(name) => lists::insert(&mut *conn, scope, name, None).await?.id,
    };
    // Counts as of this transaction (contacts may have been added since the dry run).
    store::analyse(&mut *conn, scope, id).await?;
    // The DISTINCT ON sort of a large file fits in memory instead of spilling to disk.
    sqlx::query("SET LOCAL work_mem = '64MB'")
        .execute(&mut *conn)
        .await?;
    let created: i64 = sqlx::query_scalar(
        "WITH ins AS (
            INSERT INTO contacts (id, account_id, phone, phone_raw, status, mno_id, country,
                                  first_name, last_name, email, tags, notes, attributes,
                                  consent_source, consent_at)
            SELECT DISTINCT ON (phone) contact_id, $1, phone, phone_raw, 'valid', mno_id,
                   country, first_name, last_name, email, tags, notes, attributes,
                   'CSV import', now()
              FROM contact_import_rows
             WHERE import_id = $2 AND reason IS NULL
             ORDER BY phone, row_no
            ON CONFLICT (account_id, phone) DO NOTHING
            RETURNING 1)
         SELECT count(*) FROM ins",
    )
    .bind(scope.id())
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    // Memberships in slices of staged rows, so each statement (and the contacts module's
    // count trigger, which gets the statement's rows as arrays) stays bounded.
    let last_row: i32 = sqlx::query_scalar(
        "SELECT coalesce(max(row_no), 0) FROM contact_import_rows WHERE import_id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    let mut linked: i64 = 0;
    for from in (0..last_row).step_by(MEMBERSHIP_SLICE) {
        linked += sqlx::query_scalar::<_, i64>(
            "WITH ins AS (
                INSERT INTO contact_list_memberships (list_id, contact_id, account_id)
                SELECT $3, c.id, $1
                  FROM (SELECT DISTINCT phone FROM contact_import_rows
                         WHERE import_id = $2 AND reason IS NULL
                           AND row_no > $4 AND row_no <= $4 + $5) r
                 -- One probe of the (account_id, phone) unique index per number. LIMIT keeps
                 -- the planner from turning this into a join planned from stale statistics
                 -- (neither the staged rows nor the contacts just inserted are analysed yet),
                 -- and the trash test stays outside so the partial index on live contacts
                 -- (a scan of the whole account per probe) is not chosen.
                 CROSS JOIN LATERAL (SELECT id, deleted_at FROM contacts c
                                      WHERE c.account_id = $1 AND c.phone = r.phone
                                      LIMIT 1) c
                 WHERE c.deleted_at IS NULL
                ON CONFLICT DO NOTHING
                RETURNING 1)
             SELECT count(*) FROM ins",
        )
        .bind(scope.id())
        .bind(id)
        .bind(list_id)
        .bind(from)
        .bind(MEMBERSHIP_SLICE as i32)
        .fetch_one(&mut *conn)
        .await?;
    }
    sqlx::query(
        "UPDATE contact_imports SET status = 'completed', list_id = $2,
             created_contacts = $3, linked_contacts = $4, committed_at = now(),
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(list_id)
    .bind(i32::try_from(created).unwrap_or(i32::MAX))
    .bind(i32::try_from(linked).unwrap_or(i32::MAX))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
