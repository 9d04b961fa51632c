//! The account-scoped statements every feature's store repeats, written once. The account
//! ([`AccountScope`]) is always `$1`: [`one`] reads the row with id `$2`, [`hit_one`] runs a
//! change to the row with id `$2` and says whether it hit it, [`page`] reads a page of rows
//! below the cursor. The SQL stays in the feature's store; only the binding and fetching are
//! shared.

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::QueryAs;
use sqlx::{FromRow, PgExecutor, Postgres};
use uuid::Uuid;

use crate::error::Result;
use crate::http::pagination::PageRequest;
use crate::identity::scope::AccountScope;

/// A query of [`page`], to which a list binds its own parameters.
pub type Rows<'q, T> = QueryAs<'q, Postgres, T, PgArguments>;

/// A page of the rows `sql` selects (newest first, `id < $2`, `LIMIT` last): the account is
/// `$1`, the page's cursor bound `$2`, then the parameters `own` binds (`$3` …), then the
/// page's fetch limit (one row more than the page, to tell whether another page follows).
pub async fn page<'q, T>(
    conn: impl PgExecutor<'_>,
    sql: String,
    scope: AccountScope,
    page: &PageRequest,
    own: impl FnOnce(Rows<'q, T>) -> Rows<'q, T>,
) -> Result<Vec<T>>
where
    T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(page.before_or_max());
    Ok(own(query).bind(page.fetch_limit()).fetch_all(conn).await?)
}

/// The row `sql` selects with the account as `$1` and `id` as `$2`, if there is one.
pub async fn one<T>(
    conn: impl PgExecutor<'_>,
    sql: String,
    scope: AccountScope,
    id: Uuid,
) -> Result<Option<T>>
where
    T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Runs `sql` (a change) with the account as `$1` and `id` as `$2`; whether it changed
/// exactly one row.
pub async fn hit_one(
    conn: impl PgExecutor<'_>,
    sql: &'static str,
    scope: AccountScope,
    id: Uuid,
) -> Result<bool> {
    let done = sqlx::query(sql)
        .bind(scope.id())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
