//! The account-level suppression list and opt-out: numbers an organisation must never send
//! to, whether or not a contact holds them. A STOP reply ([`opt_out_number`]) marks the
//! number's contacts opted out and suppresses the number, a START reply ([`opt_in_number`])
//! lifts it; campaigns read
//! [`sendable_contacts`], which excludes both.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::contacts::phone::{self, ContactStatus};
use crate::contacts::types::Contact;
use crate::error::{Error, Result, conflict_on_unique};
use crate::http::pagination::PageRequest;
use crate::identity::scope::AccountScope;
use crate::scoped;

use super::types::*;

const COLUMNS: &str = "id, phone, reason, source, created_by, created_at";

/// Suppresses a number; 409 when it already is.
pub async fn insert(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    e164: &str,
    reason: Option<&str>,
    source: SuppressionSource,
    created_by: Option<Uuid>,
) -> Result<Suppression> {
    let sql = format!(
        "INSERT INTO suppressions (id, account_id, phone, reason, source, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::now_v7())
        .bind(scope.id())
        .bind(e164)
        .bind(reason)
        .bind(source)
        .bind(created_by)
        .fetch_one(conn)
        .await
        .map_err(|e| conflict_on_unique(e, "this number is already suppressed"))
}

/// A page of the account's suppressions, newest first; `phone` narrows to one number.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    phone: Option<&str>,
    page: &PageRequest,
) -> Result<Vec<Suppression>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM suppressions
         WHERE account_id = $1 AND id < $2 AND ($3::text IS NULL OR phone = $3)
         ORDER BY id DESC LIMIT $4"
    );
    scoped::page(conn, sql, scope, page, |q| q.bind(phone)).await
}

/// Removes a suppression; false when the account has no such row.
pub async fn delete(conn: impl PgExecutor<'_>, scope: AccountScope, id: Uuid) -> Result<bool> {
    let sql = "DELETE FROM suppressions WHERE account_id = $1 AND id = $2";
    scoped::hit_one(conn, sql, scope, id).await
}

/// Removes the STOP suppression of a number (a contact opted back in), leaving manual and
/// imported ones.
pub async fn delete_stop(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    e164: &str,
) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM suppressions WHERE account_id = $1 AND phone = $2 AND source = 'stop'",
    )
    .bind(scope.id())
    .bind(e164)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Opts a number out for an account (a STOP reply, or any other source): every contact with
/// that number (trashed ones too) is marked opted out and the number is suppressed. Idempotent:
/// repeating it changes nothing. Returns how many contacts were newly marked.
pub async fn opt_out_number(
    conn: &mut PgConnection,
    scope: AccountScope,
    e164: &str,
    source: SuppressionSource,
) -> Result<u64> {
    let valid = phone::normalise(e164, "KE")
        .is_some_and(|n| n.status == ContactStatus::Valid && n.phone == e164);
    if !valid {
        return Err(Error::field("phone", "must be a valid E.164 mobile number"));
    }
    let marked = sqlx::query(
        "UPDATE contacts SET is_opted_out = true, opted_out_at = now(), updated_at = now()
         WHERE account_id = $1 AND phone = $2 AND NOT is_opted_out",
    )
    .bind(scope.id())
    .bind(e164)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query(
        "INSERT INTO suppressions (id, account_id, phone, reason, source)
         VALUES ($1, $2, $3, 'Opted out', $4) ON CONFLICT (account_id, phone) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(scope.id())
    .bind(e164)
    .bind(source)
    .execute(&mut *conn)
    .await?;
    Ok(marked)
}

/// Opts a number back in for an account (a START reply): its contacts' opt-out flag is
/// cleared and its STOP suppression lifted; manual and imported suppressions stay. Returns
/// how many contacts were opted back in.
pub async fn opt_in_number(
    conn: &mut PgConnection,
    scope: AccountScope,
    e164: &str,
) -> Result<u64> {
    let cleared = sqlx::query(
        "UPDATE contacts SET is_opted_out = false, opted_out_at = NULL, updated_at = now()
         WHERE account_id = $1 AND phone = $2 AND is_opted_out",
    )
    .bind(scope.id())
    .bind(e164)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    delete_stop(&mut *conn, scope, e164).await?;
    Ok(cleared)
}

/// The contacts of a list a send may reach: not trashed, valid, not opted out and not
/// suppressed (the `sendable_contacts` SQL function), oldest first.
pub async fn sendable_contacts(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    list_id: Uuid,
) -> Result<Vec<Contact>> {
    let sql = format!(
        "SELECT {} FROM sendable_contacts($1, $2) c ORDER BY c.id",
        crate::contacts::store::CONTACT_COLUMNS
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(list_id)
        .fetch_all(conn)
        .await?)
}
