//! The CRM's state changes (SQL): suspend and reactivate an organisation, delete (remove and
//! anonymise) one, disable and re-enable a user. Each takes the caller's connection: the
//! handler runs them, the notifications and the audit row in one transaction, so a failure
//! anywhere leaves nothing changed.

use serde_json::{Value, json};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::types::AccountStatus;
use crate::error::Result;

/// The flag set on outbox rows held by a suspension.
pub const HELD_SUSPENDED: &str = "account_suspended";

/// An organisation's row, locked for the rest of the transaction.
#[derive(Debug, sqlx::FromRow)]
pub struct LockedOrg {
    /// Name.
    pub name: String,
    /// Status.
    pub status: AccountStatus,
    /// Deleted already.
    pub deleted_at: Option<OffsetDateTime>,
    /// Credits held for sends in flight.
    pub reserved: rust_decimal::Decimal,
}

/// Locks the organisation (`None` when unknown).
pub async fn lock_org(conn: &mut PgConnection, id: Uuid) -> Result<Option<LockedOrg>> {
    Ok(sqlx::query_as(
        "SELECT a.name, a.status, a.deleted_at,
                coalesce((SELECT c.reserved_balance FROM credits c WHERE c.account_id = a.id), 0)
                    AS reserved
           FROM accounts a WHERE a.id = $1 FOR UPDATE OF a",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Suspends: status, reason, credits frozen, its unpublished messages flagged as held.
/// Returns how many messages are held.
pub async fn suspend(conn: &mut PgConnection, id: Uuid, reason: &str) -> Result<u64> {
    sqlx::query(
        "UPDATE accounts SET status = 'suspended', suspended_at = now(), suspended_reason = $2,
                updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE credits SET frozen_at = now(), updated_at = now() WHERE account_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let held = sqlx::query(
        "UPDATE message_outbox o SET held_reason = $2 FROM messages m
          WHERE m.id = o.message_id AND m.account_id = $1 AND o.leased_at IS NULL",
    )
    .bind(id)
    .bind(HELD_SUSPENDED)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(held)
}

/// Reactivates: active again, credits thawed, held messages released to the publisher.
/// Returns how many messages were released.
pub async fn reactivate(conn: &mut PgConnection, id: Uuid) -> Result<u64> {
    sqlx::query(
        "UPDATE accounts SET status = 'active', suspended_at = NULL, suspended_reason = NULL,
                updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE credits SET frozen_at = NULL, updated_at = now() WHERE account_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let released = sqlx::query(
        "UPDATE message_outbox o SET held_reason = NULL FROM messages m
          WHERE m.id = o.message_id AND m.account_id = $1 AND o.held_reason = $2",
    )
    .bind(id)
    .bind(HELD_SUSPENDED)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(released)
}

/// The organisation's data a deletion removes or anonymises, in order. Messages are
/// append-only for the service role (no DELETE grant): their text, destination and reference
/// are blanked instead; campaigns are soft-deleted with their text blanked (deleting them
/// would cascade to the messages). The ledger (`credits`, `credit_transactions`), the message
/// events, inbound messages and rollups (append-only) and the audit log stay.
const ANONYMISED: [(&str, &str); 2] = [
    (
        "messages_anonymised",
        "UPDATE messages SET body = '[deleted]', destination = '+10000000000',
                client_reference = NULL, updated_at = now() WHERE account_id = $1",
    ),
    (
        "campaigns",
        "UPDATE campaigns SET name = '[deleted]', message = '[deleted]', audience_filter = NULL,
                deleted_at = coalesce(deleted_at, now()) WHERE account_id = $1",
    ),
];

/// The tables whose rows of the organisation are then deleted, in this order.
const DELETED: [&str; 11] = [
    "contact_imports",
    "contact_lists",
    "contacts",
    "suppressions",
    "sender_ids",
    "notifications",
    "invitations",
    "api_keys",
    "idempotency_keys",
    "account_budgets",
    "account_members",
];

/// Removes the organisation's data, revokes the sessions acting for it and anonymises its
/// row (kept, suspended, for the ledger and the audit log). Returns rows removed per table.
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<Value> {
    let deletes = DELETED.map(|t| (t, format!("DELETE FROM {t} WHERE account_id = $1")));
    let mut removed = serde_json::Map::new();
    for (table, sql) in ANONYMISED
        .map(|(t, sql)| (t, sql.to_owned()))
        .into_iter()
        .chain(deletes)
    {
        let n = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        removed.insert(table.to_owned(), json!(n));
    }
    let sessions = sqlx::query(
        "UPDATE sessions SET revoked_at = now(), revoke_reason = 'account_deleted'
          WHERE account_id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    removed.insert("sessions_revoked".to_owned(), json!(sessions));
    sqlx::query(
        "UPDATE accounts SET name = 'Deleted organisation ' || left(id::text, 8),
                address_line1 = NULL, address_line2 = NULL, city = NULL, state = NULL,
                postal_code = NULL, status = 'suspended', suspended_at = coalesce(suspended_at, now()),
                suspended_reason = 'deleted', deleted_at = now(), updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE credits SET frozen_at = coalesce(frozen_at, now()), updated_at = now()
          WHERE account_id = $1",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(Value::Object(removed))
}

/// Sets whether a user may sign in; `None` when unknown, else whether it changed.
pub async fn set_user_active(
    conn: &mut PgConnection,
    user_id: Uuid,
    active: bool,
) -> Result<Option<bool>> {
    let before: Option<bool> =
        sqlx::query_scalar("SELECT is_active FROM users WHERE id = $1 FOR UPDATE")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(before) = before else {
        return Ok(None);
    };
    sqlx::query("UPDATE users SET is_active = $2, updated_at = now() WHERE id = $1")
        .bind(user_id)
        .bind(active)
        .execute(&mut *conn)
        .await?;
    Ok(Some(before != active))
}
