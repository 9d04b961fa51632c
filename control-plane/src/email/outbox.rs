//! The email outbox table (SQL): enqueue inside a request's transaction, claim due rows with
//! `FOR UPDATE SKIP LOCKED`, and mark them sent or failed with back-off.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::email::templates::Template;
use crate::error::Result;

/// Renders a template and queues it for `to`.
pub async fn enqueue(
    conn: impl PgExecutor<'_>,
    to: &str,
    template: &Template<'_>,
    base_url: &str,
) -> Result<()> {
    let rendered = template.render(base_url);
    sqlx::query("INSERT INTO email_outbox (id, to_address, template, subject, body_text) VALUES ($1, $2, $3, $4, $5)")
        .bind(Uuid::now_v7())
        .bind(to)
        .bind(rendered.template)
        .bind(rendered.subject)
        .bind(rendered.body)
        .execute(conn)
        .await?;
    Ok(())
}

/// A queued email.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Queued {
    /// Row id.
    pub id: Uuid,
    /// Recipient.
    pub to_address: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body_text: String,
    /// Attempts so far.
    pub attempts: i32,
}

/// Locks up to `limit` due emails for this transaction; other workers skip them.
pub async fn claim_due(conn: &mut PgConnection, limit: i64) -> Result<Vec<Queued>> {
    Ok(sqlx::query_as(
        "SELECT id, to_address, subject, body_text, attempts FROM email_outbox
         WHERE sent_at IS NULL AND next_attempt_at <= now() AND attempts < 10
         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Marks an email sent and keeps its body only with the single-use links redacted: the
/// outbox is not a second place from which a reset or sign-in link can be read.
pub async fn mark_sent(conn: impl PgExecutor<'_>, id: Uuid, body_text: &str) -> Result<()> {
    sqlx::query(
        "UPDATE email_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL,
                body_text = $2
          WHERE id = $1",
    )
    .bind(id)
    .bind(redact_links(body_text))
    .execute(conn)
    .await?;
    Ok(())
}

/// `body` with the value of every `token=` link parameter replaced by `[redacted]`.
pub fn redact_links(body: &str) -> String {
    const KEY: &str = "token=";
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '&' || c == '#')
            .unwrap_or(tail.len());
        if end > 0 {
            out.push_str("[redacted]");
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Records a failed attempt and schedules the next one with exponential back-off (capped at
/// one hour); after 10 attempts the row is left for an operator.
pub async fn mark_failed(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    attempts: i32,
    error: &str,
) -> Result<()> {
    let backoff = 2f64.powi(attempts.clamp(0, 12)).min(3600.0) * 10.0;
    sqlx::query(
        "UPDATE email_outbox SET attempts = attempts + 1, last_error = $2,
            next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1",
    )
    .bind(id)
    .bind(error.chars().take(500).collect::<String>())
    .bind(backoff.min(3600.0))
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact_links;

    #[test]
    fn link_tokens_are_redacted_and_the_rest_kept() {
        let body = "Hi\n\nhttps://app/reset-password?token=ab12cd&x=1\nand token=ff\nbye";
        assert_eq!(
            redact_links(body),
            "Hi\n\nhttps://app/reset-password?token=[redacted]&x=1\nand token=[redacted]\nbye"
        );
        assert_eq!(redact_links("no links"), "no links");
    }
}
