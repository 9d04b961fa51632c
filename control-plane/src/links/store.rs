//! SQL of short links: allocating a batch's codes (set-based, collisions retried), resolving
//! a code, writing a batch of clicks with the campaign counters, listing a campaign's clicks
//! and its click summary. Customer reads are scoped by account.

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::clicks::{Bot, Click};
use super::code;
use super::types::{ClickKind, ClickRow, ClickSummary};
use crate::error::{Error, Result};
use crate::http::pagination::PageRequest;
use crate::identity::scope::AccountScope;
use crate::scoped;

/// The links of one dispatcher batch, column by column: `messages[i]` (of `contacts[i]`)
/// gets a code for its `positions[i]`-th `{link:…}`, leading to `urls[i]`.
#[derive(Debug, Default)]
pub struct NewLinks {
    /// Messages (written later in the same transaction: the foreign key is deferred).
    pub messages: Vec<Uuid>,
    /// Their contacts.
    pub contacts: Vec<Option<Uuid>>,
    /// Which link of the text.
    pub positions: Vec<i16>,
    /// Long URLs.
    pub urls: Vec<String>,
}

/// Inserts the links of a batch with fresh codes, one statement per round: codes that
/// collide with existing ones (`ON CONFLICT DO NOTHING`) are drawn again for the next round.
/// Returns the codes, one per link in order.
pub async fn allocate(
    conn: &mut PgConnection,
    account_id: Uuid,
    campaign_id: Uuid,
    links: &NewLinks,
) -> Result<Vec<String>> {
    let mut codes: Vec<String> = links.urls.iter().map(|_| code::generate()).collect();
    let mut todo: Vec<usize> = (0..codes.len()).collect();
    for _ in 0..8 {
        if todo.is_empty() {
            return Ok(codes);
        }
        let c: Vec<&str> = todo.iter().map(|i| codes[*i].as_str()).collect();
        let m: Vec<Uuid> = todo.iter().map(|i| links.messages[*i]).collect();
        let k: Vec<Option<Uuid>> = todo.iter().map(|i| links.contacts[*i]).collect();
        let p: Vec<i16> = todo.iter().map(|i| links.positions[*i]).collect();
        let u: Vec<&str> = todo.iter().map(|i| links.urls[*i].as_str()).collect();
        let inserted: Vec<String> = sqlx::query_scalar(
            "INSERT INTO short_links (code, account_id, campaign_id, message_id, contact_id,
                                      position, url)
             SELECT x.code, $1, $2, x.m, x.k, x.p, x.u
             FROM unnest($3::text[], $4::uuid[], $5::uuid[], $6::int2[], $7::text[])
                  AS x (code, m, k, p, u)
             ON CONFLICT (code) DO NOTHING
             RETURNING code",
        )
        .bind(account_id)
        .bind(campaign_id)
        .bind(&c)
        .bind(&m)
        .bind(&k)
        .bind(&p)
        .bind(&u)
        .fetch_all(&mut *conn)
        .await?;
        let inserted: std::collections::HashSet<String> = inserted.into_iter().collect();
        todo.retain(|i| !inserted.contains(&codes[*i]));
        for i in &todo {
            codes[*i] = code::generate();
        }
    }
    if todo.is_empty() {
        Ok(codes)
    } else {
        Err(Error::internal(
            "short codes kept colliding; batch rolled back",
        ))
    }
}

/// The long URL of `code`, if there is one.
pub async fn resolve(conn: impl PgExecutor<'_>, code: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT url FROM short_links WHERE code = $1")
            .bind(code)
            .fetch_optional(conn)
            .await?,
    )
}

