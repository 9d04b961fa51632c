//! SQL for sender IDs and their status events. Customer queries are scoped by account; the
//! staff queries (queue, history, decisions) span accounts.

use crate::identity::scope::AccountScope;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::error::{Result, conflict_on_unique};
use crate::http::pagination::PageRequest;
use crate::sender_ids::name::SenderName;
use crate::sender_ids::types::{
    SenderId, SenderIdEvent, SenderIdStatus, StaffSenderId, TrafficType,
};

/// The columns of [`SenderId`], from `sender_ids s`.
macro_rules! columns {
    () => {
        "s.id, s.account_id, s.name, s.kind, s.country, s.traffic_type, s.use_case,
         s.sample_message, s.status, s.is_default, s.status_note, s.reviewed_at, s.created_at,
         s.updated_at"
    };
}

/// The columns of [`StaffSenderId`], from `sender_ids s JOIN accounts a`.
macro_rules! staff_columns {
    () => {
        concat!(
            columns!(),
            ", a.name AS account_name, s.submitted_by, s.reviewed_by"
        )
    };
}

/// A registration, validated.
#[derive(Debug)]
pub struct NewSenderId<'a> {
    /// The organisation.
    pub account_id: Uuid,
    /// The parsed name.
    pub name: &'a SenderName,
    /// ISO alpha-2 country.
    pub country: &'a str,
    /// Transactional or promotional.
    pub traffic_type: TrafficType,
    /// Use-case text.
    pub use_case: &'a str,
    /// Example message.
    pub sample_message: Option<&'a str>,
    /// The registering member (None for an API key).
    pub submitted_by: Option<Uuid>,
}

/// Inserts a pending sender ID and its registration event. A live duplicate (same name and
/// country, pending, approved or suspended) is a 409.
pub async fn insert(conn: &mut PgConnection, new: &NewSenderId<'_>) -> Result<SenderId> {
    let sender: SenderId = sqlx::query_as(concat!(
        "INSERT INTO sender_ids AS s
             (id, account_id, name, kind, country, traffic_type, use_case, sample_message,
              submitted_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
        columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(new.account_id)
    .bind(new.name.as_str())
    .bind(new.name.kind())
    .bind(new.country)
    .bind(new.traffic_type)
    .bind(new.use_case)
    .bind(new.sample_message)
    .bind(new.submitted_by)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        conflict_on_unique(
            e,
            "this sender ID is already registered for that country (pending, approved or suspended)",
        )
    })?;
    let event = Event {
        from: None,
        to: SenderIdStatus::Pending,
        staff_id: None,
        user_id: new.submitted_by,
        note: None,
    };
    insert_event(&mut *conn, &sender, &event).await?;
    Ok(sender)
}

/// A page of an account's sender IDs, newest first, optionally of one status.
pub async fn list(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    status: Option<SenderIdStatus>,
    page: &PageRequest,
) -> Result<Vec<SenderId>> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM sender_ids s
         WHERE s.account_id = $1 AND s.id < $2 AND ($3::sender_id_status IS NULL OR s.status = $3)
         ORDER BY s.id DESC LIMIT $4"
    ))
    .bind(scope.id())
    .bind(page.before_or_max())
    .bind(status)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?)
}

/// One of an account's sender IDs.
pub async fn get(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<SenderId>> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM sender_ids s WHERE s.account_id = $1 AND s.id = $2"
    ))
    .bind(scope.id())
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Locks a sender ID for a status change, within `scope` when given (customers) or in any
/// account (staff).
pub async fn lock(
    conn: impl PgExecutor<'_>,
    scope: Option<AccountScope>,
    id: Uuid,
) -> Result<Option<SenderId>> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM sender_ids s WHERE s.id = $1 AND ($2::uuid IS NULL OR s.account_id = $2)
         FOR UPDATE"
    ))
    .bind(id)
    .bind(scope.map(AccountScope::id))
    .fetch_optional(conn)
    .await?)
}

