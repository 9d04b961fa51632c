//! The five ledger operations: [`reserve`], [`finalise`], [`refund`], [`topup`], [`adjust`].
//!
//! Each is one transaction (a savepoint when the caller is already in one) that first locks
//! the account's `credits` row (`SELECT … FOR UPDATE`), so operations on one account are
//! serialised while different accounts proceed in parallel. Under the lock an operation looks
//! for an earlier row with the same (type, reference): if there is one it returns it with
//! `replayed = true` and moves nothing, so a redelivered event never charges or refunds twice.
//! Then it checks funds, updates the balance and appends exactly one ledger row whose
//! `amount`/`reserved_delta` are the changes made, keeping `balance = sum(amount)` and
//! `reserved = sum(reserved_delta)` (see [`crate::credits::store::verify`]).
//!
//! Settlement of a reservation: [`finalise`] consumes it (releasing any unused part) or
//! [`refund`] releases it; a reservation is finalised at most once and refunded at most once,
//! and a refunded reservation can no longer be finalised. Refunding a finalised reservation
//! returns the charge.

use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::{Connection, PgConnection, Postgres, Transaction};
use uuid::Uuid;

use crate::credits::alert;
use crate::credits::money::{AMOUNT_SCALE, max_amount};
use crate::credits::types::{Actor, BillingMode, CreditTransaction, Movement, TxType};
use crate::error::{Error, Result};

/// What every operation needs besides its amount.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The account whose credits move.
    pub account_id: Uuid,
    /// Idempotency key, unique per (account, type): a message or campaign id, a receipt
    /// number, a staff reference. 1 to 200 characters.
    pub reference: &'a str,
    /// Who moved the credits.
    pub actor: Actor,
    /// Why (required by the staff endpoints).
    pub reason: Option<&'a str>,
    /// Details kept with the row.
    pub metadata: Value,
    /// Base URL for the links in a low-credit notification (`server.public_base_url`).
    pub base_url: &'a str,
}

/// The locked credits row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Locked {
    pub balance: Decimal,
    pub reserved_balance: Decimal,
    pub billing_mode: BillingMode,
    pub credit_limit: Decimal,
    pub low_credit_threshold: Option<Decimal>,
    pub notified: bool,
    /// Set while the account is suspended: nothing may be reserved.
    pub frozen: bool,
}

impl Locked {
    /// What can still be reserved at `balance`.
    pub fn available_at(&self, balance: Decimal) -> Decimal {
        match self.billing_mode {
            BillingMode::Prepaid => balance,
            BillingMode::Postpaid => balance + self.credit_limit,
        }
    }

    fn ensure_can_reach(&self, balance: Decimal) -> Result<()> {
        if self.available_at(balance) >= Decimal::ZERO {
            return Ok(());
        }
        Err(Error::InsufficientCredit(match self.billing_mode {
            BillingMode::Prepaid => "the prepaid balance would go below zero; top up first",
            BillingMode::Postpaid => "the postpaid credit limit would be exceeded",
        }))
    }
}

/// Locks an account's credits row for the rest of the transaction.
pub(crate) async fn lock(conn: &mut PgConnection, account_id: Uuid) -> Result<Locked> {
    sqlx::query_as(
        "SELECT balance, reserved_balance, billing_mode, credit_limit, low_credit_threshold,
                low_credit_notified_at IS NOT NULL AS notified, frozen_at IS NOT NULL AS frozen
         FROM credits WHERE account_id = $1 FOR UPDATE",
    )
    .bind(account_id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound)
}

const TX_COLUMNS: &str = "id, seq, account_id, type, amount, reserved_delta, balance_after, \
    reserved_after, reference, actor_type, actor_id, reason, metadata, created_at";

/// Rows of the given kinds with the entry's reference.
async fn by_reference(
    conn: &mut PgConnection,
    entry: &Entry<'_>,
    kinds: &[TxType],
) -> Result<Vec<CreditTransaction>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TX_COLUMNS} FROM credit_transactions
         WHERE account_id = $1 AND reference = $2 AND type = ANY($3)"
    )))
    .bind(entry.account_id)
    .bind(entry.reference)
    .bind(kinds)
    .fetch_all(conn)
    .await?)
}

