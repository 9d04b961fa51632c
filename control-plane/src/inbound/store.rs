//! Inbound messages: routing a reply to the account that owns the conversation, acting on
//! its keyword, storing it; and reading them back per account.

use semalink_protocol::contracts::InboundMessage;
use serde_json::json;
use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::keywords::{InboundConfig, Intent};
use super::types::{Inbound, InboundQuery};
use crate::contacts::phone::{self, ContactStatus};
use crate::contacts::suppression::{self, SuppressionSource};
use crate::error::Result;
use crate::http::pagination::PageRequest;
use crate::identity::scope::AccountScope;
use crate::notifications::{self, Notice};

const COLUMNS: &str = "id, from_number, to_address, body, segments, upstream, action, keyword, \
    contact_id, campaign_id, message_id, received_at";

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundApplied {
    /// Messages stored.
    pub stored: usize,
    /// Already stored before (a redelivery).
    pub duplicates: usize,
    /// Numbers opted out.
    pub opted_out: usize,
    /// Numbers opted back in.
    pub opted_in: usize,
    /// Stored without an account (nobody talks to that number from that address).
    pub unrouted: usize,
}

/// The E.164 form of an upstream's MSISDN (`254712345678`, `+254712345678`), when it is a
/// valid mobile number; else the trimmed input.
fn e164(from: &str) -> (String, bool) {
    let trimmed = from.trim();
    let candidate = if trimmed.len() >= 8 && trimmed.chars().all(|c| c.is_ascii_digit()) {
        format!("+{trimmed}")
    } else {
        trimmed.to_owned()
    };
    match phone::normalise(&candidate, "KE") {
        Some(n) if n.status == ContactStatus::Valid => (n.phone, true),
        _ => (trimmed.chars().take(64).collect(), false),
    }
}

/// Whose conversation it is: the account (and its message, campaign) that last sent to
/// `from` from the address `to`; else the one account with `to` as an approved sender ID.
async fn route(
    conn: &mut PgConnection,
    from: &str,
    to: &str,
) -> Result<(Option<Uuid>, Option<Uuid>, Option<Uuid>)> {
    let last: Option<(Uuid, Option<Uuid>, Uuid)> = sqlx::query_as(
        "SELECT account_id, campaign_id, id FROM messages
         WHERE destination = $1 AND ltrim(sender, '+') = ltrim($2, '+')
         ORDER BY id DESC LIMIT 1",
    )
    .bind(from)
    .bind(to)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((account, campaign, message)) = last {
        return Ok((Some(account), campaign, Some(message)));
    }
    let owners: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT account_id FROM sender_ids
         WHERE ltrim(name, '+') = ltrim($1, '+') AND status = 'approved' LIMIT 2",
    )
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    Ok(match owners.as_slice() {
        [one] => (Some(*one), None, None),
        _ => (None, None, None),
    })
}

/// Applies `messages` in one transaction on `pool`.
pub async fn apply_batch(
    pool: &PgPool,
    messages: &[InboundMessage],
    config: &InboundConfig,
    base_url: &str,
) -> Result<InboundApplied> {
    let mut tx = pool.begin().await?;
    let mut out = InboundApplied::default();
    for m in messages {
        apply_one(&mut tx, m, config, base_url, &mut out).await?;
    }
    tx.commit().await?;
    Ok(out)
}

