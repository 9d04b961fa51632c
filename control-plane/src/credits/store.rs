//! Reads of the credits module (balance, ledger pages, the invariant check) and the settings
//! that are not movements (threshold, billing mode, credit limit). Movements are in
//! [`crate::credits::ledger`].

use crate::identity::scope::AccountScope;
use rust_decimal::Decimal;
use sqlx::{Connection, PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::credits::alert;
use crate::credits::ledger::{Locked, lock};
use crate::credits::types::{Balance, BillingMode, CreditTransaction, TxType};
use crate::error::{Error, Result};
use crate::http::pagination::PageRequest;

const BALANCE_COLUMNS: &str = "account_id, balance, reserved_balance AS reserved,
    balance + CASE WHEN billing_mode = 'postpaid' THEN credit_limit ELSE 0 END AS available,
    billing_mode, credit_limit, currency, low_credit_threshold, low_credit_notified_at, updated_at";

/// An account's balance; `None` for an unknown account.
pub async fn balance(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<Option<Balance>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BALANCE_COLUMNS} FROM credits WHERE account_id = $1"
    )))
    .bind(scope.id())
    .fetch_optional(conn)
    .await?)
}

/// Filters of a ledger page.
#[derive(Debug, Clone, Default)]
pub struct LedgerFilter {
    /// One account, or every account (staff view) when `None`.
    pub scope: Option<AccountScope>,
    /// One kind.
    pub kind: Option<TxType>,
    /// Created at or after.
    pub from: Option<OffsetDateTime>,
    /// Created before.
    pub to: Option<OffsetDateTime>,
}

/// A page of the ledger rows matching `filter` applied before the page's cursor row, newest
/// first in order of application (`seq`).
pub async fn history(
    conn: impl PgExecutor<'_>,
    filter: &LedgerFilter,
    page: &PageRequest,
) -> Result<Vec<CreditTransaction>> {
    Ok(sqlx::query_as(
        "SELECT id, seq, account_id, type, amount, reserved_delta, balance_after, reserved_after,
                reference, actor_type, actor_id, reason, metadata, created_at
         FROM credit_transactions
         WHERE ($1::uuid IS NULL OR account_id = $1)
           AND ($2::credit_tx_type IS NULL OR type = $2)
           AND ($3::timestamptz IS NULL OR created_at >= $3)
           AND ($4::timestamptz IS NULL OR created_at < $4)
           AND seq < coalesce((SELECT c.seq FROM credit_transactions c WHERE c.id = $5),
                              9223372036854775807)
         ORDER BY seq DESC LIMIT $6",
    )
    .bind(filter.scope.map(AccountScope::id))
    .bind(filter.kind)
    .bind(filter.from)
    .bind(filter.to)
    .bind(page.before_or_max())
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?)
}

/// Stores the settings of `new` (threshold, billing mode, credit limit; the credits row
/// locked by the caller), raising the low-credit alert or re-arming it as they now require,
/// and answers the balance.
async fn save_settings(
    tx: &mut PgConnection,
    scope: AccountScope,
    new: &Locked,
    base_url: &str,
) -> Result<Balance> {
    let available = new.available_at(new.balance);
    let threshold = new.low_credit_threshold;
    let notified = alert::settle(
        &mut *tx,
        scope.id(),
        available,
        threshold,
        new.notified,
        base_url,
    )
    .await?;
    sqlx::query(
        "UPDATE credits SET low_credit_threshold = $2, billing_mode = $3, credit_limit = $4,
                updated_at = now(),
                low_credit_notified_at = CASE WHEN $5 THEN coalesce(low_credit_notified_at, now()) END
         WHERE account_id = $1",
    )
    .bind(scope.id())
    .bind(threshold)
    .bind(new.billing_mode)
    .bind(new.credit_limit)
    .bind(notified)
    .execute(&mut *tx)
    .await?;
    balance(&mut *tx, scope).await?.ok_or(Error::NotFound)
}

/// Sets (or clears) the low-credit threshold, raising the alert at once if credit is already
/// below the new threshold and no notice stands.
pub async fn set_threshold(
    conn: &mut PgConnection,
    scope: AccountScope,
    threshold: Option<Decimal>,
    base_url: &str,
) -> Result<Balance> {
    let mut tx = conn.begin().await?;
    let locked = lock(&mut tx, scope.id()).await?;
    let new = Locked {
        low_credit_threshold: threshold,
        ..locked
    };
    let out = save_settings(&mut tx, scope, &new, base_url).await?;
    tx.commit().await?;
    Ok(out)
}

/// Sets the billing mode and credit limit. Switching to prepaid needs a balance of at least
/// zero (409 otherwise). Lowering a limit below current use is allowed: no new reservation
/// fits until the balance recovers.
pub async fn set_billing(
    conn: &mut PgConnection,
    scope: AccountScope,
    mode: BillingMode,
    credit_limit: Decimal,
    base_url: &str,
) -> Result<(Balance, Balance)> {
    let mut tx = conn.begin().await?;
    let locked = lock(&mut tx, scope.id()).await?;
    let before = balance(&mut *tx, scope).await?.ok_or(Error::NotFound)?;
    if mode == BillingMode::Prepaid && locked.balance < Decimal::ZERO {
        tx.rollback().await?; // Release the row lock now, not at the connection's next use.
        return Err(Error::Conflict(
            "the balance is negative: settle it before switching to prepaid",
        ));
    }
    // A limit below what is already owed would leave the account over its limit with sends
    // failing for no visible reason: refuse it, naming the smallest acceptable limit.
    if mode == BillingMode::Postpaid && locked.balance + credit_limit < Decimal::ZERO {
        tx.rollback().await?;
        let debt = (-locked.balance).normalize();
        return Err(Error::Validation(vec![crate::error::FieldError::new(
            "credit_limit",
            format!("is below the current debt of {debt}: settle it first or set at least {debt}"),
        )]));
    }
    let new = Locked {
        billing_mode: mode,
        credit_limit,
        ..locked
    };
    let after = save_settings(&mut tx, scope, &new, base_url).await?;
    tx.commit().await?;
    Ok((before, after))
}

/// The ledger invariant for one account, as SQL: `balance = sum(amount)` and
/// `reserved = sum(reserved_delta)`. True when both hold.
pub async fn verify(conn: impl PgExecutor<'_>, account_id: Uuid) -> Result<bool> {
    sqlx::query_scalar(
        "SELECT c.balance = coalesce(sum(t.amount), 0)
            AND c.reserved_balance = coalesce(sum(t.reserved_delta), 0)
         FROM credits c LEFT JOIN credit_transactions t ON t.account_id = c.account_id
         WHERE c.account_id = $1
         GROUP BY c.balance, c.reserved_balance",
    )
    .bind(account_id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound)
}
