//! Outgoing email: requests render a template and insert it into the outbox in their own
//! transaction; the worker sends it later (SMTP when configured, otherwise the log). Nothing is
//! ever sent inline in a request.

pub mod outbox;
pub mod templates;
pub mod worker;

pub use templates::Template;

use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::state::AppState;
use crate::worker::Worker;

/// The module's background workers: the outbox sender.
pub fn workers(state: &AppState, stop: &CancellationToken) -> Result<Vec<Worker>> {
    Ok(vec![worker::worker(
        state.pool.clone(),
        &state.config.email,
        state.config.server.environment,
        stop.clone(),
    )?])
}
