//! SQL of the dispatcher: claiming due and sending campaigns (`FOR UPDATE SKIP LOCKED`, accounts
//! the send gate bars or holds left out), expanding an audience into `campaign_recipients` in one statement,
//! counting an audience for the preview, taking a batch of recipients, and writing a batch's
//! messages, events, outbox rows and recipient links in one statement.

use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::gate::blocked;
use crate::campaigns::preview::types::Exclusions;
use crate::contacts::filter::SearchFilter;
use crate::contacts::store::{FILTER_SQL, bind_filter};
use crate::error::{Error, Result};
use crate::identity::scope::AccountScope;
use crate::messages::store::NewMessages;
use crate::messages::types::MessagePriority;
use crate::sender_ids::types::SenderIdStatus;

/// The audience over `contacts c`: the filter (`$1` account, `$2`–`$7`, see [`FILTER_SQL`]),
/// active contacts, members of the campaign's lists (`$8`) when it names any.
fn audience() -> String {
    format!(
        "{FILTER_SQL} AND c.deleted_at IS NULL
         AND (NOT EXISTS (SELECT 1 FROM campaign_lists cl WHERE cl.campaign_id = $8)
              OR EXISTS (SELECT 1 FROM campaign_lists cl
                         JOIN contact_list_memberships lm ON lm.list_id = cl.list_id
                         WHERE cl.campaign_id = $8 AND lm.contact_id = c.id))"
    )
}

/// Who of the audience can be sent to: a valid E.164 number, not opted out, not suppressed.
const SENDABLE: &str = "c.status = 'valid' AND NOT c.is_opted_out
    AND c.phone ~ '^\\+[1-9][0-9]{6,14}$'
    AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.account_id = $1 AND s.phone = c.phone)";

/// A claimed campaign.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    /// Campaign.
    pub id: Uuid,
    /// Organisation.
    pub account_id: Uuid,
    /// The stored audience filter.
    pub audience_filter: Option<Value>,
    /// The organisation's country (national numbers in a filter).
    pub country: String,
}

/// Locks one due campaign (`queued`, or `scheduled` with `send_at` reached) no other
/// dispatcher holds, of an account the send gate does not bar or hold.
pub async fn claim_due(conn: &mut PgConnection) -> Result<Option<Claimed>> {
    let sql = format!(
        "SELECT k.id, k.account_id, k.audience_filter, a.country
         FROM campaigns k JOIN accounts a ON a.id = k.account_id
         WHERE k.deleted_at IS NULL
           AND (k.status = 'queued' OR (k.status = 'scheduled' AND k.send_at <= now()))
           AND NOT {}
         ORDER BY k.send_at NULLS FIRST, k.id
         LIMIT 1 FOR UPDATE OF k SKIP LOCKED",
        blocked("k.account_id")
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_optional(conn)
        .await?)
}

/// Expands the audience of `campaign` into `campaign_recipients`: one row per sendable
/// number, `seq` in contact order; the recipients written. Run once per campaign (the
/// expansion commits with [`start`], and a started campaign is never expanded again). With
/// lists the membership is a semi-join (one pass over the memberships, not a probe per
/// contact).
pub async fn expand(
    conn: &mut PgConnection,
    scope: AccountScope,
    campaign: Uuid,
    filter: &SearchFilter,
) -> Result<i64> {
    let has_lists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM campaign_lists WHERE campaign_id = $1)")
            .bind(campaign)
            .fetch_one(&mut *conn)
            .await?;
    let lists = if has_lists {
        "AND c.id IN (SELECT lm.contact_id FROM campaign_lists cl
                      JOIN contact_list_memberships lm ON lm.list_id = cl.list_id
                      WHERE cl.campaign_id = $8)"
    } else {
        ""
    };
    let sql = format!(
        "WITH ins AS (
            INSERT INTO campaign_recipients (campaign_id, seq, account_id, contact_id, destination)
            SELECT $8, row_number() OVER (ORDER BY c.id), $1, c.id, c.phone
            FROM contacts c WHERE {FILTER_SQL} AND c.deleted_at IS NULL {lists} AND {SENDABLE}
            RETURNING 1
         )
         SELECT count(*) FROM ins"
    );
    let (inserted,): (i64,) = bind_filter(sqlx::query_as(sqlx::AssertSqlSafe(sql)), scope, filter)
        .bind(campaign)
        .fetch_one(&mut *conn)
        .await?;
    Ok(inserted)
}

