//! Engineering (the `engineering` staff module): what operations need to see — queue depth
//! and consumers, failed messages, applied migrations, API health from the service's own
//! metrics and the last server errors (kept in memory by [`crate::metrics::Metrics`]); the
//! manual retry of failed messages ([`retry`]); the failed-SMS spike notice ([`spike`]).
//! Every route and what it audits: `docs/staff-admin.md`.

pub mod config;
pub mod engines;
pub mod retry;
pub mod spike;
pub mod staff;
pub mod store;
pub mod types;

use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use crate::worker::Worker;

/// The staff routes of the module.
pub use staff::router as staff_routes;

/// The module's background workers: the failed-SMS spike check.
pub fn workers(state: &AppState, stop: &CancellationToken) -> Vec<Worker> {
    vec![spike::worker(state, stop.clone())]
}
