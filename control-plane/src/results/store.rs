//! Applying a batch of status events in one transaction, set-based: the messages are locked
//! in id order, folded in memory ([`super::apply`]), and written back with one `unnest`
//! statement per table — parts, messages, timeline, rollups, campaign counters — with the
//! settlement of the messages that became final (one ledger call per account) in the same
//! transaction. A replayed batch finds every message already where the events would move it
//! and writes nothing, so a crash between commit and ack is harmless.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use semalink_protocol::contracts::StatusEvent;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::apply::{Detail, Part, Status, Step, Tracked};
use crate::credits::ledger::{self, Outcome};
use crate::credits::types::Actor;
use crate::error::Result;
use crate::notifications::{self, Notice};

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
    /// Messages that became final.
    pub finals: usize,
    /// Campaigns that completed.
    pub completed: Vec<Uuid>,
}

/// A locked message.
#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    account_id: Uuid,
    campaign_id: Option<Uuid>,
    status: String,
    cost: Decimal,
    country: String,
    mno_id: Option<String>,
    created_at: OffsetDateTime,
    sent_at: Option<OffsetDateTime>,
    reserved: bool,
    settled: bool,
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
type Key = (Uuid, time::Date, Uuid, String, String);

#[derive(Default)]
struct Counts {
    sent: i64,
    delivered: i64,
    failed: i64,
    expired: i64,
    rejected: i64,
    cost: Decimal,
    refunded: Decimal,
    deliver_seconds: f64,
    timed: i64,
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
    let mut tx = pool.begin().await?;
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
    let mut ids: Vec<Uuid> = events.iter().map(|e| e.message_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, account_id, campaign_id, status::text AS status, cost, country, mno_id,
                created_at, sent_at, reservation IS NOT NULL AS reserved, settled
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
    let mut order: Vec<&StatusEvent> = events.iter().collect();
    order.sort_by_key(|e| e.occurred_at);
    let mut steps: Vec<(Uuid, Step)> = Vec::new();
    for event in order {
        let Some((_, t)) = tracked.get_mut(&event.message_id) else {
            out.unknown += 1;
            continue;
        };
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
                let (charged, refunded) = settle.entry(r.account_id).or_default();
                match outcome {
                    Outcome::Charge => charged.push((r.id, r.cost)),
                    Outcome::Refund => refunded.push((r.id, r.cost)),
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

fn add(to: &mut Counts, d: &Counts) {
    to.sent += d.sent;
    to.delivered += d.delivered;
    to.failed += d.failed;
    to.expired += d.expired;
    to.rejected += d.rejected;
    to.cost += d.cost;
    to.refunded += d.refunded;
    to.deliver_seconds += d.deliver_seconds;
    to.timed += d.timed;
}

fn kind_label(label: &str) -> Option<&'static str> {
    match label {
        "command_status" => Some("command_status"),
        "network" => Some("network"),
        "receipt" => Some("receipt"),
        _ => None,
    }
}

async fn write_parts(
    conn: &mut PgConnection,
    rows: &[Row],
    tracked: &HashMap<Uuid, (usize, Tracked)>,
) -> Result<()> {
    let mut cols = PartCols::default();
    for r in rows {
        let Some((_, t)) = tracked.get(&r.id) else {
            continue;
        };
        for (index, p) in t.parts.iter().filter(|(_, p)| p.changed) {
            cols.message.push(r.id);
            cols.account.push(r.account_id);
            cols.part.push(i32::from(*index));
            cols.total.push(i32::from(p.total));
            cols.status.push(p.status.as_str().to_owned());
            cols.upstream.push(p.detail.upstream.clone());
            cols.smsc.push(p.detail.smsc_message_id.clone());
            cols.kind.push(p.detail.error_kind.map(str::to_owned));
            cols.code.push(p.detail.error_code);
            cols.text.push(p.detail.error_text.clone());
            cols.at.push(p.at);
        }
    }
    if cols.message.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO message_parts (message_id, account_id, part, total, status, upstream,
                                    smsc_message_id, error_kind, error_code, error_text, updated_at)
         SELECT u.m, u.a, u.p, u.t, u.s::message_status, u.up, u.sm, u.k, u.c, u.x, u.at
         FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::int[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::int8[], $10::text[], $11::timestamptz[])
              AS u (m, a, p, t, s, up, sm, k, c, x, at)
         ON CONFLICT (message_id, part) DO UPDATE SET
             total = EXCLUDED.total, status = EXCLUDED.status,
             upstream = coalesce(EXCLUDED.upstream, message_parts.upstream),
             smsc_message_id = coalesce(EXCLUDED.smsc_message_id, message_parts.smsc_message_id),
             error_kind = coalesce(EXCLUDED.error_kind, message_parts.error_kind),
             error_code = coalesce(EXCLUDED.error_code, message_parts.error_code),
             error_text = coalesce(EXCLUDED.error_text, message_parts.error_text),
             updated_at = EXCLUDED.updated_at",
    )
    .bind(&cols.message)
    .bind(&cols.account)
    .bind(&cols.part)
    .bind(&cols.total)
    .bind(&cols.status)
    .bind(&cols.upstream)
    .bind(&cols.smsc)
    .bind(&cols.kind)
    .bind(&cols.code)
    .bind(&cols.text)
    .bind(&cols.at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Default)]
struct PartCols {
    message: Vec<Uuid>,
    account: Vec<Uuid>,
    part: Vec<i32>,
    total: Vec<i32>,
    status: Vec<String>,
    upstream: Vec<Option<String>>,
    smsc: Vec<Option<String>>,
    kind: Vec<Option<String>>,
    code: Vec<Option<i64>>,
    text: Vec<Option<String>>,
    at: Vec<OffsetDateTime>,
}

async fn write_messages(
    conn: &mut PgConnection,
    changed: &[&Row],
    tracked: &HashMap<Uuid, (usize, Tracked)>,
    settle: &std::collections::HashSet<Uuid>,
) -> Result<()> {
    let mut settled = Vec::new();
    let mut id = Vec::new();
    let mut status = Vec::new();
    let mut sent_at = Vec::new();
    let mut final_at = Vec::new();
    let mut upstream = Vec::new();
    let mut smsc = Vec::new();
    let mut kind = Vec::new();
    let mut code = Vec::new();
    let mut text = Vec::new();
    for r in changed {
        let Some((_, t)) = tracked.get(&r.id) else {
            continue;
        };
        id.push(r.id);
        settled.push(settle.contains(&r.id));
        status.push(t.status.as_str().to_owned());
        sent_at.push(t.sent_at);
        final_at.push(t.final_at);
        upstream.push(t.detail.upstream.clone());
        smsc.push(t.detail.smsc_message_id.clone());
        kind.push(t.detail.error_kind.map(str::to_owned));
        code.push(t.detail.error_code);
        text.push(t.detail.error_text.clone());
    }
    sqlx::query(
        "UPDATE messages m SET status = u.s::message_status,
                sent_at = coalesce(m.sent_at, u.sent), final_at = coalesce(m.final_at, u.fin),
                upstream = coalesce(u.up, m.upstream),
                smsc_message_id = coalesce(u.sm, m.smsc_message_id),
                error_kind = coalesce(u.k, m.error_kind), error_code = coalesce(u.c, m.error_code),
                error_text = coalesce(u.x, m.error_text), settled = m.settled OR u.st,
                updated_at = now()
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[],
                     $6::text[], $7::text[], $8::int8[], $9::text[], $10::bool[])
              AS u (id, s, sent, fin, up, sm, k, c, x, st)
         WHERE m.id = u.id",
    )
    .bind(&id)
    .bind(&status)
    .bind(&sent_at)
    .bind(&final_at)
    .bind(&upstream)
    .bind(&smsc)
    .bind(&kind)
    .bind(&code)
    .bind(&text)
    .bind(&settled)
    .execute(conn)
    .await?;
    Ok(())
}

async fn write_timeline(
    conn: &mut PgConnection,
    rows: &[Row],
    tracked: &HashMap<Uuid, (usize, Tracked)>,
    steps: &[(Uuid, Step)],
) -> Result<()> {
    let mut id = Vec::with_capacity(steps.len());
    let mut message = Vec::with_capacity(steps.len());
    let mut account = Vec::with_capacity(steps.len());
    let mut status = Vec::with_capacity(steps.len());
    let mut parts = Vec::with_capacity(steps.len());
    let mut detail = Vec::with_capacity(steps.len());
    let mut at = Vec::with_capacity(steps.len());
    for (message_id, step) in steps {
        let Some((i, t)) = tracked.get(message_id) else {
            continue;
        };
        id.push(Uuid::now_v7());
        message.push(*message_id);
        account.push(rows[*i].account_id);
        status.push(step.status.as_str().to_owned());
        parts.push(step.part.map(|(_, total)| i32::from(total)));
        detail.push(timeline_detail(step, t));
        at.push(step.at);
    }
    sqlx::query(
        "INSERT INTO message_events (id, message_id, account_id, status, parts, detail, at)
         SELECT u.id, u.m, u.a, u.s::message_status, u.p, u.d, u.at
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::int[], $6::jsonb[],
                     $7::timestamptz[]) AS u (id, m, a, s, p, d, at)",
    )
    .bind(&id)
    .bind(&message)
    .bind(&account)
    .bind(&status)
    .bind(&parts)
    .bind(&detail)
    .bind(&at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The timeline row's detail: what the upstream said, and for a long message each part.
fn timeline_detail(step: &Step, t: &Tracked) -> Value {
    let mut d = serde_json::Map::new();
    let s = &step.detail;
    if let Some(v) = &s.upstream {
        d.insert("upstream".into(), json!(v));
    }
    if let Some(v) = &s.smsc_message_id {
        d.insert("smsc_message_id".into(), json!(v));
    }
    if let (Some(kind), Some(code)) = (s.error_kind, s.error_code) {
        d.insert("error".into(), json!({ "kind": kind, "code": code }));
    }
    if let Some(v) = &s.error_text {
        d.insert("error_text".into(), json!(v));
    }
    if let Some((index, total)) = step.part {
        d.insert("segment".into(), json!({ "index": index, "total": total }));
        let segments: Vec<Value> = t
            .parts
            .iter()
            .map(|(i, p)| {
                json!({
                    "index": i,
                    "status": p.status.as_str(),
                    "smsc_message_id": p.detail.smsc_message_id,
                })
            })
            .collect();
        d.insert("segments".into(), Value::Array(segments));
    }
    Value::Object(d)
}

async fn write_rollups(
    conn: &mut PgConnection,
    rollups: &BTreeMap<Key, Counts>,
    latency: &BTreeMap<(Key, i16), i64>,
) -> Result<()> {
    if !rollups.is_empty() {
        let mut k = KeyCols::default();
        let mut sent = Vec::new();
        let mut delivered = Vec::new();
        let mut failed = Vec::new();
        let mut expired = Vec::new();
        let mut rejected = Vec::new();
        let mut cost = Vec::new();
        let mut refunded = Vec::new();
        let mut seconds = Vec::new();
        let mut timed = Vec::new();
        for (key, c) in rollups {
            k.push(key);
            sent.push(c.sent);
            delivered.push(c.delivered);
            failed.push(c.failed);
            expired.push(c.expired);
            rejected.push(c.rejected);
            cost.push(c.cost);
            refunded.push(c.refunded);
            seconds.push(c.deliver_seconds);
            timed.push(c.timed);
        }
        sqlx::query(
            "INSERT INTO message_rollups AS r (account_id, day, campaign_id, country, mno_id, sent,
                 delivered, failed, expired, rejected, cost, refunded, deliver_seconds, timed)
             SELECT * FROM unnest($1::uuid[], $2::date[], $3::uuid[], $4::text[], $5::text[],
                 $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::numeric[],
                 $12::numeric[], $13::float8[], $14::int8[])
             ON CONFLICT (account_id, day, campaign_id, country, mno_id) DO UPDATE SET
                 sent = r.sent + EXCLUDED.sent, delivered = r.delivered + EXCLUDED.delivered,
                 failed = r.failed + EXCLUDED.failed, expired = r.expired + EXCLUDED.expired,
                 rejected = r.rejected + EXCLUDED.rejected, cost = r.cost + EXCLUDED.cost,
                 refunded = r.refunded + EXCLUDED.refunded,
                 deliver_seconds = r.deliver_seconds + EXCLUDED.deliver_seconds,
                 timed = r.timed + EXCLUDED.timed",
        )
        .bind(&k.account)
        .bind(&k.day)
        .bind(&k.campaign)
        .bind(&k.country)
        .bind(&k.mno)
        .bind(&sent)
        .bind(&delivered)
        .bind(&failed)
        .bind(&expired)
        .bind(&rejected)
        .bind(&cost)
        .bind(&refunded)
        .bind(&seconds)
        .bind(&timed)
        .execute(&mut *conn)
        .await?;
    }
    if !latency.is_empty() {
        let mut k = KeyCols::default();
        let mut bucket = Vec::new();
        let mut n = Vec::new();
        for ((key, b), count) in latency {
            k.push(key);
            bucket.push(*b);
            n.push(*count);
        }
        sqlx::query(
            "INSERT INTO message_latency AS l (account_id, day, campaign_id, country, mno_id,
                 bucket, n)
             SELECT * FROM unnest($1::uuid[], $2::date[], $3::uuid[], $4::text[], $5::text[],
                 $6::int2[], $7::int8[])
             ON CONFLICT (account_id, day, campaign_id, country, mno_id, bucket)
             DO UPDATE SET n = l.n + EXCLUDED.n",
        )
        .bind(&k.account)
        .bind(&k.day)
        .bind(&k.campaign)
        .bind(&k.country)
        .bind(&k.mno)
        .bind(&bucket)
        .bind(&n)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[derive(Default)]
struct KeyCols {
    account: Vec<Uuid>,
    day: Vec<time::Date>,
    campaign: Vec<Uuid>,
    country: Vec<String>,
    mno: Vec<String>,
}

impl KeyCols {
    fn push(&mut self, key: &Key) {
        self.account.push(key.0);
        self.day.push(key.1);
        self.campaign.push(key.2);
        self.country.push(key.3.clone());
        self.mno.push(key.4.clone());
    }
}

/// Adds the counters, completes the campaigns that are done (report + notification); the
/// ids of those completed.
async fn write_campaigns(
    conn: &mut PgConnection,
    by_campaign: &BTreeMap<Uuid, Counts>,
    base_url: &str,
) -> Result<Vec<Uuid>> {
    if by_campaign.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = by_campaign.keys().copied().collect();
    let col = |f: fn(&Counts) -> i64| by_campaign.values().map(f).collect::<Vec<i64>>();
    let spent: Vec<Decimal> = by_campaign.values().map(|c| c.cost).collect();
    sqlx::query(
        "UPDATE campaigns c SET sent_count = c.sent_count + u.sent,
                delivered_count = c.delivered_count + u.delivered,
                failed_count = c.failed_count + u.failed,
                expired_count = c.expired_count + u.expired,
                rejected_count = c.rejected_count + u.rejected,
                spent_cost = c.spent_cost + u.spent, updated_at = now()
         FROM unnest($1::uuid[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[],
                     $7::numeric[]) AS u (id, sent, delivered, failed, expired, rejected, spent)
         WHERE c.id = u.id",
    )
    .bind(&ids)
    .bind(col(|c| c.sent))
    .bind(col(|c| c.delivered))
    .bind(col(|c| c.failed))
    .bind(col(|c| c.expired))
    .bind(col(|c| c.rejected))
    .bind(&spent)
    .execute(&mut *conn)
    .await?;
    let done: Vec<(Uuid, Uuid, String, i32, i32)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE campaigns c SET status = 'completed', completed_at = now(), updated_at = now(),
                report = {REPORT}
         WHERE c.id = ANY($1) AND c.status = 'sending'
           AND c.dispatched_count = c.total_recipients
           AND c.delivered_count + c.failed_count + c.expired_count + c.rejected_count
               >= c.dispatched_count
         RETURNING c.id, c.account_id, c.name, c.delivered_count, c.total_recipients"
    )))
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    for (id, account, name, delivered, total) in &done {
        let body = format!("{name}: {delivered} of {total} messages delivered.");
        notifications::notify(
            conn,
            *account,
            &Notice {
                kind: "campaign.completed",
                title: "Campaign completed",
                body: &body,
                data: json!({ "campaign_id": id }),
            },
            base_url,
        )
        .await?;
    }
    Ok(done.into_iter().map(|d| d.0).collect())
}