/// Moves a sender ID to `to`. A staff decision (`staff_id` given) records the reviewer, the
/// time and `note`; anything but `approved` clears the default flag.
pub async fn set_status(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    to: SenderIdStatus,
    staff_id: Option<Uuid>,
    note: Option<&str>,
) -> Result<SenderId> {
    Ok(sqlx::query_as(concat!(
        "UPDATE sender_ids AS s SET
             status = $2,
             is_default = s.is_default AND $2 = 'approved'::sender_id_status,
             reviewed_by = CASE WHEN $3::uuid IS NULL THEN s.reviewed_by ELSE $3 END,
             reviewed_at = CASE WHEN $3::uuid IS NULL THEN s.reviewed_at ELSE now() END,
             status_note = CASE WHEN $3::uuid IS NULL THEN s.status_note ELSE $4 END,
             updated_at = now()
         WHERE s.id = $1 RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(to)
    .bind(staff_id)
    .bind(note)
    .fetch_one(conn)
    .await?)
}

/// A status change to record.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// Status before (None for the registration).
    pub from: Option<SenderIdStatus>,
    /// Status after.
    pub to: SenderIdStatus,
    /// Acting staff member.
    pub staff_id: Option<Uuid>,
    /// Acting customer user.
    pub user_id: Option<Uuid>,
    /// Note or reason.
    pub note: Option<&'a str>,
}

/// Appends a status event for `sender`.
pub async fn insert_event(
    conn: impl PgExecutor<'_>,
    sender: &SenderId,
    event: &Event<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sender_id_events
             (id, sender_id_id, account_id, from_status, to_status, staff_id, user_id, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7())
    .bind(sender.id)
    .bind(sender.account_id)
    .bind(event.from)
    .bind(event.to)
    .bind(event.staff_id)
    .bind(event.user_id)
    .bind(event.note)
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes `id` (approved, locked by the caller) the account's only default.
pub async fn make_default(
    conn: &mut PgConnection,
    scope: AccountScope,
    id: Uuid,
) -> Result<SenderId> {
    sqlx::query(
        "UPDATE sender_ids SET is_default = false, updated_at = now()
         WHERE account_id = $1 AND is_default AND id <> $2",
    )
    .bind(scope.id())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    set_default_flag(conn, id, true).await.map_err(|e| match e {
        crate::Error::Database(db) => conflict_on_unique(
            db,
            "another default sender ID was set at the same time; try again",
        ),
        other => other,
    })
}

/// Sets or clears the default flag of one sender ID.
pub async fn set_default_flag(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    is_default: bool,
) -> Result<SenderId> {
    Ok(sqlx::query_as(concat!(
        "UPDATE sender_ids AS s SET is_default = $2,
             updated_at = CASE WHEN s.is_default = $2 THEN s.updated_at ELSE now() END
         WHERE s.id = $1 RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(is_default)
    .fetch_one(conn)
    .await?)
}

/// The approved sender ID an account may send with: the one named `name` (case-insensitive;
/// a long number also matches without its `+`), or the account default when `name` is None or
/// blank. None when there is no such approved sender ID. When a name is approved for several
/// countries, the default wins, then the earliest registered.
pub async fn approved_sender(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    name: Option<&str>,
) -> Result<Option<SenderId>> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM sender_ids s
         WHERE s.account_id = $1 AND s.status = 'approved'
           AND CASE WHEN $2::text IS NULL THEN s.is_default
                    ELSE lower(s.name) = lower($2)
                         OR (s.kind = 'long_number' AND s.name = '+' || ltrim($2, '+'))
               END
         ORDER BY s.is_default DESC, s.id LIMIT 1"
    ))
    .bind(scope.id())
    .bind(name)
    .fetch_optional(conn)
    .await?)
}

/// A page of the staff approval queue: pending sender IDs of every account after the cursor,
/// oldest first.
pub async fn queue(conn: impl PgExecutor<'_>, page: &PageRequest) -> Result<Vec<StaffSenderId>> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        staff_columns!(),
        " FROM sender_ids s JOIN accounts a ON a.id = s.account_id
         WHERE s.status = 'pending' AND s.id > $1 ORDER BY s.id LIMIT $2"
    ))
    .bind(page.before.unwrap_or(Uuid::nil()))
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?)
}

/// One sender ID, staff view.
pub async fn staff_get(conn: impl PgExecutor<'_>, id: Uuid) -> Result<Option<StaffSenderId>> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        staff_columns!(),
        " FROM sender_ids s JOIN accounts a ON a.id = s.account_id WHERE s.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// A page of every sender ID of an account, newest first, staff view.
pub async fn of_account(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    page: &PageRequest,
) -> Result<Vec<StaffSenderId>> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        staff_columns!(),
        " FROM sender_ids s JOIN accounts a ON a.id = s.account_id
         WHERE s.account_id = $1 AND s.id < $2 ORDER BY s.id DESC LIMIT $3"
    ))
    .bind(scope.id())
    .bind(page.before_or_max())
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?)
}

/// The status events of the given sender IDs, oldest first.
pub async fn events_of(conn: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<Vec<SenderIdEvent>> {
    Ok(sqlx::query_as(
        "SELECT id, sender_id_id, from_status, to_status, staff_id, user_id, note, created_at
         FROM sender_id_events WHERE sender_id_id = ANY($1) ORDER BY id",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?)
}

/// Whether the account exists.
pub async fn account_exists(conn: impl PgExecutor<'_>, account_id: Uuid) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)")
            .bind(account_id)
            .fetch_one(conn)
            .await?,
    )
}