fn find(rows: &[CreditTransaction], kind: TxType) -> Option<&CreditTransaction> {
    rows.iter().find(|r| r.kind == kind)
}

/// An idempotency key: 1 to 200 characters, no control characters, and neither blank nor
/// padded (" bank-77" and "bank-77" would be two keys for one payment).
fn check_reference(reference: &str) -> Result<()> {
    let len = reference.chars().count();
    if !(1..=200).contains(&len) || reference.chars().any(char::is_control) {
        return Err(Error::field(
            "reference",
            "must be 1 to 200 characters without control characters",
        ));
    }
    if reference.trim() != reference {
        return Err(Error::field(
            "reference",
            "must not be blank or start or end with whitespace",
        ));
    }
    Ok(())
}

fn check_amount(amount: Decimal, allow_zero: bool, allow_negative: bool) -> Result<()> {
    let sign_ok = if amount.is_zero() {
        allow_zero
    } else {
        allow_negative || amount.is_sign_positive()
    };
    if !sign_ok || amount.abs() > max_amount() || amount.normalize().scale() > AMOUNT_SCALE {
        return Err(Error::field(
            "amount",
            "is out of range or has more than 4 decimal places",
        ));
    }
    Ok(())
}

/// Updates the balance, appends the row and keeps the low-credit notice right.
async fn apply(
    conn: &mut PgConnection,
    entry: &Entry<'_>,
    kind: TxType,
    amount: Decimal,
    reserved_delta: Decimal,
    locked: &Locked,
) -> Result<CreditTransaction> {
    let balance = locked.balance + amount;
    let reserved = locked.reserved_balance + reserved_delta;
    if reserved < Decimal::ZERO {
        return Err(Error::internal("reserved credits would go negative"));
    }
    let notified = alert::settle(
        &mut *conn,
        entry.account_id,
        locked.available_at(balance),
        locked.low_credit_threshold,
        locked.notified,
        entry.base_url,
    )
    .await?;
    sqlx::query(
        "UPDATE credits SET balance = $2, reserved_balance = $3, updated_at = now(),
                low_credit_notified_at = CASE WHEN $4 THEN coalesce(low_credit_notified_at, now()) END
         WHERE account_id = $1",
    )
    .bind(entry.account_id)
    .bind(balance)
    .bind(reserved)
    .bind(notified)
    .execute(&mut *conn)
    .await?;
    let (actor_type, actor_id) = entry.actor.columns();
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO credit_transactions (id, account_id, type, amount, reserved_delta,
            balance_after, reserved_after, reference, actor_type, actor_id, reason, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         RETURNING {TX_COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(entry.account_id)
    .bind(kind)
    .bind(amount)
    .bind(reserved_delta)
    .bind(balance)
    .bind(reserved)
    .bind(entry.reference)
    .bind(actor_type)
    .bind(actor_id)
    .bind(entry.reason)
    .bind(&entry.metadata)
    .fetch_one(&mut *conn)
    .await?)
}

/// Commits on success; on failure rolls back at once, so the row lock is released now rather
/// than whenever the connection is next used.
pub(crate) async fn finish<T>(tx: Transaction<'_, Postgres>, result: Result<T>) -> Result<T> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(error) => {
            tx.rollback().await?;
            Err(error)
        }
    }
}

fn replayed(row: CreditTransaction) -> Movement {
    Movement {
        transaction: row,
        replayed: true,
    }
}

fn moved(row: CreditTransaction) -> Movement {
    Movement {
        transaction: row,
        replayed: false,
    }
}

/// An operation and its amount.
#[derive(Debug, Clone, Copy)]
enum Op {
    Reserve(Decimal),
    Finalise(Decimal),
    Refund,
    Topup(Decimal),
    Adjust(Decimal),
}

