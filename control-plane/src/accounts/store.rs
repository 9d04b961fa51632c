//! SQL for accounts, memberships and credits. Every query on an account's data is scoped by
//! the account id the caller acts for.

use crate::identity::scope::AccountScope;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::accounts::types::{Account, Membership, UpdateAccount};
use crate::error::Result;
use crate::http::pagination::PageRequest;
use crate::identity::role::Role;

const ACCOUNT_COLUMNS: &str =
    "id, name, type, status, timezone, country, address_line1, address_line2, city, state,
    postal_code, created_at, updated_at";

/// Creates a direct account with the owner's membership and a zero credit balance.
pub async fn create_with_owner(
    conn: &mut PgConnection,
    owner: Uuid,
    name: &str,
    timezone: &str,
    country: &str,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO accounts (id, name, billing_account_id, timezone, country) VALUES ($1, $2, $1, $3, $4)",
    )
    .bind(id)
    .bind(name.trim())
    .bind(timezone)
    .bind(country)
    .execute(&mut *conn)
    .await?;
    open_credits(&mut *conn, id).await?;
    add_member(&mut *conn, owner, AccountScope::trusted(id), Role::Owner).await?;
    Ok(id)
}

/// The new account `id`'s credits row, at a zero balance (every account has one).
pub async fn open_credits(conn: impl PgExecutor<'_>, id: Uuid) -> Result<()> {
    sqlx::query("INSERT INTO credits (id, account_id) VALUES ($1, $2)")
        .bind(Uuid::now_v7())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds (or re-activates) a membership. An active member keeps their current role, so
/// accepting a stale invitation can never demote (or promote) anyone.
pub async fn add_member(
    conn: impl PgExecutor<'_>,
    user_id: Uuid,
    scope: AccountScope,
    role: Role,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO account_members (id, user_id, account_id, role) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, account_id) DO UPDATE SET
            role = CASE WHEN account_members.is_active THEN account_members.role ELSE EXCLUDED.role END,
            is_active = true",
    )
    .bind(Uuid::now_v7())
    .bind(user_id)
    .bind(scope.id())
    .bind(role)
    .execute(conn)
    .await?;
    Ok(())
}

/// The user's active role in an account, if they are a member.
pub async fn role_of(
    conn: impl PgExecutor<'_>,
    user_id: Uuid,
    account_id: Uuid,
) -> Result<Option<Role>> {
    Ok(sqlx::query_scalar(
        "SELECT role FROM account_members WHERE user_id = $1 AND account_id = $2 AND is_active",
    )
    .bind(user_id)
    .bind(account_id)
    .fetch_optional(conn)
    .await?)
}

/// The membership a login lands in when none is asked for: the oldest active one.
pub async fn default_membership(
    conn: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Option<(Uuid, Role)>> {
    Ok(sqlx::query_as(
        "SELECT account_id, role FROM account_members WHERE user_id = $1 AND is_active ORDER BY id LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?)
}

/// The user's memberships, newest first.
pub async fn memberships(
    conn: impl PgExecutor<'_>,
    user_id: Uuid,
    page: &PageRequest,
) -> Result<Vec<Membership>> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.account_id, a.name AS account_name, m.role, m.created_at
         FROM account_members m JOIN accounts a ON a.id = m.account_id
         WHERE m.user_id = $1 AND m.is_active AND m.id < $2 ORDER BY m.id DESC LIMIT $3",
    )
    .bind(user_id)
    .bind(page.before_or_max())
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?)
}

/// One account's profile.
pub async fn get(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<Option<Account>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"
    ));
    Ok(sqlx::query_as(sql)
        .bind(scope.id())
        .fetch_optional(conn)
        .await?)
}

/// Applies business-profile changes and returns the new profile.
pub async fn update(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    u: &UpdateAccount,
) -> Result<Option<Account>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "UPDATE accounts SET
            name = COALESCE($2, name), timezone = COALESCE($3, timezone), country = COALESCE($4, country),
            address_line1 = CASE WHEN $5::text IS NULL THEN address_line1 ELSE NULLIF($5, '') END,
            address_line2 = CASE WHEN $6::text IS NULL THEN address_line2 ELSE NULLIF($6, '') END,
            city = CASE WHEN $7::text IS NULL THEN city ELSE NULLIF($7, '') END,
            state = CASE WHEN $8::text IS NULL THEN state ELSE NULLIF($8, '') END,
            postal_code = CASE WHEN $9::text IS NULL THEN postal_code ELSE NULLIF($9, '') END,
            updated_at = now()
         WHERE id = $1 RETURNING {ACCOUNT_COLUMNS}"
    ));
    Ok(sqlx::query_as(sql)
        .bind(scope.id())
        .bind(u.name.as_deref().map(str::trim))
        .bind(&u.timezone)
        .bind(&u.country)
        .bind(&u.address_line1)
        .bind(&u.address_line2)
        .bind(&u.city)
        .bind(&u.state)
        .bind(&u.postal_code)
        .fetch_optional(conn)
        .await?)
}

/// The organisation's name.
pub async fn name_of(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<String> {
    Ok(
        sqlx::query_scalar("SELECT name FROM accounts WHERE id = $1")
            .bind(scope.id())
            .fetch_one(conn)
            .await?,
    )
}