/// Dispatch started: `sending` with its recipient count, or (nobody to send to) `completed`
/// at once with an all-zero report.
pub async fn start(conn: impl PgExecutor<'_>, campaign: Uuid, total: i64) -> Result<()> {
    let total = i32::try_from(total).map_err(Error::internal)?;
    sqlx::query(
        "UPDATE campaigns SET total_recipients = $2, started_at = coalesce(started_at, now()),
             status = CASE WHEN $2 = 0 THEN 'completed'::campaign_status ELSE 'sending' END,
             completed_at = CASE WHEN $2 = 0 THEN now() END,
             report = CASE WHEN $2 = 0 THEN jsonb_build_object(
                 'recipients', 0, 'dispatched', 0, 'sent', 0, 'delivered', 0, 'failed', 0,
                 'expired', 0, 'rejected', 0, 'delivery_rate', 0, 'cost', '0.0000',
                 'by_operator', '[]'::jsonb) END,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(campaign)
    .bind(total)
    .execute(conn)
    .await?;
    Ok(())
}

/// A campaign being dispatched, with what its batches need.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Sending {
    /// Campaign.
    pub id: Uuid,
    /// Organisation.
    pub account_id: Uuid,
    /// Text with tokens.
    pub message: String,
    /// Lane.
    pub priority: MessagePriority,
    /// Quiet hours.
    pub quiet_hours: bool,
    /// Sender ID row.
    pub sender_id: Option<Uuid>,
    /// Its text.
    pub sender: Option<String>,
    /// Its status.
    pub sender_status: Option<SenderIdStatus>,
}

/// Takes one `sending` campaign with recipients left to dispatch, of an account the send gate
/// does not bar or hold, with a `FOR KEY SHARE` lock: several dispatchers write batches of one
/// campaign at once (each locks its own recipients, [`next_batch`]), while a pause, resume or
/// cancel (`FOR UPDATE`) waits for the batches in progress and is skipped by new ones. Quiet
/// hours apply when the campaign asks for them or its sender ID is registered promotional.
pub async fn claim_sending(conn: &mut PgConnection) -> Result<Option<Sending>> {
    let sql = format!(
        "SELECT k.id, k.account_id, k.message, k.priority,
                k.quiet_hours OR coalesce(s.traffic_type = 'promotional', false) AS quiet_hours,
                k.sender_id,
                s.name AS sender, s.status AS sender_status
         FROM campaigns k LEFT JOIN sender_ids s ON s.id = k.sender_id
         WHERE k.status = 'sending' AND k.deleted_at IS NULL
           AND EXISTS (SELECT 1 FROM campaign_recipients r WHERE r.campaign_id = k.id
                         AND r.message_id IS NULL AND r.skipped_reason IS NULL)
           AND NOT {}
         ORDER BY k.id
         LIMIT 1 FOR KEY SHARE OF k SKIP LOCKED",
        blocked("k.account_id")
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_optional(conn)
        .await?)
}

/// Locks the batch's account and sender ID `FOR KEY SHARE` for the rest of the transaction:
/// the guarantee the per-row foreign-key checks gave, once (migration 0130, adr/cp-0004).
/// False when either is gone.
pub async fn hold_parents(
    conn: &mut PgConnection,
    account_id: Uuid,
    sender_id: Uuid,
) -> Result<bool> {
    let held: i64 = sqlx::query_scalar(
        "WITH a AS (SELECT 1 FROM accounts WHERE id = $1 FOR KEY SHARE),
              s AS (SELECT 1 FROM sender_ids WHERE id = $2 FOR KEY SHARE)
         SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM s)",
    )
    .bind(account_id)
    .bind(sender_id)
    .fetch_one(conn)
    .await?;
    Ok(held == 2)
}

