//! SQL of the kill switch: `sending_halts` rows, one per account or one for the platform
//! (`account_id` NULL), active until lifted. [`HALTED`] is part of the one send gate
//! ([`crate::accounts::gate`]): the dispatcher puts it in its claims, the outbox publisher reads
//! the held accounts at the start of each pass. Either way a halt takes effect on the next pass.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::campaigns::halts::types::Halt;
use crate::error::{Result, conflict_on_unique};

/// True when sending is halted for the account in column `$ACCOUNT` (replace it with the
/// column, e.g. `k.account_id`) or for the whole platform.
pub const HALTED: &str = "EXISTS (SELECT 1 FROM sending_halts h WHERE h.lifted_at IS NULL
    AND (h.account_id IS NULL OR h.account_id = $ACCOUNT))";

/// [`HALTED`] for the account column `column`.
pub fn halted(column: &str) -> String {
    HALTED.replace("$ACCOUNT", column)
}

const COLUMNS: &str = "id, account_id, reason, staff_id, created_at, lifted_at, lifted_by";

/// Starts a halt for `account_id` (None: the platform); 409 when one is active already.
pub async fn start(
    conn: impl PgExecutor<'_>,
    account_id: Option<Uuid>,
    reason: &str,
    staff_id: Uuid,
) -> Result<Halt> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO sending_halts (id, account_id, reason, staff_id) VALUES ($1, $2, $3, $4)
         RETURNING {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(account_id)
    .bind(reason)
    .bind(staff_id)
    .fetch_one(conn)
    .await
    .map_err(|e| conflict_on_unique(e, "sending is already halted there"))
}

/// Lifts the active halt of `account_id` (None: the platform's); `None` when there is none.
pub async fn lift(
    conn: impl PgExecutor<'_>,
    account_id: Option<Uuid>,
    staff_id: Uuid,
) -> Result<Option<Halt>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE sending_halts SET lifted_at = now(), lifted_by = $2
         WHERE lifted_at IS NULL AND account_id IS NOT DISTINCT FROM $1
         RETURNING {COLUMNS}"
    )))
    .bind(account_id)
    .bind(staff_id)
    .fetch_optional(conn)
    .await?)
}

/// Halts in force, newest first.
pub async fn active(conn: impl PgExecutor<'_>) -> Result<Vec<Halt>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM sending_halts WHERE lifted_at IS NULL ORDER BY id DESC"
    )))
    .fetch_all(conn)
    .await?)
}