/// Checks the input, then runs `op` in its own transaction (or savepoint).
async fn run(conn: &mut PgConnection, entry: &Entry<'_>, op: Op) -> Result<Movement> {
    check_reference(entry.reference)?;
    match op {
        Op::Reserve(a) | Op::Topup(a) => check_amount(a, false, false)?,
        Op::Finalise(a) => check_amount(a, true, false)?,
        Op::Adjust(a) => check_amount(a, false, true)?,
        Op::Refund => {}
    }
    let mut tx = conn.begin().await?;
    let result = match op {
        Op::Reserve(a) => reserve_locked(&mut tx, entry, a).await,
        Op::Finalise(a) => finalise_locked(&mut tx, entry, a).await,
        Op::Refund => refund_locked(&mut tx, entry).await,
        Op::Topup(a) => simple_locked(&mut tx, entry, TxType::Topup, a).await,
        Op::Adjust(a) => simple_locked(&mut tx, entry, TxType::Adjustment, a).await,
    };
    finish(tx, result).await
}

/// Holds `amount` (> 0) for a send: balance → reserved. Fails with 402 when a prepaid balance
/// would go below zero or a postpaid one beyond its credit limit; 409 when the reference was
/// already reserved with a different amount.
pub async fn reserve(
    conn: &mut PgConnection,
    entry: &Entry<'_>,
    amount: Decimal,
) -> Result<Movement> {
    run(conn, entry, Op::Reserve(amount)).await
}

/// Settles the reservation `entry.reference` at `actual` (0 ≤ actual ≤ reserved): the
/// reservation leaves `reserved`, the unused part returns to the balance. 404 without such a
/// reservation; 409 when it was refunded, or finalised before at another cost.
pub async fn finalise(
    conn: &mut PgConnection,
    entry: &Entry<'_>,
    actual: Decimal,
) -> Result<Movement> {
    run(conn, entry, Op::Finalise(actual)).await
}

/// Gives back the reservation `entry.reference`: an open one is released in full, a
/// finalised one has its charge returned. At most once per reference; 404 without such a
/// reservation.
pub async fn refund(conn: &mut PgConnection, entry: &Entry<'_>) -> Result<Movement> {
    run(conn, entry, Op::Refund).await
}

/// Adds `amount` (> 0). A repeated reference returns the first top-up (409 if its amount
/// differs), so a payment callback delivered twice credits once.
pub async fn topup(
    conn: &mut PgConnection,
    entry: &Entry<'_>,
    amount: Decimal,
) -> Result<Movement> {
    run(conn, entry, Op::Topup(amount)).await
}

/// Adds a signed, non-zero `amount` (staff corrections). A decrease may not take a prepaid
/// balance below zero or a postpaid one beyond its limit (402).
pub async fn adjust(
    conn: &mut PgConnection,
    entry: &Entry<'_>,
    amount: Decimal,
) -> Result<Movement> {
    run(conn, entry, Op::Adjust(amount)).await
}

async fn reserve_locked(
    tx: &mut PgConnection,
    entry: &Entry<'_>,
    amount: Decimal,
) -> Result<Movement> {
    let locked = lock(tx, entry.account_id).await?;
    let rows = by_reference(tx, entry, &[TxType::Reservation]).await?;
    if let Some(row) = rows.into_iter().next() {
        if row.reserved_delta != amount {
            return Err(Error::Conflict(
                "this reference was reserved with another amount",
            ));
        }
        return Ok(replayed(row));
    }
    if locked.frozen {
        return Err(Error::Forbidden(
            "the account is suspended: its credits are frozen",
        ));
    }
    locked.ensure_can_reach(locked.balance - amount)?;
    let row = apply(tx, entry, TxType::Reservation, -amount, amount, &locked).await?;
    Ok(moved(row))
}

