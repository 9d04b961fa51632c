//! Database connections and migrations. Migrations run as the login (owner) role; the request
//! pool then `SET ROLE`s to the restricted service role, whose grants the migrations define.

use std::str::FromStr;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgPool};

use crate::config::DatabaseConfig;

/// The embedded migrations (`migrations/` at the workspace root).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Connect options from the configured URL.
pub fn connect_options(config: &DatabaseConfig) -> Result<PgConnectOptions, sqlx::Error> {
    PgConnectOptions::from_str(config.url.expose_secret())
}

/// Applies pending migrations with a short-lived owner connection.
pub async fn migrate(config: &DatabaseConfig) -> Result<(), sqlx::migrate::MigrateError> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(connect_options(config)?)
        .await?;
    MIGRATOR.run(&pool).await?;
    pool.close().await;
    Ok(())
}

/// The request pool: every connection works as `app_role` when one is configured.
pub fn app_pool(options: PgConnectOptions, config: &DatabaseConfig) -> PgPool {
    let role = config.app_role.clone();
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
                Ok(())
            })
        })
        .connect_lazy_with(options)
}
