//! SQL of the manual retry: the failed messages locked, and the new attempts written
//! set-based (messages, parts, attempts, timeline, outbox, the old attempt's counters).

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Result;

/// A message locked for a retry.
#[derive(Debug, sqlx::FromRow)]
pub struct Candidate {
    /// Message id.
    pub id: Uuid,
    /// Organisation.
    pub account_id: Uuid,
    /// Campaign, if any.
    pub campaign_id: Option<Uuid>,
    /// Current status.
    pub status: crate::messages::types::MessageStatus,
    /// What it costs (reserved again).
    pub cost: Decimal,
    /// The account whose credits hold it (the sender, or a sub-customer's agent).
    pub payer: Uuid,
    /// What the payer reserves for it (`cost`, or the agent's wholesale price).
    pub billed: Decimal,
    /// Parts.
    pub parts: i32,
    /// Current attempt.
    pub attempt: i32,
    /// Validity end.
    pub expires_at: Option<OffsetDateTime>,
    /// Whether its sender ID is still approved (a sender ID suspended since may not send).
    pub sender_approved: bool,
}

/// Locks `ids` (sorted: the lock order of the status consumer) for the transaction.
pub async fn lock(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Candidate>> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.account_id, m.campaign_id, m.status, m.cost,
                coalesce(m.billed_account_id, m.account_id) AS payer,
                coalesce(m.billed_cost, m.cost) AS billed, m.parts, m.attempt, m.expires_at,
                coalesce((SELECT s.status = 'approved' FROM sender_ids s WHERE s.id = m.sender_id),
                         false) AS sender_approved
         FROM messages m WHERE m.id = ANY($1) ORDER BY m.id FOR UPDATE OF m",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?)
}

/// Locks the campaigns of the messages (after the messages, before the credits: the order
/// the status consumer takes); whether any of them is cancelled.
pub async fn lock_campaigns(conn: &mut PgConnection, campaigns: &[Uuid]) -> Result<bool> {
    if campaigns.is_empty() {
        return Ok(false);
    }
    let cancelled: Vec<bool> = sqlx::query_scalar(
        "SELECT status = 'cancelled' FROM campaigns WHERE id = ANY($1) ORDER BY id
         FOR NO KEY UPDATE",
    )
    .bind(campaigns)
    .fetch_all(conn)
    .await?;
    Ok(cancelled.into_iter().any(|c| c))
}

/// The new attempts to write.
#[derive(Debug, Default)]
pub struct NewAttempts {
    /// Message ids.
    pub ids: Vec<Uuid>,
    /// The engine's id of each new attempt.
    pub attempt_ids: Vec<Uuid>,
    /// The ledger reference of each new reservation (`None`: a free message).
    pub reservations: Vec<Option<String>>,
    /// The timeline row id of each.
    pub event_ids: Vec<Uuid>,
}

/// Takes the failed attempt out of the counters it was added to (rollups: sent, failed,
/// refunded; campaigns: sent and failed counts), so that the new attempt's outcome is counted
/// once. Run before [`write`], while the messages are still `failed`.
pub async fn uncount(conn: &mut PgConnection, ids: &[Uuid]) -> Result<()> {
    sqlx::query(
        "UPDATE message_rollups r SET sent = r.sent - u.n, failed = r.failed - u.n,
                refunded = r.refunded - u.cost
         FROM (SELECT account_id, (created_at AT TIME ZONE 'UTC')::date AS day,
                      coalesce(campaign_id, '00000000-0000-0000-0000-000000000000') AS campaign_id,
                      country, coalesce(mno_id, '') AS mno_id, count(*) AS n, sum(cost) AS cost
               FROM messages WHERE id = ANY($1) AND status = 'failed'
               GROUP BY 1, 2, 3, 4, 5) u
         WHERE r.account_id = u.account_id AND r.day = u.day AND r.campaign_id = u.campaign_id
           AND r.country = u.country AND r.mno_id = u.mno_id",
    )
    .bind(ids)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE campaigns c SET sent_count = greatest(c.sent_count - u.n, 0),
                failed_count = greatest(c.failed_count - u.n, 0), updated_at = now()
         FROM (SELECT campaign_id, count(*)::int AS n FROM messages
               WHERE id = ANY($1) AND status = 'failed' AND campaign_id IS NOT NULL
               GROUP BY 1) u
         WHERE c.id = u.campaign_id",
    )
    .bind(ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the new attempts: each message back to `submitted` with its attempt number raised,
/// its reservation, the upstream's answers of the old attempt cleared (they stay in the
/// timeline); its parts back to `queued`; the attempt row, the timeline row and the outbox
/// row that puts it back through the publisher.
pub async fn write(conn: &mut PgConnection, staff_id: Uuid, a: &NewAttempts) -> Result<()> {
    sqlx::query(
        "WITH u AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[])
                AS u (id, attempt_id, reservation, event_id)
         ), m AS (
            UPDATE messages m SET status = 'submitted', attempt = m.attempt + 1,
                   attempt_id = u.attempt_id, reservation = u.reservation, settled = false,
                   sent_at = NULL, final_at = NULL, upstream = NULL, smsc_message_id = NULL,
                   error_kind = NULL, error_code = NULL, error_text = NULL, updated_at = now()
            FROM u WHERE m.id = u.id
            RETURNING m.id, m.account_id, m.parts, m.attempt, m.priority, u.attempt_id,
                      u.reservation, u.event_id
         ), a AS (
            INSERT INTO message_attempts (attempt_id, message_id, account_id, attempt,
                                          reservation, staff_id)
            SELECT attempt_id, id, account_id, attempt, reservation, $5 FROM m
         ), e AS (
            INSERT INTO message_events (id, message_id, account_id, status, parts, detail)
            SELECT event_id, id, account_id, 'submitted', parts,
                   jsonb_build_object('retry', jsonb_build_object('attempt', attempt,
                                      'attempt_id', attempt_id, 'staff_id', $5::uuid))
            FROM m
         )
         INSERT INTO message_outbox (message_id, priority, available_at)
         SELECT id, priority, now() FROM m
         ON CONFLICT (message_id) DO UPDATE
            SET available_at = now(), leased_at = NULL, priority = EXCLUDED.priority",
    )
    .bind(&a.ids)
    .bind(&a.attempt_ids)
    .bind(&a.reservations)
    .bind(&a.event_ids)
    .bind(staff_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE message_parts SET status = 'queued', upstream = NULL, smsc_message_id = NULL,
                error_kind = NULL, error_code = NULL, error_text = NULL, updated_at = now()
         WHERE message_id = ANY($1)",
    )
    .bind(&a.ids)
    .execute(conn)
    .await?;
    Ok(())
}