/// A recipient with the contact fields its text may use.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    /// Position in the campaign.
    pub seq: i64,
    /// The contact (none when it was purged since the expansion).
    pub contact_id: Option<Uuid>,
    /// E.164.
    pub destination: String,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Custom attributes.
    pub attributes: Option<Value>,
}

/// The next `limit` recipients to dispatch, in `seq` order, locked (`FOR UPDATE SKIP LOCKED`:
/// a parallel dispatcher of the same campaign takes the following ones).
pub async fn next_batch(
    conn: impl PgExecutor<'_>,
    campaign: Uuid,
    limit: i64,
) -> Result<Vec<Recipient>> {
    Ok(sqlx::query_as(
        "SELECT r.seq, c.id AS contact_id, r.destination, c.first_name, c.last_name, c.email, c.attributes
         FROM campaign_recipients r LEFT JOIN contacts c ON c.id = r.contact_id
         WHERE r.campaign_id = $1 AND r.message_id IS NULL AND r.skipped_reason IS NULL
         ORDER BY r.seq LIMIT $2 FOR UPDATE OF r SKIP LOCKED",
    )
    .bind(campaign)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// One batch's messages, column by column.
#[derive(Debug, Default)]
pub struct Batch {
    /// Recipient positions.
    pub seqs: Vec<i64>,
    /// The messages as priced: ids, their `submitted` events, E.164 destinations, countries,
    /// operators, rates and costs, and what the agent is charged for a sub-customer's.
    pub rows: NewMessages,
    /// Rendered texts.
    pub bodies: Vec<String>,
    /// `gsm7` / `ucs2`.
    pub encodings: Vec<String>,
    /// Parts.
    pub parts: Vec<i32>,
    /// Time zones of the destinations (quiet hours).
    pub timezones: Vec<String>,
}

/// What a batch shares.
#[derive(Debug)]
pub struct BatchCommon<'a> {
    /// Organisation.
    pub account_id: Uuid,
    /// Campaign.
    pub campaign_id: Uuid,
    /// Sender ID row.
    pub sender_id: Uuid,
    /// Its text.
    pub sender: &'a str,
    /// Lane.
    pub priority: MessagePriority,
    /// Hold to 08:00 local outside 08:00–21:00.
    pub quiet_hours: bool,
    /// The reservation holding the batch.
    pub reservation: Option<&'a str>,
    /// The agent whose credits hold it, for a sub-customer's campaign.
    pub billed_account_id: Option<Uuid>,
    /// The moment quiet hours are judged at (the dispatcher's clock).
    pub at: OffsetDateTime,
}

/// Writes the batch's messages, `submitted` events and outbox rows and links each recipient
/// to its message — one statement; the recipients linked (fewer than the batch means another
/// dispatcher got there first: the caller rolls back).
pub async fn write_batch(conn: &mut PgConnection, c: &BatchCommon<'_>, b: &Batch) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "WITH r AS (
            SELECT * FROM unnest($8::uuid[], $9::text[], $10::text[], $11::text[], $12::text[],
                                 $13::text[], $14::int[], $15::numeric[], $16::numeric[],
                                 $17::text[], $18::uuid[], $19::bigint[], $22::numeric[],
                                 $23::numeric[])
                AS r (id, destination, country, mno_id, body, encoding, parts, unit_price, cost,
                      tz, event_id, seq, billed_unit_price, billed_cost)
         ), t AS (
            SELECT r.*, $20::timestamptz AT TIME ZONE r.tz AS local FROM r
         ), m AS (
            INSERT INTO messages (id, account_id, campaign_id, sender_id, sender, destination,
                country, mno_id, body, encoding, parts, unit_price, cost, priority, status,
                send_at, reservation, billed_account_id, billed_unit_price, billed_cost)
            SELECT t.id, $1, $2, $3, $4, t.destination, t.country, t.mno_id, t.body,
                   t.encoding::message_encoding, t.parts, t.unit_price, t.cost, $5, 'submitted',
                   CASE WHEN $6 AND (extract(hour FROM t.local) >= 21 OR extract(hour FROM t.local) < 8)
                        THEN (date_trunc('day', t.local)
                              + CASE WHEN extract(hour FROM t.local) >= 21 THEN interval '1 day'
                                     ELSE interval '0' END
                              + interval '8 hours') AT TIME ZONE t.tz
                   END,
                   $7, CASE WHEN t.billed_cost IS NOT NULL THEN $21::uuid END,
                   t.billed_unit_price, t.billed_cost
            FROM t
            RETURNING id, account_id, parts, created_at, send_at
         ), e AS (
            INSERT INTO message_events (id, message_id, account_id, status, parts, at)
            SELECT r.event_id, m.id, m.account_id, 'submitted', m.parts, m.created_at
            FROM m JOIN r ON r.id = m.id
         ), o AS (
            INSERT INTO message_outbox (message_id, priority, available_at)
            SELECT m.id, $5, coalesce(m.send_at, m.created_at) FROM m
         ), u AS (
            UPDATE campaign_recipients cr SET message_id = r.id
            FROM r WHERE cr.campaign_id = $2 AND cr.seq = r.seq AND cr.message_id IS NULL
                AND cr.skipped_reason IS NULL
            RETURNING 1
         )
         SELECT count(*) FROM u",
    )
    .bind(c.account_id)
    .bind(c.campaign_id)
    .bind(c.sender_id)
    .bind(c.sender)
    .bind(c.priority)
    .bind(c.quiet_hours)
    .bind(c.reservation)
    .bind(&b.rows.ids)
    .bind(&b.rows.destinations)
    .bind(&b.rows.countries)
    .bind(&b.rows.mno_ids)
    .bind(&b.bodies)
    .bind(&b.encodings)
    .bind(&b.parts)
    .bind(&b.rows.unit_prices)
    .bind(&b.rows.costs)
    .bind(&b.timezones)
    .bind(&b.rows.event_ids)
    .bind(&b.seqs)
    .bind(c.at)
    .bind(c.billed_account_id)
    .bind(&b.rows.billed_unit_prices)
    .bind(&b.rows.billed_costs)
    .fetch_one(conn)
    .await?)
}

