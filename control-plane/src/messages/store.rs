//! SQL of the messages feature. Customer statements take the caller's [`AccountScope`];
//! writes are set-based (one statement for all the rows of a request, arrays bound with
//! `unnest`), so a 10,000-recipient send costs the same few round trips as a single one.

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::http::pagination::PageRequest;
use crate::identity::scope::AccountScope;
use crate::messages::types::{Message, MessageEvent, MessagePriority, MessageQuery};

/// Columns of [`Message`] selected from `messages m`.
const COLUMNS: &str = "m.id, m.campaign_id, m.client_reference, m.sender, m.destination, \
    m.country, m.mno_id, m.body, m.encoding::text AS encoding, m.parts, m.unit_price, m.cost, \
    m.priority, m.status, m.send_at, m.expires_at, m.sent_at, m.final_at, m.upstream, \
    m.smsc_message_id, m.error_kind, m.error_code, m.error_text, m.settled, m.created_at, \
    m.updated_at";

/// Numbers among `phones` (E.164) the organisation must not send to, with why:
/// `opted_out` when a contact with the number opted out, else `suppressed` when the number is
/// on the suppression list.
pub async fn exclusions(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    phones: &[String],
) -> Result<Vec<(String, bool)>> {
    Ok(sqlx::query_as(
        "SELECT p.phone,
                EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = $1 AND c.phone = p.phone
                          AND c.is_opted_out) AS opted_out
         FROM unnest($2::text[]) AS p (phone)
         WHERE EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = $1 AND c.phone = p.phone
                         AND c.is_opted_out)
            OR EXISTS (SELECT 1 FROM suppressions s WHERE s.account_id = $1 AND s.phone = p.phone)",
    )
    .bind(scope.id())
    .bind(phones)
    .fetch_all(conn)
    .await?)
}

/// What one request writes, column by column (every vector one entry per message).
#[derive(Debug, Default)]
pub struct NewMessages {
    /// Message ids (UUIDv7).
    pub ids: Vec<Uuid>,
    /// Ids of their `submitted` events.
    pub event_ids: Vec<Uuid>,
    /// E.164 destinations.
    pub destinations: Vec<String>,
    /// Countries.
    pub countries: Vec<String>,
    /// Operator ids.
    pub mno_ids: Vec<Option<String>>,
    /// Rates per part.
    pub unit_prices: Vec<Decimal>,
    /// Costs.
    pub costs: Vec<Decimal>,
    /// The agent's rate per part, for a sub-customer's messages (else `None`).
    pub billed_unit_prices: Vec<Option<Decimal>>,
    /// What the agent is charged, for a sub-customer's messages (else `None`).
    pub billed_costs: Vec<Option<Decimal>>,
}

/// What every message of one request shares.
#[derive(Debug)]
pub struct Common<'a> {
    /// The organisation.
    pub scope: AccountScope,
    /// The campaign, for campaign messages.
    pub campaign_id: Option<Uuid>,
    /// The API key that sent it.
    pub api_key_id: Option<Uuid>,
    /// The user that sent it.
    pub user_id: Option<Uuid>,
    /// The customer's reference.
    pub client_reference: Option<&'a str>,
    /// The sender ID row.
    pub sender_id: Uuid,
    /// The sender ID text.
    pub sender: &'a str,
    /// The text.
    pub body: &'a str,
    /// `gsm7` or `ucs2`.
    pub encoding: &'a str,
    /// Parts per message.
    pub parts: i32,
    /// Lane.
    pub priority: MessagePriority,
    /// Scheduled time.
    pub send_at: Option<OffsetDateTime>,
    /// Validity end.
    pub expires_at: Option<OffsetDateTime>,
    /// The ledger reference holding the cost.
    pub reservation: Option<&'a str>,
    /// The agent whose credits hold the cost, for a sub-customer's messages.
    pub billed_account_id: Option<Uuid>,
}

