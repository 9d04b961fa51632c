//! Applying a batch of status events in one transaction, set-based: the messages are locked
//! in id order, folded in memory ([`super::apply`]), and written back with one `unnest`
//! statement per table — parts, messages, timeline, rollups, campaign counters — with the
//! settlement of the messages that became final (one ledger call per account) in the same
//! transaction. A replayed batch finds every message already where the events would move it
//! and writes nothing, so a crash between commit and ack is harmless. The statements
//! themselves are in [`super::write`].

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use semalink_protocol::contracts::StatusEvent;
use serde::Deserialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::apply::{Detail, Part, Status, Step, Tracked};
use super::write::{
    add, write_campaigns, write_messages, write_parts, write_rollups, write_timeline,
};
use crate::credits::ledger::{self, Outcome};
use crate::credits::types::Actor;
use crate::error::Result;

/// Upper bounds (seconds) of the delivery-latency buckets of `message_latency`; a delivery
/// slower than the last bound falls in the bucket after it.
pub const LATENCY_BOUNDS: [f64; 11] = [
    1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

/// `campaign_id` of the rollups of API messages.
pub const NO_CAMPAIGN: Uuid = Uuid::nil();

/// `[results]`: how final states are settled.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResultsConfig {
    /// Status events applied per transaction at most (envelopes are gathered up to this).
    pub batch_events: usize,
    /// Envelopes a RabbitMQ consumer holds unacknowledged.
    pub prefetch: u16,
    /// Status consumers per process, each applying its own batches (2: about 1.6× one on
    /// this 2-core machine, docs/performance.md).
    pub consumers: usize,
    /// Failure states the upstream bills for, charged instead of refunded (e.g.
    /// `["rejected"]` for an aggregator that charges network rejections). Empty by default:
    /// only `delivered` is charged.
    pub charged_failures: Vec<String>,
}

impl Default for ResultsConfig {
    fn default() -> ResultsConfig {
        ResultsConfig {
            batch_events: 5_000,
            prefetch: 32,
            consumers: 2,
            charged_failures: Vec::new(),
        }
    }
}

impl ResultsConfig {
    /// How a message that became final in `status` is settled.
    pub fn outcome(&self, status: Status) -> Outcome {
        if status == Status::Delivered || self.charged_failures.iter().any(|s| s == status.as_str())
        {
            Outcome::Charge
        } else {
            Outcome::Refund
        }
    }
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Events that changed a message (or one of its parts).
    pub applied: usize,
    /// Events that changed nothing (duplicates, late, accepted/intermediate).
    pub unchanged: usize,
    /// Events for a message this database does not have.
    pub unknown: usize,
    /// Events of an earlier attempt of a retried message (see [`super::attempts`]).
    pub stale: usize,
    /// Messages that became final.
    pub finals: usize,
    /// Campaigns that completed.
    pub completed: Vec<Uuid>,
}

/// A locked message.
#[derive(sqlx::FromRow)]
pub(super) struct Row {
    pub(super) id: Uuid,
    pub(super) account_id: Uuid,
    pub(super) campaign_id: Option<Uuid>,
    pub(super) status: String,
    pub(super) cost: Decimal,
    /// The account whose credits hold the message (the sender, or a sub-customer's agent).
    pub(super) payer: Uuid,
    /// What the payer reserved for it (`cost`, or the agent's wholesale price).
    pub(super) billed: Decimal,
    pub(super) country: String,
    pub(super) mno_id: Option<String>,
    pub(super) created_at: OffsetDateTime,
    pub(super) sent_at: Option<OffsetDateTime>,
    pub(super) reserved: bool,
    pub(super) settled: bool,
    pub(super) attempt: i32,
}

#[derive(sqlx::FromRow)]
struct PartRow {
    message_id: Uuid,
    part: i32,
    total: i32,
    status: String,
    upstream: Option<String>,
    smsc_message_id: Option<String>,
    error_kind: Option<String>,
    error_code: Option<i64>,
    error_text: Option<String>,
    updated_at: OffsetDateTime,
}

/// Rollup key: account, day, campaign, country, operator.
pub(super) type Key = (Uuid, time::Date, Uuid, String, String);

#[derive(Default)]
pub(super) struct Counts {
    pub(super) sent: i64,
    pub(super) delivered: i64,
    pub(super) failed: i64,
    pub(super) expired: i64,
    pub(super) rejected: i64,
    pub(super) cost: Decimal,
    pub(super) refunded: Decimal,
    pub(super) deliver_seconds: f64,
    pub(super) timed: i64,
}

