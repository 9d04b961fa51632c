//! Background workers: a feature that needs a loop besides its routes (the email outbox, the
//! trash purge, rate-limiter pruning, and next the campaign dispatcher, publisher, status
//! consumer and webhook sender) exposes `workers()` returning [`Worker`]s. The service
//! ([`crate::service::ControlPlane::start`]) runs the ones `[workers]` switches on from one
//! `TaskTracker` and waits for all of them on shutdown.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// A named background loop that returns once its stop token is cancelled.
pub struct Worker {
    /// The name, as in `[workers]` and in log lines.
    pub name: &'static str,
    /// The loop.
    pub run: Pin<Box<dyn Future<Output = ()> + Send + 'static>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("name", &self.name).finish()
    }
}

impl Worker {
    /// A worker running `run`.
    pub fn new(name: &'static str, run: impl Future<Output = ()> + Send + 'static) -> Worker {
        Worker {
            name,
            run: Box::pin(run),
        }
    }
}

/// Sleeps `period`; false when `stop` was cancelled first (the loop should end).
pub async fn pause(period: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(period) => !stop.is_cancelled(),
        _ = stop.cancelled() => false,
    }
}
