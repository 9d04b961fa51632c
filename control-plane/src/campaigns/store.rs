//! SQL of campaigns: drafts (insert, edit, lists, duplicate, soft delete), reads, status
//! changes and cancellation. Customer statements take the caller's [`AccountScope`]; the
//! worker's statements live in [`crate::campaigns::dispatch::store`].

use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use time::{OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use crate::campaigns::types::{Campaign, CampaignStatus};
use crate::error::{Error, Result};
use crate::http::pagination::PageRequest;
use crate::identity::scope::AccountScope;
use crate::messages::types::MessagePriority;

/// Columns of [`Campaign`] selected from `campaigns k`.
pub const COLUMNS: &str = "k.id, k.name, k.sender_id, k.message, \
    ARRAY(SELECT cl.list_id FROM campaign_lists cl WHERE cl.campaign_id = k.id \
          ORDER BY cl.list_id) AS list_ids, \
    k.audience_filter, k.status, k.rejection_reason, k.pause_reason, k.send_at, k.timezone, \
    k.quiet_hours, k.priority, k.total_recipients, k.dispatched_count, k.sent_count, \
    k.delivered_count, k.failed_count, k.expired_count, k.rejected_count, k.opted_out_count, \
    k.estimated_cost, \
    k.reserved_cost, k.spent_cost, k.report, k.started_at, k.completed_at, k.cancelled_at, \
    k.created_at, k.updated_at";

/// A draft's columns, every field resolved (the default: an empty draft).
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// Name.
    pub name: String,
    /// Sender ID.
    pub sender_id: Option<Uuid>,
    /// Text.
    pub message: String,
    /// Filter as stored.
    pub audience_filter: Option<Value>,
    /// When.
    pub send_at: Option<OffsetDateTime>,
    /// Its zone.
    pub timezone: Option<String>,
    /// Quiet hours.
    pub quiet_hours: bool,
    /// Lane.
    pub priority: MessagePriority,
}

impl Draft {
    /// The draft of an existing campaign.
    pub fn of(c: &Campaign) -> Draft {
        Draft {
            name: c.name.clone(),
            sender_id: c.sender_id,
            message: c.message.clone(),
            audience_filter: c.audience_filter.clone(),
            send_at: c.send_at,
            timezone: c.timezone.clone(),
            quiet_hours: c.quiet_hours,
            priority: c.priority,
        }
    }
}

/// Inserts a draft with its lists.
pub async fn insert(
    conn: &mut PgConnection,
    scope: AccountScope,
    d: &Draft,
    lists: &[Uuid],
    created_by: Option<Uuid>,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO campaigns (id, account_id, name, sender_id, message, audience_filter,
             send_at, timezone, quiet_hours, priority, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(scope.id())
    .bind(&d.name)
    .bind(d.sender_id)
    .bind(&d.message)
    .bind(&d.audience_filter)
    .bind(d.send_at)
    .bind(&d.timezone)
    .bind(d.quiet_hours)
    .bind(d.priority)
    .bind(created_by)
    .execute(&mut *conn)
    .await?;
    set_lists(conn, scope, id, lists).await?;
    Ok(id)
}

/// Replaces a campaign's lists.
pub async fn set_lists(
    conn: &mut PgConnection,
    scope: AccountScope,
    id: Uuid,
    lists: &[Uuid],
) -> Result<()> {
    sqlx::query("DELETE FROM campaign_lists WHERE account_id = $1 AND campaign_id = $2")
        .bind(scope.id())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO campaign_lists (campaign_id, account_id, list_id)
         SELECT $2, $1, l FROM unnest($3::uuid[]) AS l",
    )
    .bind(scope.id())
    .bind(id)
    .bind(lists)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes edited fields back; the campaign returns to `draft` (its content must be checked
/// again).
pub async fn update(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
    d: &Draft,
) -> Result<()> {
    sqlx::query(
        "UPDATE campaigns SET name = $3, sender_id = $4, message = $5, audience_filter = $6,
             send_at = $7, timezone = $8, quiet_hours = $9, priority = $10, status = 'draft',
             rejection_reason = NULL, updated_at = now()
         WHERE account_id = $1 AND id = $2",
    )
    .bind(scope.id())
    .bind(id)
    .bind(&d.name)
    .bind(d.sender_id)
    .bind(&d.message)
    .bind(&d.audience_filter)
    .bind(d.send_at)
    .bind(&d.timezone)
    .bind(d.quiet_hours)
    .bind(d.priority)
    .execute(conn)
    .await?;
    Ok(())
}

async fn fetch(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
    lock: bool,
) -> Result<Option<Campaign>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM campaigns k
         WHERE k.account_id = $1 AND k.id = $2 AND k.deleted_at IS NULL{}",
        if lock { " FOR UPDATE OF k" } else { "" }
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// One of the organisation's campaigns.
pub async fn get(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<Campaign>> {
    fetch(conn, scope, id, false).await
}

/// One of the organisation's campaigns, locked for the rest of the transaction (a running
/// dispatcher batch finishes first).
pub async fn lock(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<Campaign>> {
    fetch(conn, scope, id, true).await
}

/// The organisation's campaigns below the page's cursor, newest first, optionally of one status.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    status: Option<CampaignStatus>,
    page: &PageRequest,
) -> Result<Vec<Campaign>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM campaigns k
         WHERE k.account_id = $1 AND k.deleted_at IS NULL AND k.id < $2
           AND ($3::campaign_status IS NULL OR k.status = $3)
         ORDER BY k.id DESC LIMIT $4"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(page.before_or_max())
        .bind(status)
        .bind(page.fetch_limit())
        .fetch_all(conn)
        .await?)
}

/// The organisation's lists among `ids`.
pub async fn owned_lists(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    ids: &[Uuid],
) -> Result<Vec<Uuid>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM contact_lists WHERE account_id = $1 AND id = ANY($2)")
            .bind(scope.id())
            .bind(ids)
            .fetch_all(conn)
            .await?,
    )
}