impl Counts {
    fn count_final(&mut self, status: Status) {
        match status {
            Status::Delivered => self.delivered += 1,
            Status::Failed => self.failed += 1,
            Status::Expired => self.expired += 1,
            Status::Rejected | Status::Cancelled => self.rejected += 1,
            _ => {}
        }
    }
}

/// Applies `events` in one transaction on `pool`.
pub async fn apply_batch(
    pool: &PgPool,
    events: &[StatusEvent],
    config: &ResultsConfig,
    base_url: &str,
) -> Result<Applied> {
    apply_leased_batch(pool, events, config, base_url, false).await
}

/// [`apply_batch`], and with `end_leases` (the in-process bus, whose publisher leases the
/// outbox rows instead of deleting them) the leased outbox rows of the events' messages go
/// first, in the same transaction: the engine has the message.
pub async fn apply_leased_batch(
    pool: &PgPool,
    events: &[StatusEvent],
    config: &ResultsConfig,
    base_url: &str,
    end_leases: bool,
) -> Result<Applied> {
    let mut tx = pool.begin().await?;
    if end_leases && !events.is_empty() {
        let mut ids: Vec<Uuid> = events.iter().map(|e| e.message_id).collect();
        ids.sort_unstable();
        ids.dedup();
        crate::messages::store::end_leases(&mut tx, &ids).await?;
    }
    let applied = apply_on(&mut tx, events, config, base_url).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Applies `events` on `conn` (the caller's transaction).
pub async fn apply_on(
    conn: &mut PgConnection,
    events: &[StatusEvent],
    config: &ResultsConfig,
    base_url: &str,
) -> Result<Applied> {
    let mut out = Applied::default();
    if events.is_empty() {
        return Ok(out);
    }
    let routed = super::attempts::route(&mut *conn, events).await?;
    let events: &[StatusEvent] = routed.events.as_deref().unwrap_or(events);
    let mut ids: Vec<Uuid> = events.iter().map(|e| e.message_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, account_id, campaign_id, status::text AS status, cost,
                coalesce(billed_account_id, account_id) AS payer,
                coalesce(billed_cost, cost) AS billed, country, mno_id, created_at, sent_at,
                reservation IS NOT NULL AS reserved, settled, attempt
         FROM messages WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let part_rows: Vec<PartRow> = if events.iter().any(|e| e.segment.is_some()) {
        sqlx::query_as(
            "SELECT message_id, part, total, status::text AS status, upstream, smsc_message_id,
                    error_kind, error_code, error_text, updated_at
             FROM message_parts WHERE message_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?
    } else {
        Vec::new()
    };
    let mut parts: HashMap<Uuid, BTreeMap<u16, Part>> = HashMap::new();
    for p in part_rows {
        let (Some(status), Ok(part), Ok(total)) = (
            Status::parse(&p.status),
            u16::try_from(p.part),
            u16::try_from(p.total),
        ) else {
            continue;
        };
        parts.entry(p.message_id).or_default().insert(
            part,
            Part {
                total,
                status,
                detail: Detail {
                    upstream: p.upstream,
                    smsc_message_id: p.smsc_message_id,
                    error_kind: p.error_kind.as_deref().and_then(kind_label),
                    error_code: p.error_code,
                    error_text: p.error_text,
                },
                at: p.updated_at,
                changed: false,
            },
        );
    }
    let mut tracked: HashMap<Uuid, (usize, Tracked)> = HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        // A status this code does not know (a newer migration's) is left alone.
        let Some(status) = Status::parse(&r.status) else {
            continue;
        };
        let mut t = Tracked::new(status, parts.remove(&r.id).unwrap_or_default());
        t.sent_at = r.sent_at;
        tracked.insert(r.id, (i, t));
    }
    // Within a batch, apply in the engine's time order (a `sent` and its receipt in one
    // envelope give both timeline steps); the fold itself does not depend on order.
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| events[i].occurred_at);
    let mut steps: Vec<(Uuid, Step)> = Vec::new();
    for i in order {
        let event = &events[i];
        let Some((row, t)) = tracked.get_mut(&event.message_id) else {
            out.unknown += 1;
            continue;
        };
        if rows[*row].attempt != routed.attempt(i) {
            out.stale += 1;
            continue;
        }
        let parts_before = t.part_changes;
        match t.apply(event) {
            Some(step) => {
                out.applied += 1;
                steps.push((event.message_id, step));
            }
            None if t.part_changes > parts_before => out.applied += 1,
            None => out.unchanged += 1,
        }
    }

    write_parts(conn, &rows, &tracked).await?;
    let moved: std::collections::HashSet<Uuid> = steps.iter().map(|(id, _)| *id).collect();
    let changed: Vec<&Row> = rows.iter().filter(|r| moved.contains(&r.id)).collect();
    if changed.is_empty() {
        return Ok(out);
    }
    // Settled in the same write as the status: final, holding a reservation, not settled
    // before (a cancelled campaign's message is, and is final already).
    let settle_now: std::collections::HashSet<Uuid> = changed
        .iter()
        .filter(|r| r.reserved && !r.settled)
        .filter(|r| tracked.get(&r.id).is_some_and(|(_, t)| t.status.is_final()))
        .map(|r| r.id)
        .collect();
    write_messages(conn, &changed, &tracked, &settle_now).await?;
    write_timeline(conn, &rows, &tracked, &steps).await?;

    // Lock order everywhere: messages, then campaigns, then the account's credits (the
    // dispatcher takes a campaign before it reserves).
    let mut campaigns: Vec<Uuid> = changed.iter().filter_map(|r| r.campaign_id).collect();
    campaigns.sort_unstable();
    campaigns.dedup();
    if !campaigns.is_empty() {
        sqlx::query("SELECT id FROM campaigns WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
            .bind(&campaigns)
            .execute(&mut *conn)
            .await?;
    }

    // What changed, per rollup key and per campaign; who is settled how.
    let mut rollups: BTreeMap<Key, Counts> = BTreeMap::new();
    let mut latency: BTreeMap<(Key, i16), i64> = BTreeMap::new();
    let mut by_campaign: BTreeMap<Uuid, Counts> = BTreeMap::new();
    type Booked = (Vec<(Uuid, Decimal)>, Vec<(Uuid, Decimal)>);
    let mut settle: BTreeMap<Uuid, Booked> = BTreeMap::new();
    for r in &changed {
        let Some((_, t)) = tracked.get(&r.id) else {
            continue;
        };
        let before = Status::parse(&r.status).unwrap_or(Status::Submitted);
        let key: Key = (
            r.account_id,
            r.created_at.to_offset(time::UtcOffset::UTC).date(),
            r.campaign_id.unwrap_or(NO_CAMPAIGN),
            r.country.clone(),
            r.mno_id.clone().unwrap_or_default(),
        );
        let counts = rollups.entry(key.clone()).or_default();
        let campaign = r.campaign_id.map(|c| by_campaign.entry(c).or_default());
        let left_now = before < Status::Sent && t.status >= Status::Sent;
        let mut delta = Counts::default();
        if left_now {
            delta.sent = 1;
        }
        if t.status.is_final() {
            out.finals += 1;
            delta.count_final(t.status);
            let outcome = config.outcome(t.status);
            match outcome {
                Outcome::Charge => delta.cost = r.cost,
                Outcome::Refund => delta.refunded = r.cost,
            }
            if settle_now.contains(&r.id) {
                let (charged, refunded) = settle.entry(r.payer).or_default();
                match outcome {
                    Outcome::Charge => charged.push((r.id, r.billed)),
                    Outcome::Refund => refunded.push((r.id, r.billed)),
                }
            }
            if t.status == Status::Delivered
                && let (Some(sent), Some(done)) = (t.sent_at, t.final_at)
            {
                let secs = (done - sent).as_seconds_f64().max(0.0);
                delta.deliver_seconds = secs;
                delta.timed = 1;
                let bucket = LATENCY_BOUNDS
                    .iter()
                    .position(|b| secs < *b)
                    .unwrap_or(LATENCY_BOUNDS.len());
                *latency
                    .entry((key, i16::try_from(bucket).unwrap_or(i16::MAX)))
                    .or_default() += 1;
            }
        }
        add(counts, &delta);
        if let Some(c) = campaign {
            add(c, &delta);
        }
    }

    for (account, (charged, refunded)) in &settle {
        ledger::book_settled(
            conn,
            *account,
            charged,
            refunded,
            Actor::System("status_consumer"),
            base_url,
        )
        .await?;
    }
    write_rollups(conn, &rollups, &latency).await?;
    out.completed = write_campaigns(conn, &by_campaign, base_url).await?;
    Ok(out)
}

fn kind_label(label: &str) -> Option<&'static str> {
    ["command_status", "network", "receipt"]
        .into_iter()
        .find(|kind| *kind == label)
}