/// Marks recipients that cannot be sent to, with why.
pub async fn skip(
    conn: impl PgExecutor<'_>,
    campaign: Uuid,
    seqs: &[i64],
    reasons: &[String],
) -> Result<()> {
    sqlx::query(
        "UPDATE campaign_recipients cr SET skipped_reason = x.reason
         FROM unnest($2::bigint[], $3::text[]) AS x (seq, reason)
         WHERE cr.campaign_id = $1 AND cr.seq = x.seq AND cr.message_id IS NULL",
    )
    .bind(campaign)
    .bind(seqs)
    .bind(reasons)
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts a batch: `dispatched` more written, `skipped` fewer to write, `reserved` more held.
/// False when the campaign is no longer `sending` (paused by a parallel batch's budget check):
/// the caller rolls the batch back.
pub async fn count_batch(
    conn: impl PgExecutor<'_>,
    campaign: Uuid,
    dispatched: i64,
    skipped: i64,
    reserved: Decimal,
) -> Result<bool> {
    let dispatched = i32::try_from(dispatched).map_err(Error::internal)?;
    let skipped = i32::try_from(skipped).map_err(Error::internal)?;
    let done = sqlx::query(
        "UPDATE campaigns SET dispatched_count = dispatched_count + $2,
             total_recipients = total_recipients - $3, reserved_cost = reserved_cost + $4,
             updated_at = now()
         WHERE id = $1 AND status = 'sending'",
    )
    .bind(campaign)
    .bind(dispatched)
    .bind(skipped)
    .bind(reserved)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Pauses a campaign with `reason` (budget, credit, sender).
pub async fn pause(conn: impl PgExecutor<'_>, campaign: Uuid, reason: &str) -> Result<()> {
    sqlx::query(
        "UPDATE campaigns SET status = 'paused', pause_reason = $2, updated_at = now()
         WHERE id = $1",
    )
    .bind(campaign)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// An audience counted for the preview.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Counted {
    /// Members matched, before exclusions (each contact once).
    pub audience: i64,
    /// Opted out; suppressed (and not opted out); invalid numbers (neither of the above);
    /// extra memberships of the same contact across the campaign's lists (`no_rate` zero:
    /// the preview counts it from the prices).
    #[sqlx(flatten)]
    pub excluded: Exclusions,
}

/// Counts the audience of a campaign for the preview, and its sendable recipients by
/// (country, operator).
pub async fn count_audience(
    conn: &mut PgConnection,
    scope: AccountScope,
    campaign: Uuid,
    filter: &SearchFilter,
) -> Result<(Counted, Vec<(String, Option<String>, i64)>)> {
    let sql = format!(
        "WITH a AS (
            SELECT c.is_opted_out AS opted_out,
                   EXISTS (SELECT 1 FROM suppressions s WHERE s.account_id = $1
                             AND s.phone = c.phone) AS suppressed,
                   c.status = 'valid' AND c.phone ~ '^\\+[1-9][0-9]{{6,14}}$' AS valid,
                   (SELECT count(*) FROM campaign_lists cl
                    JOIN contact_list_memberships lm ON lm.list_id = cl.list_id
                    WHERE cl.campaign_id = $8 AND lm.contact_id = c.id) AS lists
            FROM contacts c WHERE {}
         )
         SELECT count(*) AS audience,
                count(*) FILTER (WHERE opted_out) AS opted_out,
                count(*) FILTER (WHERE NOT opted_out AND suppressed) AS suppressed,
                count(*) FILTER (WHERE NOT opted_out AND NOT suppressed AND NOT valid) AS invalid,
                coalesce(sum(greatest(lists - 1, 0)), 0)::bigint AS duplicates,
                0::bigint AS no_rate
         FROM a",
        audience()
    );
    let counted: Counted = bind_filter(sqlx::query_as(sqlx::AssertSqlSafe(sql)), scope, filter)
        .bind(campaign)
        .fetch_one(&mut *conn)
        .await?;
    let sql = format!(
        "SELECT c.country, c.mno_id, count(*) FROM contacts c WHERE {} AND {SENDABLE}
         GROUP BY c.country, c.mno_id ORDER BY count(*) DESC, c.country, c.mno_id",
        audience()
    );
    let groups: Vec<(Option<String>, Option<String>, i64)> =
        bind_filter(sqlx::query_as(sqlx::AssertSqlSafe(sql)), scope, filter)
            .bind(campaign)
            .fetch_all(&mut *conn)
            .await?;
    let groups = groups
        .into_iter()
        .map(|(country, mno, n)| (country.unwrap_or_default(), mno, n))
        .collect();
    Ok((counted, groups))
}

/// The first sendable audience member (the preview's sample contact).
pub async fn sample_contact(
    conn: &mut PgConnection,
    scope: AccountScope,
    campaign: Uuid,
    filter: &SearchFilter,
) -> Result<Option<Uuid>> {
    let sql = format!(
        "SELECT c.id FROM contacts c WHERE {} AND {SENDABLE} ORDER BY c.id LIMIT 1",
        audience()
    );
    let row: Option<(Uuid,)> = bind_filter(sqlx::query_as(sqlx::AssertSqlSafe(sql)), scope, filter)
        .bind(campaign)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.0))
}