/// The organisation's IANA time zone.
pub async fn account_timezone(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<String> {
    Ok(
        sqlx::query_scalar("SELECT timezone FROM accounts WHERE id = $1")
            .bind(scope.id())
            .fetch_one(conn)
            .await?,
    )
}

/// Whether PostgreSQL's time zone database knows `name`.
pub async fn known_timezone(conn: impl PgExecutor<'_>, name: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)")
            .bind(name)
            .fetch_one(conn)
            .await?,
    )
}

/// The instant a wall-clock time in `timezone` stands for.
pub async fn local_to_instant(
    conn: impl PgExecutor<'_>,
    local: PrimitiveDateTime,
    timezone: &str,
) -> Result<OffsetDateTime> {
    Ok(sqlx::query_scalar("SELECT ($1::timestamp AT TIME ZONE $2)")
        .bind(local)
        .bind(timezone)
        .fetch_one(conn)
        .await?)
}

/// Sets the status (and the reasons, cleared when `None`).
pub async fn set_status(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    status: CampaignStatus,
    rejection_reason: Option<&str>,
    pause_reason: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE campaigns SET status = $2, rejection_reason = $3, pause_reason = $4,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(rejection_reason)
    .bind(pause_reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Queues (`send_at` None or due) or schedules an approved campaign.
pub async fn release(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    status: CampaignStatus,
    send_at: Option<OffsetDateTime>,
    timezone: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE campaigns SET status = $2, send_at = $3, timezone = coalesce($4, timezone),
             pause_reason = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(send_at)
    .bind(timezone)
    .execute(conn)
    .await?;
    Ok(())
}

/// Soft-deletes a draft.
pub async fn delete(conn: impl PgExecutor<'_>, scope: AccountScope, id: Uuid) -> Result<()> {
    sqlx::query(
        "UPDATE campaigns SET deleted_at = now(), updated_at = now()
         WHERE account_id = $1 AND id = $2",
    )
    .bind(scope.id())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A new draft with the fields and lists of `id` (named "<name> (copy)").
pub async fn duplicate(
    conn: &mut PgConnection,
    scope: AccountScope,
    id: Uuid,
    created_by: Option<Uuid>,
) -> Result<Uuid> {
    let copy = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO campaigns (id, account_id, name, sender_id, message, audience_filter,
             send_at, timezone, quiet_hours, priority, created_by)
         SELECT $3, account_id, left(name, 193) || ' (copy)', sender_id, message,
                audience_filter, send_at, timezone, quiet_hours, priority, $4
         FROM campaigns WHERE account_id = $1 AND id = $2",
    )
    .bind(scope.id())
    .bind(id)
    .bind(copy)
    .bind(created_by)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO campaign_lists (campaign_id, account_id, list_id)
         SELECT $3, account_id, list_id FROM campaign_lists
         WHERE account_id = $1 AND campaign_id = $2",
    )
    .bind(scope.id())
    .bind(id)
    .bind(copy)
    .execute(conn)
    .await?;
    Ok(copy)
}

/// Custom attribute names among `names` that no active contact of the organisation has.
pub async fn unknown_attributes(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    names: &[String],
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT t FROM unnest($2::text[]) WITH ORDINALITY AS u (t, n)
         WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = $1
                             AND c.deleted_at IS NULL AND c.attributes ? u.t)
         ORDER BY n",
    )
    .bind(scope.id())
    .bind(names)
    .fetch_all(conn)
    .await?)
}