/// Writes the messages, their `submitted` events and their outbox rows: one statement, which
/// first locks the organisation and the sender ID `FOR KEY SHARE` (the guarantee the per-row
/// foreign-key checks gave, once: migration 0130, adr/cp-0004).
pub async fn insert(conn: &mut PgConnection, c: &Common<'_>, rows: &NewMessages) -> Result<()> {
    let done = sqlx::query(
        "WITH held_account AS (
            SELECT 1 FROM accounts WHERE id = $1 FOR KEY SHARE
         ), held_sender AS (
            SELECT 1 FROM sender_ids WHERE id = $6 FOR KEY SHARE
         ), m AS (
            INSERT INTO messages (id, account_id, campaign_id, api_key_id, user_id,
                client_reference, sender_id, sender, destination, country, mno_id, body,
                encoding, parts, unit_price, cost, priority, status, send_at, expires_at,
                reservation, billed_account_id, billed_unit_price, billed_cost)
            SELECT r.id, $1, $2, $3, $4, $5, $6, $7, r.destination, r.country, r.mno_id, $8,
                   $9::message_encoding, $10, r.unit_price, r.cost, $11, 'submitted', $12, $13,
                   $14, CASE WHEN r.billed_cost IS NOT NULL THEN $22::uuid END,
                   r.billed_unit_price, r.billed_cost
            FROM unnest($15::uuid[], $16::text[], $17::text[], $18::text[], $19::numeric[],
                        $20::numeric[], $23::numeric[], $24::numeric[])
                AS r (id, destination, country, mno_id, unit_price, cost, billed_unit_price,
                      billed_cost)
            WHERE EXISTS (SELECT 1 FROM held_account) AND EXISTS (SELECT 1 FROM held_sender)
            RETURNING id, account_id, parts, created_at
         ), e AS (
            INSERT INTO message_events (id, message_id, account_id, status, parts, at)
            SELECT x.event_id, m.id, m.account_id, 'submitted', m.parts, m.created_at
            FROM m JOIN unnest($15::uuid[], $21::uuid[]) AS x (id, event_id) ON x.id = m.id
         )
         INSERT INTO message_outbox (message_id, priority, available_at)
         SELECT m.id, $11, coalesce($12, m.created_at) FROM m",
    )
    .bind(c.scope.id())
    .bind(c.campaign_id)
    .bind(c.api_key_id)
    .bind(c.user_id)
    .bind(c.client_reference)
    .bind(c.sender_id)
    .bind(c.sender)
    .bind(c.body)
    .bind(c.encoding)
    .bind(c.parts)
    .bind(c.priority)
    .bind(c.send_at)
    .bind(c.expires_at)
    .bind(c.reservation)
    .bind(&rows.ids)
    .bind(&rows.destinations)
    .bind(&rows.countries)
    .bind(&rows.mno_ids)
    .bind(&rows.unit_prices)
    .bind(&rows.costs)
    .bind(&rows.event_ids)
    .bind(c.billed_account_id)
    .bind(&rows.billed_unit_prices)
    .bind(&rows.billed_costs)
    .execute(conn)
    .await?;
    if done.rows_affected() != rows.ids.len() as u64 {
        return Err(Error::internal(
            "the organisation or the sender ID went away during the send",
        ));
    }
    Ok(())
}

/// One message of the organisation.
pub async fn get(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<Message>> {
    let sql = format!("SELECT {COLUMNS} FROM messages m WHERE m.account_id = $1 AND m.id = $2");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The organisation's messages below the page's cursor matching `q` (with `to` already in E.164),
/// newest first.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    q: &MessageQuery,
    to: Option<&str>,
    page: &PageRequest,
) -> Result<Vec<Message>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM messages m
         WHERE m.account_id = $1 AND m.id < $2
           AND ($3::message_status IS NULL OR m.status = $3)
           AND ($4::uuid IS NULL OR m.campaign_id = $4)
           AND ($5::text IS NULL OR m.destination = $5)
           AND ($6::text IS NULL OR m.client_reference = $6)
           AND ($7::timestamptz IS NULL OR m.created_at >= $7)
           AND ($8::timestamptz IS NULL OR m.created_at < $8)
         ORDER BY m.id DESC LIMIT $9"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(page.before_or_max())
        .bind(q.status)
        .bind(q.campaign_id)
        .bind(to)
        .bind(q.client_reference.as_deref())
        .bind(q.from)
        .bind(q.until)
        .bind(page.fetch_limit())
        .fetch_all(conn)
        .await?)
}