async fn apply_one(
    conn: &mut PgConnection,
    m: &InboundMessage,
    config: &InboundConfig,
    base_url: &str,
    out: &mut InboundApplied,
) -> Result<()> {
    let (from, valid) = e164(&m.from);
    let to: String = m.to.trim().chars().take(64).collect();
    let (account, campaign, message) = route(conn, &from, &to).await?;
    let intent = match account {
        Some(_) if valid => config.intent(&m.text),
        _ => Intent::Reply,
    };
    let (action, keyword) = match &intent {
        Intent::OptOut(k) => ("opt_out", Some(k.as_str())),
        Intent::OptIn(k) => ("opt_in", Some(k.as_str())),
        Intent::Reply => ("none", None),
    };
    let contact: Option<Uuid> = match account {
        Some(a) => {
            sqlx::query_scalar(
                "SELECT id FROM contacts WHERE account_id = $1 AND phone = $2
                   AND deleted_at IS NULL",
            )
            .bind(a)
            .bind(&from)
            .fetch_optional(&mut *conn)
            .await?
        }
        None => None,
    };
    let inserted = sqlx::query(
        "INSERT INTO inbound_messages (id, account_id, from_number, to_address, body, segments,
             upstream, action, keyword, contact_id, campaign_id, message_id, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(m.id)
    .bind(account)
    .bind(&from)
    .bind(&to)
    .bind(m.text.chars().take(39_015).collect::<String>())
    .bind(i32::from(m.segments.max(1)))
    .bind(m.upstream.chars().take(200).collect::<String>())
    .bind(action)
    .bind(keyword.map(|k| k.chars().take(40).collect::<String>()))
    .bind(contact)
    .bind(campaign)
    .bind(message)
    .bind(m.received_at)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !inserted {
        out.duplicates += 1;
        return Ok(());
    }
    out.stored += 1;
    let Some(account) = account else {
        out.unrouted += 1;
        return Ok(());
    };
    let scope = AccountScope::trusted(account);
    crate::webhooks::events::enqueue(
        conn,
        account,
        crate::webhooks::types::EventType::InboundReceived,
        &json!({
            "inbound_id": m.id, "from": from, "to": to, "text": m.text, "action": action,
            "keyword": keyword, "contact_id": contact, "campaign_id": campaign,
            "message_id": message,
            "received_at": m.received_at.format(&time::format_description::well_known::Rfc3339).ok(),
        }),
        None,
    )
    .await?;
    match intent {
        Intent::OptOut(keyword) => {
            suppression::opt_out_number(conn, scope, &from, SuppressionSource::Stop).await?;
            if let Some(c) = campaign {
                sqlx::query(
                    "UPDATE campaigns SET opted_out_count = opted_out_count + 1, updated_at = now()
                     WHERE id = $1 AND account_id = $2",
                )
                .bind(c)
                .bind(account)
                .execute(&mut *conn)
                .await?;
            }
            let body = format!("{from} replied {keyword} and will receive no more messages.");
            notifications::notify(
                conn,
                account,
                &Notice {
                    kind: "contact.opted_out",
                    title: "A number opted out",
                    body: &body,
                    data: json!({
                        "phone": from, "keyword": keyword, "contact_id": contact,
                        "campaign_id": campaign, "inbound_id": m.id,
                    }),
                },
                base_url,
            )
            .await?;
            out.opted_out += 1;
        }
        Intent::OptIn(_) => {
            suppression::opt_in_number(conn, scope, &from).await?;
            out.opted_in += 1;
        }
        Intent::Reply => {}
    }
    Ok(())
}

/// A page of the account's inbound messages matching `q` (`from` already in E.164),
/// newest first.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    q: &InboundQuery,
    from: Option<&str>,
    page: &PageRequest,
) -> Result<Vec<Inbound>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM inbound_messages
         WHERE account_id = $1 AND id < $2
           AND ($3::text IS NULL OR from_number = $3)
           AND ($4::text IS NULL OR action = $4)
           AND ($5::uuid IS NULL OR campaign_id = $5)
           AND ($6::timestamptz IS NULL OR received_at >= $6)
           AND ($7::timestamptz IS NULL OR received_at < $7)
         ORDER BY id DESC LIMIT $8"
    );
    crate::scoped::page(conn, sql, scope, page, |rows| {
        rows.bind(from)
            .bind(q.action)
            .bind(q.campaign_id)
            .bind(q.since)
            .bind(q.until)
    })
    .await
}

/// One inbound message of the account.
pub async fn get(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<Inbound>> {
    let sql = format!("SELECT {COLUMNS} FROM inbound_messages WHERE account_id = $1 AND id = $2");
    crate::scoped::one(conn, sql, scope, id).await
}

/// Opt-outs received by the account in `[since, until)` (the analytics' opt-out rate).
pub async fn opt_outs(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    since: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM inbound_messages
         WHERE account_id = $1 AND action = 'opt_out' AND received_at >= $2 AND received_at < $3",
    )
    .bind(scope.id())
    .bind(since)
    .bind(until)
    .fetch_one(conn)
    .await?)
}
