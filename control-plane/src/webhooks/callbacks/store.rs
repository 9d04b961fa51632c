//! SQL of adapter callbacks: the organisation's hidden `callbacks` endpoint (its signing
//! secret), a send's callbacks, and a status batch's callback deliveries (set-based, in the
//! status consumer's transaction like every webhook event).

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Callback, kannel};
use crate::error::Result;
use crate::webhooks::signing;

/// Creates the organisation's callbacks endpoint if it has none; `Some(secret)` when it was
/// created now (with that secret).
pub async fn ensure_endpoint(
    conn: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<Option<String>> {
    let secret = signing::new_secret();
    let created: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO webhook_endpoints (id, account_id, url, description, event_types,
                                        max_in_flight, secret, kind)
         VALUES ($1, $2, 'callbacks:', 'Per-message callbacks of the compatibility adapters',
                 '{message.callback}', 256, $3, 'callbacks')
         ON CONFLICT (account_id) WHERE kind = 'callbacks' DO NOTHING
         RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(account_id)
    .bind(&secret)
    .fetch_optional(conn)
    .await?;
    Ok(created.map(|_| secret))
}

/// The id of the organisation's callbacks endpoint.
pub async fn endpoint_id(conn: impl PgExecutor<'_>, account_id: Uuid) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints WHERE account_id = $1 AND kind = 'callbacks'",
    )
    .bind(account_id)
    .fetch_optional(conn)
    .await?)
}

/// Remembers `callback` for `messages` (and makes sure the endpoint that signs it exists).
pub async fn attach(
    conn: &mut PgConnection,
    account_id: Uuid,
    messages: &[Uuid],
    callback: &Callback,
) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    ensure_endpoint(&mut *conn, account_id).await?;
    sqlx::query(
        "INSERT INTO message_callbacks (message_id, account_id, style, url, dlr_mask, username)
         SELECT m, $2, $3, $4, $5, $6 FROM unnest($1::uuid[]) AS m",
    )
    .bind(messages)
    .bind(account_id)
    .bind(callback.style)
    .bind(&callback.url)
    .bind(callback.dlr_mask)
    .bind(callback.username.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

/// A message with a callback, as the status batch left it.
#[derive(Debug, sqlx::FromRow)]
struct Pending {
    message_id: Uuid,
    account_id: Uuid,
    style: String,
    url: String,
    dlr_mask: Option<i16>,
    username: Option<String>,
    destination: String,
    sender: String,
    upstream: Option<String>,
    smsc_message_id: Option<String>,
    sent_at: Option<OffsetDateTime>,
    encoding: String,
    mno_id: Option<String>,
    error_kind: Option<String>,
    error_code: Option<i64>,
    error_text: Option<String>,
}

/// Longest expanded callback URL (a longer one is skipped, and logged).
const MAX_URL: usize = 4000;

/// The callback deliveries of a status batch (step `i`: message `messages[i]` reached
/// `statuses[i]` at `at[i]`): one per step of a message sent with a callback that reports
/// it (Kannel: the step's report type is in `dlr-mask`), in step order per message. One
/// query finds the messages with callbacks (none: nothing more), one inserts.
pub async fn steps(
    conn: &mut PgConnection,
    messages: &[Uuid],
    statuses: &[String],
    at: &[OffsetDateTime],
) -> Result<u64> {
    let found: Vec<Pending> = sqlx::query_as(
        "SELECT mc.message_id, mc.account_id, mc.style, mc.url, mc.dlr_mask, mc.username,
                m.destination, m.sender, m.upstream, m.smsc_message_id, m.sent_at,
                m.encoding::text AS encoding, m.mno_id, m.error_kind, m.error_code, m.error_text
         FROM message_callbacks mc JOIN messages m ON m.id = mc.message_id
         WHERE mc.message_id = ANY ($1)",
    )
    .bind(messages)
    .fetch_all(&mut *conn)
    .await?;
    if found.is_empty() {
        return Ok(0);
    }
    let by_id: std::collections::HashMap<Uuid, &Pending> =
        found.iter().map(|p| (p.message_id, p)).collect();
    let mut order: Vec<usize> = (0..messages.len()).collect();
    order.sort_by_key(|i| (at[*i], *i));
    let (mut accounts, mut ids, mut types, mut bodies) = (vec![], vec![], vec![], vec![]);
    let (mut urls, mut methods, mut content_types) = (vec![], vec![], vec![]);
    for i in order {
        let Some(p) = by_id.get(&messages[i]) else {
            continue;
        };
        let status = statuses[i].as_str();
        let delivery = match p.style.as_str() {
            "kannel" => kannel_delivery(p, status, at[i]),
            _ => africastalking_delivery(p, status),
        };
        let Some((event, url, method, content_type, body)) = delivery else {
            continue;
        };
        if url.len() > MAX_URL {
            tracing::warn!(message_id = %p.message_id, "callback URL too long once expanded; skipped");
            continue;
        }
        accounts.push(p.account_id);
        ids.push(p.message_id);
        types.push(event);
        urls.push(url);
        methods.push(method);
        content_types.push(content_type);
        bodies.push(body);
    }
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(sqlx::query(
        "INSERT INTO webhook_deliveries (id, account_id, endpoint_id, event_type, ordering_key,
                                         body, url, method, content_type)
         SELECT webhook_id_v7(), e.account_id, e.id, u.t, u.m, u.body, u.url, u.method, u.ct
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[]) WITH ORDINALITY AS u (a, m, t, body, url, method, ct, n)
         JOIN webhook_endpoints e ON e.account_id = u.a AND e.kind = 'callbacks'
         ORDER BY u.n",
    )
    .bind(&accounts)
    .bind(&ids)
    .bind(&types)
    .bind(&bodies)
    .bind(&urls)
    .bind(&methods)
    .bind(&content_types)
    .execute(conn)
    .await?
    .rows_affected())
}

type Delivery = (&'static str, String, &'static str, &'static str, String);

fn kannel_delivery(p: &Pending, status: &str, at: OffsetDateTime) -> Option<Delivery> {
    let typ = kannel::report_type(status, p.error_kind.as_deref())?;
    if !kannel::wanted(p.dlr_mask.unwrap_or(0), typ) {
        return None;
    }
    let report = kannel::Report {
        typ,
        status,
        phone: &p.destination,
        sender: &p.sender,
        smsc_id: p.upstream.as_deref(),
        message_id: p.message_id,
        foreign_id: p.smsc_message_id.as_deref(),
        sent_at: p.sent_at,
        at,
        ucs2: p.encoding == "ucs2",
        error_code: p.error_code,
        error_text: p.error_text.as_deref(),
        username: p.username.as_deref(),
    };
    // Kannel calls its dlr-url with a GET and no body.
    let url = kannel::expand(&p.url, &report);
    Some(("kannel.dlr", url, "GET", "text/plain", String::new()))
}

fn africastalking_delivery(p: &Pending, status: &str) -> Option<Delivery> {
    let word = super::africastalking::status(status)?;
    let failed = matches!(word, "Failed" | "Rejected");
    let body = super::africastalking::body(
        &p.message_id.to_string(),
        word,
        &p.destination,
        p.mno_id.as_deref(),
        failed,
    );
    Some((
        "africastalking.delivery",
        p.url.clone(),
        "POST",
        "application/x-www-form-urlencoded",
        body,
    ))
}