/// The timeline of one of the organisation's messages, oldest first.
pub async fn events(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Vec<MessageEvent>> {
    Ok(sqlx::query_as(
        "SELECT id, status, parts, detail, at FROM message_events
         WHERE account_id = $1 AND message_id = $2 ORDER BY id",
    )
    .bind(scope.id())
    .bind(id)
    .fetch_all(conn)
    .await?)
}

/// A claimed Idempotency-Key as found.
#[derive(Debug, sqlx::FromRow)]
pub struct StoredKey {
    /// Hash of the request that claimed it.
    pub request_hash: Vec<u8>,
    /// The answer given.
    pub status_code: Option<i32>,
    /// Its body.
    pub response: Option<serde_json::Value>,
}

/// Claims `key` for this transaction (an expired claim is dropped first): true when it is
/// ours now. A concurrent claim of the same key waits here until the other transaction ends.
pub async fn claim_key(
    conn: &mut PgConnection,
    scope: AccountScope,
    key: &str,
    hash: &[u8],
    ttl: time::Duration,
) -> Result<bool> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE account_id = $1 AND key = $2 AND expires_at <= now()",
    )
    .bind(scope.id())
    .bind(key)
    .execute(&mut *conn)
    .await?;
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (account_id, key, request_hash, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))
         ON CONFLICT (account_id, key) DO NOTHING",
    )
    .bind(scope.id())
    .bind(key)
    .bind(hash)
    .bind(ttl.as_seconds_f64())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

/// The claim of `key` someone else committed.
pub async fn stored_key(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    key: &str,
) -> Result<Option<StoredKey>> {
    Ok(sqlx::query_as(
        "SELECT request_hash, status_code, response FROM idempotency_keys
         WHERE account_id = $1 AND key = $2",
    )
    .bind(scope.id())
    .bind(key)
    .fetch_optional(conn)
    .await?)
}

/// Stores the answer of the request that claimed `key`.
pub async fn record_key(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    key: &str,
    status: u16,
    response: &serde_json::Value,
) -> Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET status_code = $3, response = $4
         WHERE account_id = $1 AND key = $2",
    )
    .bind(scope.id())
    .bind(key)
    .bind(i32::from(status))
    .bind(response)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets keys past their 24 hours; how many.
pub async fn purge_keys(conn: impl PgExecutor<'_>) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= now()")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// A due outbox row with what its submit request needs.
#[derive(Debug, sqlx::FromRow)]
pub struct Outgoing {
    /// Message id.
    pub id: Uuid,
    /// Organisation.
    pub account_id: Uuid,
    /// E.164 destination.
    pub destination: String,
    /// Sender ID text.
    pub sender: String,
    /// The text.
    pub body: String,
    /// `gsm7` or `ucs2`.
    pub encoding: String,
    /// Lane.
    pub priority: MessagePriority,
    /// Validity end.
    pub expires_at: Option<OffsetDateTime>,
    /// The customer's reference.
    pub client_reference: Option<String>,
    /// Accepted at.
    pub created_at: OffsetDateTime,
    /// The id the engine knows the current attempt by (`None`: the message id; set by a
    /// staff retry, see [`crate::results::attempts`]).
    pub attempt_id: Option<Uuid>,
}

/// Locks up to `limit` due outbox rows (oldest first, skipping rows another publisher holds
/// and the messages of the `halted` organisations) for the rest of the transaction, with
/// their messages.
pub async fn claim_outbox(
    conn: &mut PgConnection,
    limit: i64,
    halted: &[Uuid],
) -> Result<Vec<Outgoing>> {
    Ok(sqlx::query_as(
        "WITH due AS (
            SELECT o.message_id FROM message_outbox o
            WHERE o.available_at <= now()
              AND (cardinality($2::uuid[]) = 0
                   OR NOT EXISTS (SELECT 1 FROM messages hm WHERE hm.id = o.message_id
                                    AND hm.account_id = ANY($2)))
            ORDER BY o.available_at, o.message_id
            LIMIT $1 FOR UPDATE SKIP LOCKED
         )
         SELECT m.id, m.account_id, m.destination, m.sender, m.body,
                m.encoding::text AS encoding, m.priority, m.expires_at, m.client_reference,
                m.created_at, m.attempt_id
         FROM due JOIN messages m ON m.id = due.message_id
         ORDER BY m.id",
    )
    .bind(limit)
    .bind(halted)
    .fetch_all(conn)
    .await?)
}

