//! Database connections and migrations. Migrations run as the owner (`database.migration_url`);
//! the service logs in as the least-privilege role `semalink_api`, whose grants the migrations
//! define (`database.url`), so there is no superuser session to `RESET ROLE` back to.
//!
//! Every pooled connection carries the API `statement_timeout`; imports and exports run their
//! statements in a [`begin_bulk`] transaction with the longer bulk timeout, armed with a
//! [`CancelOnDrop`] so that a dropped request (client gone, request timeout) cancels the
//! statement instead of letting it run on holding its locks.

use std::str::FromStr;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgConnection, PgPool, Postgres, Transaction};

use crate::config::DatabaseConfig;

/// The embedded migrations (`migrations/` at the workspace root).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Connect options from the configured URL.
pub fn connect_options(config: &DatabaseConfig) -> Result<PgConnectOptions, sqlx::Error> {
    PgConnectOptions::from_str(config.url.expose_secret())
}

/// Applies pending migrations with a short-lived connection as the owner
/// (`database.migration_url`); the service's own login may not change the schema.
pub async fn migrate(config: &DatabaseConfig) -> Result<(), sqlx::migrate::MigrateError> {
    let Some(url) = &config.migration_url else {
        return Err(sqlx::migrate::MigrateError::Source(
            "database.migration_url (or DATABASE_OWNER_URL) is required to run migrations: \
             the owner's login, not the service's"
                .into(),
        ));
    };
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(PgConnectOptions::from_str(url.expose_secret())?)
        .await?;
    MIGRATOR.run(&pool).await?;
    pool.close().await;
    Ok(())
}

/// The request pool: every connection works as `app_role` when one is configured, with the
/// API statement timeout.
pub fn app_pool(options: PgConnectOptions, config: &DatabaseConfig) -> PgPool {
    let role = config.app_role.clone();
    let timeout_ms = config.statement_timeout_ms;
    PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .after_connect(move |conn, _meta| {
            let role = role.clone();
            Box::pin(async move {
                if !role.is_empty() {
                    // The identifier was validated at config load (plain [A-Za-z0-9_]).
                    conn.execute(sqlx::AssertSqlSafe(format!("SET ROLE {role}")))
                        .await?;
                }
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "SET statement_timeout = {timeout_ms}"
                )))
                .await?;
                Ok(())
            })
        })
        .connect_lazy_with(options)
}

/// Begins a transaction for a bulk request class (imports, exports): its statements may run
/// for `timeout_ms` (`SET LOCAL`, so the pooled connection keeps the API timeout afterwards).
/// Keep the guard while the work runs and [`CancelOnDrop::disarm`] it when done.
pub async fn begin_bulk(
    pool: &PgPool,
    timeout_ms: u64,
) -> Result<(Transaction<'static, Postgres>, CancelOnDrop), sqlx::Error> {
    let mut tx = pool.begin().await?;
    tx.execute(sqlx::AssertSqlSafe(format!(
        "SET LOCAL statement_timeout = {timeout_ms}"
    )))
    .await?;
    let guard = CancelOnDrop::arm(&mut tx, pool).await?;
    Ok((tx, guard))
}

/// Cancels the statement running in a transaction when the request that owns it is dropped.
/// Dropping a query future does not stop PostgreSQL (the pool even waits for the statement to
/// finish before reusing the connection), so the guard sends `pg_cancel_backend` from another
/// connection. It targets the backend *and* the transaction's start time, so a connection
/// that was already reused for other work is never hit.
#[derive(Debug)]
pub struct CancelOnDrop {
    pool: PgPool,
    target: Option<(i32, time::OffsetDateTime)>,
}

impl CancelOnDrop {
    /// Arms a guard for the transaction open on `conn`.
    pub async fn arm(conn: &mut PgConnection, pool: &PgPool) -> Result<CancelOnDrop, sqlx::Error> {
        let target: (i32, time::OffsetDateTime) = sqlx::query_as("SELECT pg_backend_pid(), now()")
            .fetch_one(&mut *conn)
            .await?;
        Ok(CancelOnDrop {
            pool: pool.clone(),
            target: Some(target),
        })
    }

    /// The work finished (or failed on its own): nothing to cancel.
    pub fn disarm(mut self) {
        self.target = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some((pid, started)) = self.target.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let pool = self.pool.clone();
        runtime.spawn(async move {
            let cancelled = sqlx::query_scalar::<_, bool>(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
                  WHERE pid = $1 AND xact_start = $2 AND state <> 'idle'",
            )
            .bind(pid)
            .bind(started)
            .fetch_optional(&pool)
            .await;
            match cancelled {
                Ok(Some(true)) => {
                    tracing::info!(pid, "request dropped; its statement was cancelled")
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(pid, %error, "could not cancel a dropped request's statement")
                }
            }
        });
    }
}
