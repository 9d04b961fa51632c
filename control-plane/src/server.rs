//! Running the service: migrate (if configured), bind, serve with graceful shutdown on
//! SIGTERM/ctrl-c, and run the background tasks (email outbox, rate-limiter pruning, purge of
//! contacts trashed more than 90 days ago).

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::contacts::purge;
use crate::email::worker::{self, Mailer};
use crate::state::AppState;
use crate::{app, db};

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL is unusable.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Socket trouble.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// State could not be built.
    #[error("startup: {0}")]
    Startup(#[from] crate::error::Error),
}

/// Serves until a shutdown signal.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    if config.database.migrate_on_start {
        db::migrate(&config.database).await?;
    }
    let pool = db::app_pool(db::connect_options(&config.database)?, &config.database);
    let mailer = Mailer::from_config(&config.email, config.server.environment)?;
    let poll = Duration::from_millis(config.email.poll_interval_ms);
    let state = AppState::new(config, pool.clone())?;
    let listener = TcpListener::bind(state.config.server.bind).await?;
    tracing::info!(addr = %listener.local_addr()?, "semalink-api listening");
    let internal = TcpListener::bind(state.config.server.metrics_bind).await?;
    tracing::info!(addr = %internal.local_addr()?, "semalink-api metrics listening");

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut metrics_stop = stop_rx.clone();
    let metrics_task = tokio::spawn(
        axum::serve(internal, app::internal(state.clone()))
            .with_graceful_shutdown(async move {
                let _ = metrics_stop.changed().await;
            })
            .into_future(),
    );
    let email_task = tokio::spawn(worker::run(pool.clone(), mailer, poll, stop_rx.clone()));
    let purge_task = tokio::spawn(purge::run(
        pool.clone(),
        Duration::from_secs(3600),
        stop_rx.clone(),
    ));
    let limits = state.limits.clone();
    let mut prune_stop = stop_rx.clone();
    let throttle_pool = pool.clone();
    let prune_task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(60)) => {
                    limits.retain_recent();
                    if let Err(error) = crate::auth::lockout::sweep(&throttle_pool).await {
                        tracing::warn!(%error, "login throttle sweep failed");
                    }
                }
                _ = prune_stop.changed() => break,
            }
        }
    });

    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let _ = email_task.await;
        let _ = prune_task.await;
        let _ = purge_task.await;
        let _ = metrics_task.await;
    })
    .await;
    pool.close().await;
    tracing::info!("semalink-api stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