/// Ids marked `queued` per statement: a pass of thousands is marked in slices, so no single
/// statement nears the API's statement timeout on a loaded database (5,000 at once did).
pub const MARK_CHUNK: usize = 1_000;

/// What a bus's confirm is worth (migration 0120).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// The broker has the request (RabbitMQ): the outbox row goes.
    Durable,
    /// The request is in this process's memory (the in-process bus): the row stays, leased,
    /// until the engine's first status for the message ([`end_leases`]) or the next start
    /// ([`renew_leases`]).
    InProcess,
}

/// The bus confirmed `ids`: `submitted → queued` (with the event) and their outbox rows
/// gone (or leased, `confirm` says), in slices of [`MARK_CHUNK`] (one set-based statement
/// each, in the caller's transaction). A message already past `submitted` (a status that
/// raced ahead) keeps its status.
pub async fn mark_queued(
    conn: &mut PgConnection,
    ids: &[Uuid],
    event_ids: &[Uuid],
    confirm: Confirm,
) -> Result<()> {
    let outbox = match confirm {
        Confirm::Durable => "DELETE FROM message_outbox WHERE message_id = ANY($1)",
        Confirm::InProcess => {
            "UPDATE message_outbox SET leased_at = now(), available_at = 'infinity'
             WHERE message_id = ANY($1)"
        }
    };
    let statement = format!(
        "WITH gone AS (
            {outbox} RETURNING message_id
         ), m AS (
            UPDATE messages SET status = 'queued', updated_at = now()
            WHERE id IN (SELECT message_id FROM gone) AND status = 'submitted'
            RETURNING id, account_id, parts
         )
         INSERT INTO message_events (id, message_id, account_id, status, parts)
         SELECT x.event_id, m.id, m.account_id, 'queued', m.parts
         FROM m JOIN unnest($1::uuid[], $2::uuid[]) AS x (id, event_id) ON x.id = m.id"
    );
    for (ids, event_ids) in ids.chunks(MARK_CHUNK).zip(event_ids.chunks(MARK_CHUNK)) {
        sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
            .bind(ids)
            .bind(event_ids)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The engine reported on `ids`: their leased outbox rows go. Rows a publisher holds right
/// now (a status that raced ahead of its commit) are skipped rather than waited for — the
/// publisher may itself be waiting for room on the bus — and dropped by the next
/// [`renew_leases`], their messages being past `queued` by then.
pub async fn end_leases(conn: &mut PgConnection, ids: &[Uuid]) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM message_outbox WHERE message_id IN (
            SELECT message_id FROM message_outbox
            WHERE message_id = ANY($1) AND leased_at IS NOT NULL
            ORDER BY message_id FOR UPDATE SKIP LOCKED)",
    )
    .bind(ids)
    .execute(conn)
    .await?
    .rows_affected())
}

/// At start, on a bus that keeps nothing across a restart: leased rows of messages still
/// `queued` are due again (their request was lost with the previous process; the engine
/// de-duplicates by message id), those of messages past it are dropped. Returns (due again,
/// dropped).
pub async fn renew_leases(pool: &sqlx::PgPool) -> Result<(u64, u64)> {
    let mut tx = pool.begin().await?;
    let dropped = sqlx::query(
        "DELETE FROM message_outbox o USING messages m
         WHERE o.leased_at IS NOT NULL AND m.id = o.message_id AND m.status <> 'queued'",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let due = sqlx::query(
        "UPDATE message_outbox SET leased_at = NULL, available_at = now(),
                attempts = attempts + 1
         WHERE leased_at IS NOT NULL",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok((due, dropped))
}

/// Publication of `ids` ended without a confirm: counted, so an operator sees it.
pub async fn count_attempt(conn: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<()> {
    sqlx::query("UPDATE message_outbox SET attempts = attempts + 1 WHERE message_id = ANY($1)")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// The organisation's credit currency (ISO 4217).
pub async fn currency(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<String> {
    Ok(
        sqlx::query_scalar("SELECT currency FROM credits WHERE account_id = $1")
            .bind(scope.id())
            .fetch_one(conn)
            .await?,
    )
}
