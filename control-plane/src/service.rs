//! Running the service: [`ControlPlane::start`] migrates (if configured), builds the state,
//! serves on the given listener (and `/metrics` on `server.metrics_bind`) and runs the
//! background workers `[workers]` switches on, all
//! from one `TaskTracker`; [`ControlPlaneHandle`] is how `main`, the tests and (later) the
//! all-in-one process talk to it. Signals are `main`'s business: whoever owns the
//! cancellation token decides when to stop.

use std::net::SocketAddr;
use std::time::Duration;

use semalink_bus::Bus;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::state::AppState;
use crate::{app, db};

/// How long shutdown waits for in-flight requests, then for the workers.
const DRAIN: Duration = Duration::from_secs(10);

/// Why the service could not start or stop cleanly.
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
    /// State or a worker could not be built.
    #[error("startup: {0}")]
    Startup(#[from] crate::error::Error),
}

/// Builds and starts control planes.
#[derive(Debug)]
pub struct ControlPlane;

/// A running control plane.
#[derive(Debug)]
pub struct ControlPlaneHandle {
    addr: SocketAddr,
    metrics_addr: SocketAddr,
    state: AppState,
    cancel: CancellationToken,
    consumers: CancellationToken,
    bus_stop: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
    internal: JoinHandle<std::io::Result<()>>,
    workers: TaskTracker,
}

impl ControlPlane {
    /// Starts serving on `listener` (bind `127.0.0.1:0` to let the system pick a port, see
    /// [`ControlPlaneHandle::local_addr`]) and starts the enabled workers. Cancelling
    /// `cancel` stops everything; [`ControlPlaneHandle::shutdown`] then waits for it.
    pub async fn start(
        config: Config,
        listener: TcpListener,
        cancel: CancellationToken,
    ) -> Result<ControlPlaneHandle, ServeError> {
        ControlPlane::start_on(config, listener, cancel, None).await
    }

    /// [`start`](Self::start) on `shared` when given: the bus the one-process binary shares
    /// with the engine it hosts (its in-process bus, which then has a consumer), instead of
    /// the bus `[amqp]` configures. On a shared bus the status and inbound consumers do not
    /// stop with `cancel`: they end when their queues are closed and drained (the host closes
    /// them once its engine has flushed its last events, see
    /// [`ControlPlaneHandle::stop_intake`]), so no status event of a drained engine is lost.
    pub async fn start_on(
        config: Config,
        listener: TcpListener,
        cancel: CancellationToken,
        shared: Option<Bus>,
    ) -> Result<ControlPlaneHandle, ServeError> {
        if config.database.migrate_on_start {
            db::migrate(&config.database).await?;
        }
        let pool = db::app_pool(db::connect_options(&config.database)?, &config.database);
        // The bus outlives the workers: it stops after they have ended (see `shutdown`), so
        // the publisher's last confirms can still arrive.
        let bus_stop = CancellationToken::new();
        let hosted = shared.is_some();
        let bus = match shared {
            Some(bus) => bus,
            None => crate::bus::connect(config.amqp.as_ref(), bus_stop.clone()),
        };
        let state = AppState::new(config, pool)?.with_bus(bus);
        let addr = listener.local_addr()?;
        // `/metrics` only on the internal listener (loopback by default).
        let internal_listener = TcpListener::bind(state.config.server.metrics_bind).await?;
        let metrics_addr = internal_listener.local_addr()?;
        let workers = TaskTracker::new();
        let consumers = if hosted {
            CancellationToken::new()
        } else {
            cancel.clone()
        };
        // Without `[amqp]` and without a shared bus the bus is in-process and no engine is on
        // it: publishing would mark messages `queued` into a queue nobody reads, lost at the
        // next restart, and no status event could ever arrive. Leave messages `submitted` in
        // the outbox instead, where a later start with a broker (or in the one-process
        // binary) publishes them; the status consumer has nothing to consume.
        let no_engine = state.config.amqp.is_none() && !hosted;
        for worker in app::workers(&state, &cancel, &consumers)? {
            if no_engine
                && matches!(
                    worker.name,
                    "message_publisher" | "status_consumer" | "inbound_consumer"
                )
            {
                tracing::warn!(
                    worker = worker.name,
                    "no [amqp] configured and no engine in this process: not started (accepted messages stay in the outbox)"
                );
                continue;
            }
            tracing::info!(worker = worker.name, "worker started");
            workers.spawn(worker.run);
        }
        workers.close();
        let service = app::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let stop = cancel.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, service)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        });
        let stop = cancel.clone();
        let internal_app = app::internal(state.clone());
        let internal = tokio::spawn(async move {
            axum::serve(internal_listener, internal_app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
        });
        tracing::info!(%addr, %metrics_addr, "semalink-api listening");
        Ok(ControlPlaneHandle {
            addr,
            metrics_addr,
            state,
            cancel,
            consumers,
            bus_stop,
            server,
            internal,
            workers,
        })
    }
}

impl ControlPlaneHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the internal listener (`/metrics`, `/health`).
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
    }

    /// The shared state (pool, configuration, limiters).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The tracker of the background workers (`len()` is how many still run).
    pub fn workers(&self) -> TaskTracker {
        self.workers.clone()
    }

    /// Ready to serve: the database answers (what `/ready` reports).
    pub async fn ready(&self) -> bool {
        sqlx::query("SELECT 1")
            .execute(&self.state.pool)
            .await
            .is_ok()
    }

    /// The token that stops this service.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// The first step of a hosted shutdown: stops taking work (the listeners and every worker
    /// but the status and inbound consumers, which keep applying what the engine still
    /// reports until their queues close). [`shutdown`](Self::shutdown) does the rest.
    pub fn stop_intake(&self) {
        self.cancel.cancel();
    }

    /// Stops accepting connections, lets in-flight requests finish, waits for every worker
    /// to end its loop (each up to [`DRAIN`]; on a shared bus the consumers end when their
    /// queues are closed and drained, and are stopped after the drain period otherwise),
    /// then closes the pool.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        self.cancel.cancel();
        let served = match tokio::time::timeout(DRAIN, self.server).await {
            Ok(Ok(served)) => served,
            Ok(Err(join)) => Err(std::io::Error::other(join)),
            Err(_) => {
                tracing::warn!("requests still running after the drain period");
                Ok(())
            }
        };
        if let Ok(Ok(Err(error))) = tokio::time::timeout(DRAIN, self.internal).await {
            tracing::warn!(%error, "the internal listener failed");
        }
        if tokio::time::timeout(DRAIN, self.workers.wait())
            .await
            .is_err()
        {
            self.consumers.cancel();
            tracing::warn!(
                running = self.workers.len(),
                "workers still running after the drain period"
            );
            let _ = tokio::time::timeout(DRAIN, self.workers.wait()).await;
        }
        self.bus_stop.cancel();
        self.state.pool.close().await;
        tracing::info!("semalink-api stopped");
        Ok(served?)
    }
}
