//! SQL of the human content-check queue.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::campaigns::store::{COLUMNS, StaffCampaign};
use crate::error::Result;
use crate::http::pagination::PageRequest;

/// A campaign waiting for a human, with why.
#[derive(Debug, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct ReviewItem {
    /// Why it needs a human (one reason a line).
    pub review_reason: String,
    /// When it joined the queue.
    #[serde(with = "time::serde::rfc3339")]
    pub review_requested_at: OffsetDateTime,
    /// The campaign and its organisation.
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub campaign: StaffCampaign,
}

/// Whether the organisation has no campaign approved before (any campaign past the content
/// check, other than `id`).
pub async fn is_first(conn: impl PgExecutor<'_>, account_id: Uuid, id: Uuid) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM campaigns WHERE account_id = $1 AND id <> $2
                  AND status NOT IN ('draft', 'pending_content_check', 'rejected'))",
    )
    .bind(account_id)
    .bind(id)
    .fetch_one(conn)
    .await?)
}

/// Puts the campaign in the queue with `reason`, or (`None`) takes it out.
pub async fn set_reason(conn: impl PgExecutor<'_>, id: Uuid, reason: Option<&str>) -> Result<()> {
    sqlx::query(
        "UPDATE campaigns SET review_reason = $2,
                review_requested_at = CASE WHEN $2::text IS NULL THEN NULL ELSE now() END
         WHERE id = $1",
    )
    .bind(id)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the campaign is waiting for a human.
pub async fn awaiting(conn: impl PgExecutor<'_>, id: Uuid) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1 AND review_reason IS NOT NULL
                  AND status = 'pending_content_check')",
    )
    .bind(id)
    .fetch_one(conn)
    .await?)
}

/// Takes a decided campaign out of the queue, recording who decided.
pub async fn decided(conn: impl PgExecutor<'_>, id: Uuid, staff_id: Uuid) -> Result<()> {
    sqlx::query(
        "UPDATE campaigns SET review_reason = NULL, review_requested_at = NULL,
                reviewed_by = $2, reviewed_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(staff_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The queue below the page's cursor, newest campaign first (the one page builder's order).
pub async fn queue(conn: impl PgExecutor<'_>, page: &PageRequest) -> Result<Vec<ReviewItem>> {
    let sql = format!(
        "SELECT k.review_reason, k.review_requested_at, k.account_id, a.name AS account_name,
                {COLUMNS}
           FROM campaigns k JOIN accounts a ON a.id = k.account_id
          WHERE k.review_reason IS NOT NULL AND k.status = 'pending_content_check'
            AND k.deleted_at IS NULL AND k.id < $1
          ORDER BY k.id DESC LIMIT $2"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(page.before_or_max())
        .bind(page.fetch_limit())
        .fetch_all(conn)
        .await?)
}
