//! SQL of the sender: claiming due deliveries under a lease (respecting each endpoint's
//! in-flight limit across every sender, and the order of one message's events), and
//! recording a batch of outcomes set-based in one transaction (attempt log, delivery state,
//! endpoint health, disabling with a notification).

use serde_json::json;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Result;
use crate::notifications::{self, Notice};

/// A claimed delivery, with what signing and sending it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    /// Delivery id (the `webhook-id`).
    pub id: Uuid,
    /// Its account.
    pub account_id: Uuid,
    /// Its endpoint.
    pub endpoint_id: Uuid,
    /// The signed body.
    pub body: String,
    /// Attempts before this one.
    pub attempts: i32,
    /// Start of its retry window.
    pub window_started_at: OffsetDateTime,
    /// Where it goes: its own URL (an adapter callback) or the endpoint's.
    pub url: String,
    /// `POST` (or `GET` for a Kannel dlr-url).
    pub method: String,
    /// The body's content type.
    pub content_type: String,
    /// The endpoint's secret.
    pub secret: String,
    /// The previous secret, while it still signs.
    pub previous_secret: Option<String>,
}

/// Claims up to `limit` due deliveries for `lease_secs`: oldest due first, at most the
/// endpoint's `max_in_flight` minus its leased deliveries per endpoint, only enabled
/// endpoints, and only the first pending delivery of each message per endpoint.
pub async fn claim(pool: &PgPool, limit: i64, lease_secs: f64) -> Result<Vec<Claimed>> {
    Ok(sqlx::query_as(
        "WITH due AS (
             SELECT d.id, d.endpoint_id, d.seq FROM webhook_deliveries d
             WHERE d.state = 'pending' AND d.next_attempt_at <= now()
               AND (d.locked_until IS NULL OR d.locked_until <= now())
               AND (d.ordering_key IS NULL OR NOT EXISTS (
                   SELECT 1 FROM webhook_deliveries p
                   WHERE p.endpoint_id = d.endpoint_id AND p.ordering_key = d.ordering_key
                     AND p.state = 'pending' AND p.ordering_key IS NOT NULL AND p.seq < d.seq))
             ORDER BY d.next_attempt_at, d.seq
             LIMIT $1 * 2
             FOR UPDATE OF d SKIP LOCKED
         ), busy AS (
             SELECT endpoint_id, count(*) AS n FROM webhook_deliveries
             WHERE locked_until IS NOT NULL AND locked_until > now() AND state = 'pending'
               AND endpoint_id IN (SELECT endpoint_id FROM due)
             GROUP BY endpoint_id
         ), ranked AS (
             SELECT due.id, due.seq,
                    row_number() OVER (PARTITION BY due.endpoint_id ORDER BY due.seq) AS rn,
                    e.max_in_flight - coalesce(b.n, 0) AS room
             FROM due JOIN webhook_endpoints e ON e.id = due.endpoint_id AND e.enabled
             LEFT JOIN busy b ON b.endpoint_id = due.endpoint_id
         ), chosen AS (
             SELECT id FROM ranked WHERE rn <= room ORDER BY seq LIMIT $1
         )
         UPDATE webhook_deliveries d SET locked_until = now() + make_interval(secs => $2)
         FROM webhook_endpoints e
         WHERE d.id IN (SELECT id FROM chosen) AND e.id = d.endpoint_id
         RETURNING d.id, d.account_id, d.endpoint_id, d.body, d.attempts, d.window_started_at,
                   coalesce(d.url, e.url) AS url, d.method, d.content_type, e.secret,
                   CASE WHEN e.previous_secret_until > now() THEN e.previous_secret END
                       AS previous_secret",
    )
    .bind(limit)
    .bind(lease_secs)
    .fetch_all(pool)
    .await?)
}

/// What became of one delivery after one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// 2xx.
    Delivered,
    /// Failed; try again at the time.
    Retry(OffsetDateTime),
    /// Failed and out of retries.
    GaveUp,
    /// 410: the endpoint asked to be disabled.
    Gone,
}

/// One attempt's outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The delivery.
    pub delivery_id: Uuid,
    /// Its account and endpoint.
    pub account_id: Uuid,
    /// The endpoint.
    pub endpoint_id: Uuid,
    /// When the attempt started.
    pub attempted_at: OffsetDateTime,
    /// HTTP status, if any.
    pub status: Option<u16>,
    /// Milliseconds.
    pub latency_ms: i32,
    /// Why there was no answer.
    pub error: Option<String>,
    /// Up to 1 KiB of the answer.
    pub excerpt: Option<String>,
    /// What follows.
    pub fate: Fate,
}

