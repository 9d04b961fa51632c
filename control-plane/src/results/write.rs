//! The writes of one applied batch, each one `unnest` statement: parts, messages (status and
//! settled flag in one write), timeline, rollups and latency buckets, campaign counters and
//! completion with its report and notification.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Value, json};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::apply::{Step, Tracked};
use super::store::{Counts, Key, Row};
use crate::error::Result;
use crate::notifications::{self, Notice};

pub(super) fn add(to: &mut Counts, d: &Counts) {
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

pub(super) async fn write_parts(
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

pub(super) async fn write_messages(
    conn: &mut PgConnection,
    changed: &[&Row],
    tracked: &HashMap<Uuid, (usize, Tracked)>,
    settle: &HashSet<Uuid>,
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

/// The timeline rows of the batch's steps, then their webhook outbox rows (`message.sent`,
/// `.delivered`, `.failed`, `.expired`), each in one statement, the webhook rows for the
/// accounts with a subscribed endpoint only.
pub(super) async fn write_timeline(
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
    .execute(&mut *conn)
    .await?;
    let hooked: Vec<usize> = (0..status.len())
        .filter(|&j| crate::webhooks::events::message_event(&status[j]).is_some())
        .collect();
    if !hooked.is_empty() {
        let (message, account) = (pick(&message, &hooked), pick(&account, &hooked));
        let (status, at) = (pick(&status, &hooked), pick(&at, &hooked));
        crate::webhooks::events::message_steps(conn, &message, &account, &status, &at).await?;
    }
    Ok(())
}

/// The entries of `v` at `indices`.
fn pick<T: Clone>(v: &[T], indices: &[usize]) -> Vec<T> {
    indices.iter().map(|&i| v[i].clone()).collect()
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

pub(super) async fn write_rollups(
    conn: &mut PgConnection,
    rollups: &BTreeMap<Key, Counts>,
    latency: &BTreeMap<(Key, i16), i64>,
) -> Result<()> {
    if !rollups.is_empty() {
        let mut k = KeyCols::default();
        rollups.keys().for_each(|key| k.push(key));
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
        .bind(col(rollups, |c| c.sent))
        .bind(col(rollups, |c| c.delivered))
        .bind(col(rollups, |c| c.failed))
        .bind(col(rollups, |c| c.expired))
        .bind(col(rollups, |c| c.rejected))
        .bind(col(rollups, |c| c.cost))
        .bind(col(rollups, |c| c.refunded))
        .bind(col(rollups, |c| c.deliver_seconds))
        .bind(col(rollups, |c| c.timed))
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

/// One column of the counters, in key order (an `unnest` array).
fn col<K, T>(counts: &BTreeMap<K, Counts>, f: impl Fn(&Counts) -> T) -> Vec<T> {
    counts.values().map(f).collect()
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
pub(super) async fn write_campaigns(
    conn: &mut PgConnection,
    by_campaign: &BTreeMap<Uuid, Counts>,
    base_url: &str,
) -> Result<Vec<Uuid>> {
    if by_campaign.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = by_campaign.keys().copied().collect();
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
    .bind(col(by_campaign, |c| c.sent))
    .bind(col(by_campaign, |c| c.delivered))
    .bind(col(by_campaign, |c| c.failed))
    .bind(col(by_campaign, |c| c.expired))
    .bind(col(by_campaign, |c| c.rejected))
    .bind(col(by_campaign, |c| c.cost))
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
