//! SQL for team members and invitations, always scoped by the account id.

use crate::identity::scope::AccountScope;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::crypto;
use crate::error::Result;
use crate::http::pagination::PageRequest;
use crate::identity::role::Role;

/// A member of an organisation.
#[derive(Debug, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Member {
    /// Membership id.
    pub id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// Their email.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Role in this organisation.
    pub role: Role,
    /// When they joined.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A pending invitation.
#[derive(Debug, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Invitation {
    /// Invitation id.
    pub id: Uuid,
    /// Invited address.
    pub email: String,
    /// Role on acceptance.
    pub role: Role,
    /// Valid until.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Sent at.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Serialises team changes of one account (last-owner checks) for the transaction.
pub async fn lock_account(conn: &mut PgConnection, scope: AccountScope) -> Result<()> {
    sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE")
        .bind(scope.id())
        .execute(conn)
        .await?;
    Ok(())
}

/// Members of an account, newest first.
pub async fn members(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    page: &PageRequest,
) -> Result<Vec<Member>> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.user_id, u.email, u.first_name, u.last_name, m.role, m.created_at
         FROM account_members m JOIN users u ON u.id = m.user_id
         WHERE m.account_id = $1 AND m.is_active AND m.id < $2 ORDER BY m.id DESC LIMIT $3",
    )
    .bind(scope.id())
    .bind(page.before_or_max())
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?)
}

/// Number of active owners.
pub async fn owner_count(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM account_members WHERE account_id = $1 AND is_active AND role = 'owner'")
        .bind(scope.id())
        .fetch_one(conn)
        .await?)
}

/// Changes a member's role; false when the user is not an active member of the account.
pub async fn set_role(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    user_id: Uuid,
    role: Role,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE account_members SET role = $3 WHERE account_id = $1 AND user_id = $2 AND is_active",
    )
    .bind(scope.id())
    .bind(user_id)
    .bind(role)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deactivates a membership; false when there was none.
pub async fn remove(conn: impl PgExecutor<'_>, scope: AccountScope, user_id: Uuid) -> Result<bool> {
    let done = sqlx::query("UPDATE account_members SET is_active = false WHERE account_id = $1 AND user_id = $2 AND is_active")
        .bind(scope.id())
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether `email` already belongs to an active member.
pub async fn is_member_email(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    email: &str,
) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM account_members m JOIN users u ON u.id = m.user_id
                        WHERE m.account_id = $1 AND m.is_active AND lower(u.email) = lower($2))",
    )
    .bind(scope.id())
    .bind(email)
    .fetch_one(conn)
    .await?)
}

/// Creates an invitation valid 7 days; returns it and the raw token.
pub async fn invite(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    email: &str,
    role: Role,
    by: Uuid,
) -> Result<(Invitation, String)> {
    insert_invitation(conn, scope, email, role, by, false).await
}

/// Invites the first owner of an organisation created for them (an agent's new
/// sub-customer): the one kind of invitation that may carry the owner role.
pub async fn invite_founder(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    email: &str,
    by: Uuid,
) -> Result<(Invitation, String)> {
    insert_invitation(conn, scope, email, Role::Owner, by, true).await
}

async fn insert_invitation(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    email: &str,
    role: Role,
    by: Uuid,
    founding: bool,
) -> Result<(Invitation, String)> {
    let token = crypto::random_token();
    let invitation = sqlx::query_as(
        "INSERT INTO invitations (id, account_id, email, role, token_hash, invited_by, expires_at,
                                  founding)
         VALUES ($1, $2, $3, $4, $5, $6, now() + interval '7 days', $7)
         RETURNING id, email, role, expires_at, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(scope.id())
    .bind(email)
    .bind(role)
    .bind(crypto::digest(&token))
    .bind(by)
    .bind(founding)
    .fetch_one(conn)
    .await?;
    Ok((invitation, token))
}

/// Pending invitations of an account, newest first.
pub async fn pending(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    page: &PageRequest,
) -> Result<Vec<Invitation>> {
    Ok(sqlx::query_as(
        "SELECT id, email, role, expires_at, created_at FROM invitations
         WHERE account_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now() AND id < $2
         ORDER BY id DESC LIMIT $3",
    )
    .bind(scope.id())
    .bind(page.before_or_max())
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?)
}

/// Revokes a pending invitation; false when the account has no such pending invitation.
pub async fn revoke_invitation(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    id: Uuid,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE invitations SET revoked_at = now()
         WHERE id = $1 AND account_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(scope.id())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An invitation being accepted.
#[derive(Debug, sqlx::FromRow)]
pub struct Redeemable {
    /// Invitation id.
    pub id: Uuid,
    /// The inviting account.
    pub account_id: Uuid,
    /// Invited address.
    pub email: String,
    /// Role to grant.
    pub role: Role,
}

/// Locks a usable invitation by its raw token.
pub async fn redeemable(conn: &mut PgConnection, raw: &str) -> Result<Option<Redeemable>> {
    Ok(sqlx::query_as(
        "SELECT id, account_id, email, role FROM invitations
         WHERE token_hash = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
         FOR UPDATE",
    )
    .bind(crypto::digest(raw))
    .fetch_optional(conn)
    .await?)
}

/// Marks an invitation accepted.
pub async fn mark_accepted(conn: impl PgExecutor<'_>, id: Uuid) -> Result<()> {
    sqlx::query("UPDATE invitations SET accepted_at = now() WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Emails of the organisation's active owners and admins (who hear about its notices),
/// sorted.
pub async fn admin_emails(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT u.email FROM account_members m JOIN users u ON u.id = m.user_id
         WHERE m.account_id = $1 AND m.is_active AND u.is_active
           AND m.role IN ('owner', 'admin')
         ORDER BY u.email",
    )
    .bind(scope.id())
    .fetch_all(conn)
    .await?)
}
