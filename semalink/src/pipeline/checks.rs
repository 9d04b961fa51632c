//! What a pipeline run must end with, read from the database (the owner's login): every
//! message of the campaign final with exactly one final step in its timeline, the campaign
//! `completed`, the ledger invariant (`credits::store::verify`: balance = sum(ledger),
//! reserved = sum(reserved deltas)), nothing left reserved, the balance = top-up − the
//! delivered messages' cost, and every message settled exactly once — listed in exactly one
//! settlement row of the ledger (`settle:…` rows name the messages they settle).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use semalink_control_plane::credits::store as credits;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

/// The end state of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Checks {
    /// Messages of the campaign.
    pub messages: i64,
    /// Messages by status.
    pub by_status: BTreeMap<String, i64>,
    /// Messages not in a final state.
    pub not_final: i64,
    /// Messages with more than one final step in their timeline.
    pub several_final_steps: i64,
    /// Messages with no final step in their timeline.
    pub no_final_step: i64,
    /// The campaign's status.
    pub campaign_status: String,
    /// `credits::store::verify` for the account.
    pub ledger_verified: bool,
    /// Balance after the run.
    pub balance: Decimal,
    /// Still reserved after the run (must be 0).
    pub reserved: Decimal,
    /// The top-up the run made.
    pub topup: Decimal,
    /// Σ cost of the delivered messages (what the ledger must have charged).
    pub delivered_cost: Decimal,
    /// Message ids listed in settlement rows (with repeats).
    pub settlement_listings: i64,
    /// Distinct message ids in them.
    pub settled_messages: i64,
    /// Messages flagged `settled`.
    pub settled_flags: i64,
}

impl Checks {
    /// Reads the end state of `campaign_id` (of `account_id`, topped up with `topup`).
    pub async fn read(
        db: &PgPool,
        account_id: Uuid,
        campaign_id: Uuid,
        topup: Decimal,
    ) -> anyhow::Result<Checks> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status::text, count(*) FROM messages WHERE campaign_id = $1 GROUP BY 1",
        )
        .bind(campaign_id)
        .fetch_all(db)
        .await?;
        let by_status: BTreeMap<String, i64> = rows.into_iter().collect();
        let messages = by_status.values().sum();
        let final_states = ["delivered", "failed", "expired", "rejected"];
        let not_final = by_status
            .iter()
            .filter(|(s, _)| !final_states.contains(&s.as_str()))
            .map(|(_, n)| n)
            .sum();
        let (several_final_steps, no_final_step): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE finals > 1), count(*) FILTER (WHERE finals = 0)
             FROM (SELECT m.id, count(e.id) AS finals
                   FROM messages m
                   LEFT JOIN message_events e ON e.message_id = m.id
                        AND e.status IN ('delivered', 'failed', 'expired', 'rejected')
                   WHERE m.campaign_id = $1 GROUP BY m.id) f",
        )
        .bind(campaign_id)
        .fetch_one(db)
        .await?;
        let campaign_status: String =
            sqlx::query_scalar("SELECT status::text FROM campaigns WHERE id = $1")
                .bind(campaign_id)
                .fetch_one(db)
                .await?;
        let ledger_verified = credits::verify(db, account_id).await?;
        let (balance, reserved): (Decimal, Decimal) =
            sqlx::query_as("SELECT balance, reserved_balance FROM credits WHERE account_id = $1")
                .bind(account_id)
                .fetch_one(db)
                .await?;
        let (delivered_cost, settled_flags): (Decimal, i64) = sqlx::query_as(
            "SELECT coalesce(sum(cost) FILTER (WHERE status = 'delivered'), 0),
                    count(*) FILTER (WHERE settled)
             FROM messages WHERE campaign_id = $1",
        )
        .bind(campaign_id)
        .fetch_one(db)
        .await?;
        let (settlement_listings, settled_messages): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(DISTINCT m)
             FROM credit_transactions t,
                  jsonb_array_elements_text(t.metadata -> 'messages') AS m
             WHERE t.account_id = $1 AND t.reference LIKE 'settle:%'",
        )
        .bind(account_id)
        .fetch_one(db)
        .await?;
        Ok(Checks {
            messages,
            by_status,
            not_final,
            several_final_steps,
            no_final_step,
            campaign_status,
            ledger_verified,
            balance,
            reserved,
            topup,
            delivered_cost,
            settlement_listings,
            settled_messages,
            settled_flags,
        })
    }

    /// What is wrong, one line each (empty: the run passed). `expected` messages.
    pub fn failures(&self, expected: i64) -> Vec<String> {
        let mut out = Vec::new();
        if self.messages != expected {
            out.push(format!(
                "{} messages for {expected} recipients",
                self.messages
            ));
        }
        if self.not_final > 0 {
            out.push(format!("{} messages not final", self.not_final));
        }
        if self.several_final_steps > 0 {
            out.push(format!(
                "{} messages with more than one final step",
                self.several_final_steps
            ));
        }
        if self.no_final_step > 0 {
            out.push(format!(
                "{} messages without a final step",
                self.no_final_step
            ));
        }
        if self.campaign_status != "completed" {
            out.push(format!("campaign {}", self.campaign_status));
        }
        if !self.ledger_verified {
            out.push("balance != sum(ledger) or reserved != sum(reserved deltas)".into());
        }
        if self.reserved != Decimal::ZERO {
            out.push(format!("{} still reserved", self.reserved));
        }
        if self.balance != self.topup - self.delivered_cost {
            out.push(format!(
                "balance {} != top-up {} - delivered cost {}",
                self.balance, self.topup, self.delivered_cost
            ));
        }
        if self.settlement_listings != self.settled_messages {
            out.push(format!(
                "{} messages settled more than once",
                self.settlement_listings - self.settled_messages
            ));
        }
        if self.settled_messages != self.messages || self.settled_flags != self.messages {
            out.push(format!(
                "{} of {} messages settled ({} flagged)",
                self.settled_messages, self.messages, self.settled_flags
            ));
        }
        out
    }
}