async fn finalise_locked(
    tx: &mut PgConnection,
    entry: &Entry<'_>,
    actual: Decimal,
) -> Result<Movement> {
    let locked = lock(tx, entry.account_id).await?;
    let kinds = [TxType::Reservation, TxType::Finalisation, TxType::Refund];
    let rows = by_reference(tx, entry, &kinds).await?;
    let reservation = find(&rows, TxType::Reservation).ok_or(Error::NotFound)?;
    let held = reservation.reserved_delta;
    if let Some(done) = find(&rows, TxType::Finalisation) {
        if held - done.amount != actual {
            return Err(Error::Conflict(
                "this reservation was finalised at another cost",
            ));
        }
        return Ok(replayed(done.clone()));
    }
    if find(&rows, TxType::Refund).is_some() {
        return Err(Error::Conflict("this reservation was refunded"));
    }
    if actual > held {
        return Err(Error::field(
            "amount",
            "the actual cost exceeds the reservation",
        ));
    }
    let unused = held - actual;
    let row = apply(tx, entry, TxType::Finalisation, unused, -held, &locked).await?;
    Ok(moved(row))
}

async fn refund_locked(tx: &mut PgConnection, entry: &Entry<'_>) -> Result<Movement> {
    let locked = lock(tx, entry.account_id).await?;
    let kinds = [TxType::Reservation, TxType::Finalisation, TxType::Refund];
    let rows = by_reference(tx, entry, &kinds).await?;
    let reservation = find(&rows, TxType::Reservation).ok_or(Error::NotFound)?;
    if let Some(done) = find(&rows, TxType::Refund) {
        return Ok(replayed(done.clone()));
    }
    let held = reservation.reserved_delta;
    let (amount, reserved_delta) = match find(&rows, TxType::Finalisation) {
        Some(fin) => (held - fin.amount, Decimal::ZERO),
        None => (held, -held),
    };
    let row = apply(tx, entry, TxType::Refund, amount, reserved_delta, &locked).await?;
    Ok(moved(row))
}

async fn simple_locked(
    tx: &mut PgConnection,
    entry: &Entry<'_>,
    kind: TxType,
    amount: Decimal,
) -> Result<Movement> {
    let locked = lock(tx, entry.account_id).await?;
    let rows = by_reference(tx, entry, &[kind]).await?;
    if let Some(row) = rows.into_iter().next() {
        if row.amount != amount {
            return Err(Error::Conflict(
                "this reference was used with another amount",
            ));
        }
        return Ok(replayed(row));
    }
    if amount < Decimal::ZERO {
        locked.ensure_can_reach(locked.balance + amount)?;
    }
    let row = apply(tx, entry, kind, amount, Decimal::ZERO, &locked).await?;
    Ok(moved(row))
}

/// How a final state settles a message's share of its reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered (or an upstream-charged failure): the message's cost is charged.
    Charge,
    /// Failed, rejected, expired, cancelled: the message's cost returns to the balance.
    Refund,
}

/// What [`settle_messages`] moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settlement {
    /// Messages settled now (those already settled are skipped).
    pub messages: usize,
    /// Sum of the amounts charged on the ledger (for a sub-customer's messages: its agent's).
    pub charged: Decimal,
    /// Sum of the amounts refunded on the ledger.
    pub refunded: Decimal,
    /// The refunded messages' own cost, the price the sending organisation sees (its retail
    /// price for a sub-customer; equal to `refunded` for everyone else).
    pub refunded_cost: Decimal,
}