/// Writes `clicks` and adds them to their campaigns' counters, one transaction: a click
/// the redirect did not judge a bot's is `early` when it came less than `window_ms` after
/// its message was delivered (or before: the receipt's time, else the send's; a click on a
/// message not sent yet cannot be its recipient's). A recipient becomes a clicker with their
/// first person's click on any link of their message. Returns the clicks written.
pub async fn record_clicks(pool: &PgPool, clicks: &[Click], window_ms: u64) -> Result<u64> {
    let ids: Vec<Uuid> = clicks.iter().map(|c| c.id).collect();
    let codes: Vec<&str> = clicks.iter().map(|c| c.code.as_str()).collect();
    let at: Vec<OffsetDateTime> = clicks.iter().map(|c| c.at).collect();
    let methods: Vec<&str> = clicks
        .iter()
        .map(|c| if c.head { "HEAD" } else { "GET" })
        .collect();
    let agents: Vec<Option<&str>> = clicks.iter().map(|c| c.user_agent.as_deref()).collect();
    let bots: Vec<Option<Bot>> = clicks.iter().map(|c| c.bot).collect();
    let mut tx = pool.begin().await?;
    let written: i64 = sqlx::query_scalar(
        "WITH u AS (
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[],
                                  $5::text[], $6::text[]) AS u (id, code, at, method, ua, bot)
         ), ins AS (
             INSERT INTO link_clicks (id, code, account_id, campaign_id, message_id, contact_id,
                                      clicked_at, method, user_agent, bot)
             SELECT u.id, u.code, l.account_id, l.campaign_id, l.message_id, l.contact_id, u.at,
                    u.method, u.ua,
                    coalesce(u.bot, CASE
                        WHEN m.sent_at IS NULL THEN 'early'
                        WHEN u.at < coalesce(CASE WHEN m.status = 'delivered' THEN m.final_at END,
                                             m.sent_at) + make_interval(secs => $7)
                            THEN 'early' END)
             FROM u JOIN short_links l ON l.code = u.code JOIN messages m ON m.id = l.message_id
             ON CONFLICT (id) DO NOTHING
             RETURNING account_id, campaign_id, message_id, clicked_at, bot
         ), firsts AS (
             SELECT DISTINCT i.campaign_id, i.message_id FROM ins i
             WHERE i.bot IS NULL AND NOT EXISTS (
                 SELECT 1 FROM link_clicks p WHERE p.message_id = i.message_id AND p.bot IS NULL)
         ), counted AS (
             INSERT INTO campaign_clicks AS cc (campaign_id, account_id, clicks, clickers,
                                                bot_clicks, last_click_at)
             SELECT i.campaign_id, i.account_id, count(*) FILTER (WHERE i.bot IS NULL),
                    (SELECT count(*) FROM firsts f WHERE f.campaign_id = i.campaign_id),
                    count(*) FILTER (WHERE i.bot IS NOT NULL),
                    max(i.clicked_at) FILTER (WHERE i.bot IS NULL)
             FROM ins i GROUP BY i.campaign_id, i.account_id
             ON CONFLICT (campaign_id) DO UPDATE SET
                 clicks = cc.clicks + excluded.clicks,
                 clickers = cc.clickers + excluded.clickers,
                 bot_clicks = cc.bot_clicks + excluded.bot_clicks,
                 last_click_at = greatest(cc.last_click_at, excluded.last_click_at)
             RETURNING 1
         )
         SELECT count(*) FROM ins",
    )
    .bind(&ids)
    .bind(&codes)
    .bind(&at)
    .bind(&methods)
    .bind(&agents)
    .bind(&bots)
    .bind(window_ms as f64 / 1000.0)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(u64::try_from(written).unwrap_or(0))
}

/// Whether `campaign` is the organisation's (not deleted).
pub async fn campaign_exists(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    campaign: Uuid,
) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM campaigns
                        WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL)",
    )
    .bind(scope.id())
    .bind(campaign)
    .fetch_one(conn)
    .await?)
}

/// A page of the campaign's clicks, newest first.
pub async fn list_clicks(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    campaign: Uuid,
    kind: ClickKind,
    page: &PageRequest,
) -> Result<Vec<ClickRow>> {
    let sql = "SELECT c.id, c.clicked_at, c.code, l.url, c.message_id, c.contact_id, c.method,
                      c.user_agent, c.bot
               FROM link_clicks c JOIN short_links l ON l.code = c.code
               WHERE c.account_id = $1 AND c.id < $2 AND c.campaign_id = $3
                 AND ($4 = 'all' OR ($4 = 'people') = (c.bot IS NULL))
               ORDER BY c.id DESC LIMIT $5";
    scoped::page(conn, sql.into(), scope, page, |q| {
        q.bind(campaign).bind(kind)
    })
    .await
}

/// The campaign's click counters and click-through rate (clickers / delivered).
pub async fn summary(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    campaign: Uuid,
) -> Result<ClickSummary> {
    Ok(sqlx::query_as(
        "SELECT coalesce(cc.clicks, 0) AS clicks, coalesce(cc.clickers, 0) AS clickers,
                coalesce(cc.bot_clicks, 0) AS bot_clicks,
                CASE WHEN k.delivered_count = 0 THEN NULL
                     ELSE round(coalesce(cc.clickers, 0)::numeric / k.delivered_count, 4) END
                    AS click_through_rate
         FROM campaigns k LEFT JOIN campaign_clicks cc ON cc.campaign_id = k.id
         WHERE k.account_id = $1 AND k.id = $2",
    )
    .bind(scope.id())
    .bind(campaign)
    .fetch_one(conn)
    .await?)
}
