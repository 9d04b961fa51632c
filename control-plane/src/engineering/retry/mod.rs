//! Manual retry of failed messages (`engineering: admin`): a new attempt of each message,
//! same message id, in one transaction that also reserves its cost again and audits it.
//!
//! Why it never charges twice: a failed message's reservation was refunded by the status
//! consumer when it failed (refused here when `[results] charged_failures` charges
//! failures); the retry reserves the cost once more through [`ledger::reserve`] under the
//! reference `retry:<message id>:<attempt>` — once per attempt, since the attempt number is
//! raised under the message's row lock and a second retry finds it no longer `failed` (409)
//! — and the new attempt is settled by the status consumer like any message (charged if
//! delivered, refunded otherwise). The old attempt's counts leave the rollups and the
//! campaign counters, so the new outcome is counted once.
//!
//! Why the engine sends it again: the message goes back to the outbox and the publisher
//! submits it under the attempt's own id ([`crate::results::attempts`]); the consumer maps
//! that id back and ignores late events of the old attempt.
//!
//! Refused: a message that is not `failed` (409 naming its status), past its validity, whose
//! sender ID is no longer approved or whose campaign was cancelled (409); an organisation
//! that may not send (the send gate's 403).

pub mod store;

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::gate;
use crate::admin::action::StaffAction;
use crate::credits::ledger::{self, Entry, Outcome};
use crate::credits::types::Actor;
use crate::engineering::types::Retried;
use crate::error::{Error, Result};
use crate::messages::types::MessageStatus;
use crate::results::attempts::new_attempt_id;
use crate::results::store::ResultsConfig;

/// Most messages one request retries.
pub const MAX_RETRY: usize = 100;

/// The 409 detail for a message in `status`.
fn not_failed(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Submitted => "only failed messages are retried: the message is submitted",
        MessageStatus::Queued => "only failed messages are retried: the message is queued",
        MessageStatus::Sent => "only failed messages are retried: the message is sent",
        MessageStatus::Delivered => "only failed messages are retried: the message is delivered",
        MessageStatus::Failed => "the message is failed",
        MessageStatus::Expired => "only failed messages are retried: the message is expired",
        MessageStatus::Rejected => "only failed messages are retried: the message is rejected",
        MessageStatus::Cancelled => "only failed messages are retried: the message is cancelled",
    }
}

/// Retries `ids` (all or none) as `act` on `conn` (the caller's transaction, which it then
/// commits); the new attempts, in id order.
pub async fn retry(
    conn: &mut PgConnection,
    act: &StaffAction<'_>,
    ids: &[Uuid],
    note: Option<&str>,
    results: &ResultsConfig,
    base_url: &str,
) -> Result<Vec<Retried>> {
    if results.outcome(MessageStatus::Failed) == Outcome::Charge {
        return Err(Error::Conflict(
            "failed messages are charged here ([results] charged_failures): a retry would charge twice",
        ));
    }
    let ids: BTreeSet<Uuid> = ids.iter().copied().collect();
    let ids: Vec<Uuid> = ids.into_iter().collect();
    let found = store::lock(&mut *conn, &ids).await?;
    if found.len() < ids.len() {
        return Err(Error::NotFound);
    }
    let now = OffsetDateTime::now_utc();
    for m in &found {
        if m.status != MessageStatus::Failed {
            return Err(Error::Conflict(not_failed(m.status)));
        }
        if m.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::Conflict(
                "the message's validity (expires_at) has passed: it cannot be sent again",
            ));
        }
        if !m.sender_approved {
            return Err(Error::Conflict(
                "the message's sender ID is no longer approved: it cannot be sent again",
            ));
        }
    }
    let accounts: BTreeSet<Uuid> = found.iter().map(|m| m.account_id).collect();
    for account in &accounts {
        gate::ensure_can_send(&mut *conn, *account).await?;
    }
    let campaigns: BTreeSet<Uuid> = found.iter().filter_map(|m| m.campaign_id).collect();
    if store::lock_campaigns(&mut *conn, &campaigns.into_iter().collect::<Vec<_>>()).await? {
        return Err(Error::Conflict(
            "the message's campaign was cancelled: its messages are not sent again",
        ));
    }

    let mut new = store::NewAttempts::default();
    let mut out = Vec::with_capacity(found.len());
    for m in &found {
        let attempt = m.attempt + 1;
        let reservation = (m.billed > Decimal::ZERO).then(|| format!("retry:{}:{attempt}", m.id));
        if let Some(reference) = &reservation {
            let entry = Entry {
                account_id: m.payer,
                reference,
                actor: Actor::Staff(act.staff_id()),
                reason: note,
                metadata: json!({ "message_id": m.id, "attempt": attempt }),
                base_url,
            };
            ledger::reserve(&mut *conn, &entry, m.billed).await?;
        }
        let attempt_id = new_attempt_id();
        new.ids.push(m.id);
        new.attempt_ids.push(attempt_id);
        new.reservations.push(reservation.clone());
        new.event_ids.push(Uuid::now_v7());
        out.push(Retried {
            message_id: m.id,
            account_id: m.account_id,
            attempt,
            status: MessageStatus::Submitted,
            reserved: m.billed,
        });
        let metadata = json!({
            "account_id": m.account_id,
            "attempt": attempt,
            "attempt_id": attempt_id,
            "reservation": reservation,
            "cost": m.cost,
            "payer": m.payer,
            "billed": m.billed,
            "note": note,
        });
        act.audit(&mut *conn, "message.retry", "message", m.id, metadata)
            .await?;
    }
    store::uncount(&mut *conn, &new.ids).await?;
    store::write(&mut *conn, act.staff_id(), &new).await?;
    Ok(out)
}