/// Locks the outbox rows of a campaign's messages not yet published, waiting for a publisher
/// that holds some of them to finish (`FOR UPDATE`, not `SKIP LOCKED`: what it published is
/// then gone from the outbox — or leased, on the in-process bus — what it did not is ours);
/// their ids.
pub async fn lock_unsent(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT o.message_id FROM message_outbox o JOIN messages m ON m.id = o.message_id
         WHERE m.account_id = $1 AND m.campaign_id = $2 AND o.leased_at IS NULL
         ORDER BY o.message_id FOR UPDATE OF o",
    )
    .bind(scope.id())
    .bind(id)
    .fetch_all(conn)
    .await?)
}

/// Takes locked messages out of the outbox and marks them `cancelled` (with their event); the
/// ids marked.
pub async fn cancel_messages(
    conn: impl PgExecutor<'_>,
    ids: &[Uuid],
    event_ids: &[Uuid],
) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "WITH gone AS (
            DELETE FROM message_outbox WHERE message_id = ANY($1) RETURNING message_id
         ), m AS (
            UPDATE messages SET status = 'cancelled', updated_at = now()
            WHERE id IN (SELECT message_id FROM gone) AND status = 'submitted'
            RETURNING id, account_id, parts
         ), e AS (
            INSERT INTO message_events (id, message_id, account_id, status, parts)
            SELECT x.event_id, m.id, m.account_id, 'cancelled', m.parts
            FROM m JOIN unnest($1::uuid[], $2::uuid[]) AS x (id, event_id) ON x.id = m.id
         )
         SELECT id FROM m",
    )
    .bind(ids)
    .bind(event_ids)
    .fetch_all(conn)
    .await?)
}

/// Marks a campaign cancelled, its report saying what the cancellation took back.
pub async fn mark_cancelled(conn: impl PgExecutor<'_>, id: Uuid, report: &Value) -> Result<()> {
    sqlx::query(
        "UPDATE campaigns SET status = 'cancelled', cancelled_at = now(), updated_at = now(),
             pause_reason = NULL, report = $2
         WHERE id = $1",
    )
    .bind(id)
    .bind(report)
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps the preview's estimate.
pub async fn set_estimate(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    estimate: rust_decimal::Decimal,
) -> Result<()> {
    sqlx::query("UPDATE campaigns SET estimated_cost = $2 WHERE id = $1")
        .bind(id)
        .bind(estimate)
        .execute(conn)
        .await?;
    Ok(())
}

/// A campaign with its organisation, as staff see it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct StaffCampaign {
    /// The organisation.
    pub account_id: Uuid,
    /// Its name.
    pub account_name: String,
    /// The campaign.
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub campaign: Campaign,
}

/// Campaigns of every organisation below the page's cursor, newest first, optionally of one status
/// or one organisation (staff oversight).
pub async fn list_all(
    conn: impl PgExecutor<'_>,
    status: Option<CampaignStatus>,
    account_id: Option<Uuid>,
    page: &PageRequest,
) -> Result<Vec<StaffCampaign>> {
    let sql = format!(
        "SELECT k.account_id, a.name AS account_name, {COLUMNS}
           FROM campaigns k JOIN accounts a ON a.id = k.account_id
          WHERE k.deleted_at IS NULL AND k.id < $1
            AND ($2::campaign_status IS NULL OR k.status = $2)
            AND ($3::uuid IS NULL OR k.account_id = $3)
          ORDER BY k.id DESC LIMIT $4"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(page.before_or_max())
        .bind(status)
        .bind(account_id)
        .bind(page.fetch_limit())
        .fetch_all(conn)
        .await?)
}

/// The organisation a campaign belongs to (a 404 when unknown or deleted: the staff routes'
/// look-up).
pub async fn owner_of(conn: impl PgExecutor<'_>, id: Uuid) -> Result<Uuid> {
    sqlx::query_scalar("SELECT account_id FROM campaigns WHERE id = $1 AND deleted_at IS NULL")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)
}
