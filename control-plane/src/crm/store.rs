//! Reads of the CRM module: organisations and users across every account, and the login
//! history. Staff see every organisation, so nothing here takes an `AccountScope` from a
//! credential; each query is explicit about which organisation or user it reads.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::contacts::filter::like_escape;
use crate::crm::types::{
    LoginEvent, OrgQuery, OrgSummary, Suspension, UserDetail, UserMembership, UserQuery,
    UserSummary,
};
use crate::error::Result;
use crate::http::pagination::PageRequest;

/// `%text%` for ILIKE, with the wildcards in `text` escaped.
fn like(text: Option<&str>) -> Option<String> {
    let text = text.map(str::trim).filter(|t| !t.is_empty())?;
    Some(format!("%{}%", like_escape(text)))
}

/// A page of the organisations matching `q`, newest first.
pub async fn orgs(
    conn: impl PgExecutor<'_>,
    q: &OrgQuery,
    page: &PageRequest,
) -> Result<Vec<OrgSummary>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.name, a.type, a.status, a.country, a.deleted_at, a.created_at,
                (SELECT count(*) FROM account_members m WHERE m.account_id = a.id AND m.is_active)
                    AS member_count,
                coalesce(c.balance, 0) AS balance,
                coalesce(c.billing_mode, 'prepaid') AS billing_mode,
                c.frozen_at IS NOT NULL AS credits_frozen
           FROM accounts a LEFT JOIN credits c ON c.account_id = a.id
          WHERE a.id < $1
            AND ($2::text IS NULL OR a.name ILIKE $2)
            AND ($3::account_status IS NULL OR a.status = $3)
            AND ($4::account_type IS NULL OR a.type = $4)
            AND ($5::text IS NULL OR a.country = upper($5))
          ORDER BY a.id DESC LIMIT $6",
    )
    .bind(page.before_or_max())
    .bind(like(q.q.as_deref()))
    .bind(q.status)
    .bind(q.account_type)
    .bind(q.country.as_deref().map(str::trim))
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?)
}

/// The suspension and deletion state of an organisation.
pub async fn suspension(conn: impl PgExecutor<'_>, account_id: Uuid) -> Result<Suspension> {
    Ok(sqlx::query_as(
        "SELECT a.suspended_at, a.suspended_reason, a.deleted_at,
                (SELECT c.frozen_at FROM credits c WHERE c.account_id = a.id) AS credits_frozen_at,
                (SELECT count(*) FROM message_outbox o JOIN messages m ON m.id = o.message_id
                  WHERE m.account_id = a.id AND o.held_reason IS NOT NULL) AS held_messages
           FROM accounts a WHERE a.id = $1",
    )
    .bind(account_id)
    .fetch_one(conn)
    .await?)
}

const USER_COLUMNS: &str = "u.id, u.email, u.first_name, u.last_name, u.is_active,
    u.email_verified_at IS NOT NULL AS email_verified, u.last_login_at, u.created_at,
    (SELECT count(*) FROM account_members m WHERE m.user_id = u.id AND m.is_active) AS membership_count";

/// A page of the users matching `q`, newest first.
pub async fn users(
    conn: impl PgExecutor<'_>,
    q: &UserQuery,
    page: &PageRequest,
) -> Result<Vec<UserSummary>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u
          WHERE u.id < $1
            AND ($2::text IS NULL OR u.email ILIKE $2 OR (u.first_name || ' ' || u.last_name) ILIKE $2)
            AND ($3::user_role IS NULL OR EXISTS (SELECT 1 FROM account_members m
                   WHERE m.user_id = u.id AND m.is_active AND m.role = $3))
            AND ($4::boolean IS NULL OR u.is_active = $4)
          ORDER BY u.id DESC LIMIT $5"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(page.before_or_max())
        .bind(like(q.q.as_deref()))
        .bind(q.role)
        .bind(q.active)
        .bind(page.fetch_limit())
        .fetch_all(conn)
        .await?)
}

/// One user, without the memberships ([`memberships`]); `None` when unknown.
pub async fn user(conn: impl PgExecutor<'_>, id: Uuid) -> Result<Option<UserDetail>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, u.totp_enabled_at IS NOT NULL AS mfa_enabled
           FROM users u WHERE u.id = $1"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Every membership of a user, newest first.
pub async fn memberships(conn: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<UserMembership>> {
    Ok(sqlx::query_as(
        "SELECT m.account_id, a.name AS account_name, a.status AS account_status, m.role,
                m.is_active, m.created_at
           FROM account_members m JOIN accounts a ON a.id = m.account_id
          WHERE m.user_id = $1 ORDER BY m.id DESC",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

/// Who a login history belongs to.
#[derive(Debug, Clone, Copy)]
pub enum LoginScope {
    /// A customer user.
    User,
    /// A staff member.
    Staff,
}

/// A page of the login attempts of a user or staff member, newest first.
pub async fn logins(
    conn: impl PgExecutor<'_>,
    scope: LoginScope,
    principal_id: Uuid,
    page: &PageRequest,
) -> Result<Vec<LoginEvent>> {
    let scope = match scope {
        LoginScope::User => "user",
        LoginScope::Staff => "staff",
    };
    Ok(sqlx::query_as(
        "SELECT id, email, ip, user_agent, success, reason, created_at FROM login_events
          WHERE scope = $1 AND principal_id = $2 AND id < $3 ORDER BY id DESC LIMIT $4",
    )
    .bind(scope)
    .bind(principal_id)
    .bind(page.before_or_max())
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?)
}