/// A campaign's final report, as SQL over the campaign row `c` and its rollups: the counts,
/// the delivery rate (delivered / final, 4 places), the cost (a decimal string, as money is
/// everywhere in the API), and the same per country and operator with the mean time to
/// deliver. The status consumer writes it at completion; a finished campaign's report is
/// built the same way.
pub const REPORT: &str = "jsonb_build_object(
    'recipients', c.total_recipients, 'sent', c.sent_count, 'delivered', c.delivered_count,
    'failed', c.failed_count, 'expired', c.expired_count, 'rejected', c.rejected_count,
    'opted_out', c.opted_out_count,
    'delivery_rate', CASE WHEN c.delivered_count + c.failed_count + c.expired_count
                               + c.rejected_count = 0 THEN NULL
                     ELSE round(c.delivered_count::numeric / (c.delivered_count + c.failed_count
                               + c.expired_count + c.rejected_count), 4) END,
    'cost', c.spent_cost::text,
    'by_operator', (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'country', r.country, 'operator', nullif(r.mno_id, ''), 'sent', r.sent,
            'delivered', r.delivered, 'failed', r.failed + r.expired + r.rejected,
            'cost', r.cost::text,
            'mean_seconds_to_deliver', CASE WHEN r.timed = 0 THEN NULL
                                       ELSE round((r.deliver_seconds / r.timed)::numeric, 1) END)
            ORDER BY r.country, r.mno_id), '[]'::jsonb)
        FROM (SELECT country, mno_id, sum(sent) AS sent, sum(delivered) AS delivered,
                     sum(failed) AS failed, sum(expired) AS expired, sum(rejected) AS rejected,
                     sum(cost) AS cost, sum(deliver_seconds) AS deliver_seconds,
                     sum(timed) AS timed
              FROM message_rollups WHERE campaign_id = c.id GROUP BY country, mno_id) r))";