/// Settles messages of one account one by one against the reservations that hold them
/// (several messages share one reservation: a send request, a dispatcher batch). Runs in the
/// caller's transaction, so the caller's status update and the money move together.
///
/// Each message is settled at most once: its `settled` flag is set by the same statement that
/// picks it, so a replayed batch (a redelivered envelope, a second dispatcher) moves nothing.
/// At most two ledger rows are appended per paying account — one `finalisation` (amount 0,
/// the charged costs leave `reserved`) and one `refund` (the refunded costs return from
/// `reserved` to the balance) — under the reference `settle:<id>`, each listing the message
/// ids it settles in its metadata, so `balance = sum(amount)` and `reserved =
/// sum(reserved_delta)` hold at every commit. The paying account is the one that reserved:
/// `messages.billed_account_id` (a sub-customer's agent, at `billed_cost`) or the sender.
pub async fn settle_messages(
    conn: &mut PgConnection,
    account_id: Uuid,
    outcomes: &[(Uuid, Outcome)],
    actor: Actor,
    base_url: &str,
) -> Result<Settlement> {
    if outcomes.is_empty() {
        return Ok(Settlement::default());
    }
    let ids: Vec<Uuid> = outcomes.iter().map(|(id, _)| *id).collect();
    // The credits first, then the messages: the order every settlement takes. Who pays never
    // changes once a message is written, so it is read before the locks.
    let mut payers: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT coalesce(billed_account_id, account_id) FROM messages
         WHERE account_id = $1 AND id = ANY($2)",
    )
    .bind(account_id)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    payers.sort_unstable();
    for payer in &payers {
        lock(conn, *payer).await?;
    }
    let charge: Vec<bool> = outcomes
        .iter()
        .map(|(_, o)| *o == Outcome::Charge)
        .collect();
    let picked: Vec<(Uuid, Uuid, Decimal, Decimal, bool)> = sqlx::query_as(
        "UPDATE messages m SET settled = true, updated_at = now()
         FROM unnest($2::uuid[], $3::bool[]) AS u(id, charge)
         WHERE m.account_id = $1 AND m.id = u.id AND NOT m.settled
           AND m.reservation IS NOT NULL
         RETURNING m.id, coalesce(m.billed_account_id, m.account_id),
                   coalesce(m.billed_cost, m.cost), m.cost, u.charge",
    )
    .bind(account_id)
    .bind(&ids)
    .bind(&charge)
    .fetch_all(&mut *conn)
    .await?;
    type Booked = (Vec<(Uuid, Decimal)>, Vec<(Uuid, Decimal)>);
    let mut by_payer: std::collections::BTreeMap<Uuid, Booked> = Default::default();
    let mut refunded_cost = Decimal::ZERO;
    for (id, payer, amount, cost, charge) in picked {
        let (charged, refunded) = by_payer.entry(payer).or_default();
        if charge {
            charged.push((id, amount));
        } else {
            refunded.push((id, amount));
            refunded_cost += cost;
        }
    }
    let mut done = Settlement::default();
    for (payer, (charged, refunded)) in by_payer {
        let s = book_settled(conn, payer, &charged, &refunded, actor.clone(), base_url).await?;
        done.messages += s.messages;
        done.charged += s.charged;
        done.refunded += s.refunded;
    }
    done.refunded_cost = refunded_cost;
    Ok(done)
}

/// The ledger half of [`settle_messages`], for a caller that has already marked the messages
/// `settled` in its own statement (the status consumer sets the flag with the status, in one
/// write): appends ≤ 1 `finalisation` for the `charged` (id, cost) pairs and ≤ 1 `refund` for
/// the `refunded` ones, referenced `settle:<id>` and listing the message ids. The caller must
/// have picked only messages that were not settled, under their row locks.
pub async fn book_settled(
    conn: &mut PgConnection,
    account_id: Uuid,
    charged: &[(Uuid, Decimal)],
    refunded: &[(Uuid, Decimal)],
    actor: Actor,
    base_url: &str,
) -> Result<Settlement> {
    let refunded_total: Decimal = refunded.iter().map(|(_, c)| c).sum();
    let done = Settlement {
        messages: charged.len() + refunded.len(),
        charged: charged.iter().map(|(_, c)| c).sum(),
        refunded: refunded_total,
        refunded_cost: refunded_total,
    };
    if done.messages == 0 {
        return Ok(done);
    }
    let mut locked = lock(conn, account_id).await?;
    for (kind, total, list) in [
        (TxType::Finalisation, done.charged, charged),
        (TxType::Refund, done.refunded, refunded),
    ] {
        if list.is_empty() {
            continue;
        }
        let ids: Vec<Uuid> = list.iter().map(|(id, _)| *id).collect();
        let reference = format!("settle:{}", Uuid::now_v7());
        let entry = Entry {
            account_id,
            reference: &reference,
            actor: actor.clone(),
            reason: None,
            metadata: serde_json::json!({ "messages": ids }),
            base_url,
        };
        let amount = if kind == TxType::Refund {
            total
        } else {
            Decimal::ZERO
        };
        let row = apply(conn, &entry, kind, amount, -total, &locked).await?;
        locked.balance = row.balance_after;
        locked.reserved_balance = row.reserved_after;
    }
    Ok(done)
}