/// Records `outcomes` in one transaction: the attempts, the deliveries' states, each
/// endpoint's health (a success clears `failing_since` and brings the endpoint's waiting
/// deliveries forward; a failure starts it), and disables endpoints that answered 410 or
/// have failed since before `disable_before`, with a notification. Returns the disabled.
pub async fn record(
    pool: &PgPool,
    outcomes: &[Outcome],
    disable_before: OffsetDateTime,
    base_url: &str,
) -> Result<Vec<Uuid>> {
    if outcomes.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = pool.begin().await?;
    let ids: Vec<Uuid> = outcomes.iter().map(|o| o.delivery_id).collect();
    let accounts: Vec<Uuid> = outcomes.iter().map(|o| o.account_id).collect();
    let at: Vec<OffsetDateTime> = outcomes.iter().map(|o| o.attempted_at).collect();
    let status: Vec<Option<i32>> = outcomes.iter().map(|o| o.status.map(i32::from)).collect();
    let latency: Vec<i32> = outcomes.iter().map(|o| o.latency_ms).collect();
    let error: Vec<Option<String>> = outcomes.iter().map(|o| o.error.clone()).collect();
    let excerpt: Vec<Option<String>> = outcomes.iter().map(|o| o.excerpt.clone()).collect();
    let attempt_ids: Vec<Uuid> = outcomes.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "INSERT INTO webhook_attempts (id, delivery_id, account_id, attempted_at, status_code,
                                       latency_ms, error, response_excerpt)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[],
                              $5::int[], $6::int[], $7::text[], $8::text[])",
    )
    .bind(&attempt_ids)
    .bind(&ids)
    .bind(&accounts)
    .bind(&at)
    .bind(&status)
    .bind(&latency)
    .bind(&error)
    .bind(&excerpt)
    .execute(&mut *tx)
    .await?;

    let state: Vec<&str> = outcomes
        .iter()
        .map(|o| match o.fate {
            Fate::Delivered => "delivered",
            Fate::Retry(_) => "pending",
            Fate::GaveUp | Fate::Gone => "failed",
        })
        .collect();
    let next: Vec<Option<OffsetDateTime>> = outcomes
        .iter()
        .map(|o| match o.fate {
            Fate::Retry(t) => Some(t),
            _ => None,
        })
        .collect();
    sqlx::query(
        "UPDATE webhook_deliveries d SET state = u.s, attempts = d.attempts + 1,
             next_attempt_at = coalesce(u.n, d.next_attempt_at), locked_until = NULL,
             last_status = u.c, last_error = u.e,
             delivered_at = CASE WHEN u.s = 'delivered' THEN u.at ELSE d.delivered_at END
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int[], $5::text[],
                     $6::timestamptz[]) AS u (id, s, n, c, e, at)
         WHERE d.id = u.id",
    )
    .bind(&ids)
    .bind(&state)
    .bind(&next)
    .bind(&status)
    .bind(&error)
    .bind(&at)
    .execute(&mut *tx)
    .await?;

    let ok = endpoints(outcomes, |o| o.fate == Fate::Delivered);
    let failing = endpoints(outcomes, |o| {
        o.fate != Fate::Delivered && ok.binary_search(&o.endpoint_id).is_err()
    });
    let gone = endpoints(outcomes, |o| o.fate == Fate::Gone);
    if !ok.is_empty() {
        // Recovered: what waits in back-off for it goes now, in order.
        sqlx::query(
            "WITH recovered AS (
                 UPDATE webhook_endpoints SET failing_since = NULL
                 WHERE id = ANY ($1) AND failing_since IS NOT NULL RETURNING id)
             UPDATE webhook_deliveries SET next_attempt_at = now()
             WHERE endpoint_id IN (SELECT id FROM recovered) AND state = 'pending'
               AND next_attempt_at > now()",
        )
        .bind(&ok)
        .execute(&mut *tx)
        .await?;
    }
    let mut disabled = Vec::new();
    if !failing.is_empty() || !gone.is_empty() {
        sqlx::query(
            "UPDATE webhook_endpoints SET failing_since = now()
             WHERE id = ANY ($1) AND failing_since IS NULL",
        )
        .bind(&failing)
        .execute(&mut *tx)
        .await?;
        let rows: Vec<(Uuid, Uuid, String, String)> = sqlx::query_as(
            "UPDATE webhook_endpoints SET enabled = false, updated_at = now(),
                 disabled_reason = CASE WHEN id = ANY ($2) THEN 'gone' ELSE 'failing' END
             WHERE enabled AND kind = 'endpoint'
               AND (id = ANY ($2) OR (id = ANY ($1) AND failing_since < $3))
             RETURNING id, account_id, url, disabled_reason",
        )
        .bind(&failing)
        .bind(&gone)
        .bind(disable_before)
        .fetch_all(&mut *tx)
        .await?;
        for (id, account, url, reason) in rows {
            notify_disabled(&mut tx, id, account, &url, &reason, base_url).await?;
            disabled.push(id);
        }
    }
    tx.commit().await?;
    Ok(disabled)
}

/// The endpoints of the outcomes `which` picks, sorted, each once.
fn endpoints(outcomes: &[Outcome], which: impl Fn(&Outcome) -> bool) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = outcomes
        .iter()
        .filter(|o| which(o))
        .map(|o| o.endpoint_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

async fn notify_disabled(
    conn: &mut PgConnection,
    id: Uuid,
    account: Uuid,
    url: &str,
    reason: &str,
    base_url: &str,
) -> Result<()> {
    let why = if reason == "gone" {
        "it answered 410 Gone"
    } else {
        "every delivery to it failed for 24 hours"
    };
    let body = format!(
        "Webhook endpoint {url} was disabled because {why}. Fix it, enable it again and \
         replay the deliveries you missed."
    );
    notifications::notify(
        conn,
        account,
        &Notice {
            kind: "webhook.endpoint_disabled",
            title: "A webhook endpoint was disabled",
            body: &body,
            data: json!({"endpoint_id": id, "url": url, "reason": reason}),
        },
        base_url,
    )
    .await?;
    Ok(())
}
