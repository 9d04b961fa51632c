//! Short links with click tracking (seed 001 WO-E, docs/links.md): `{link:https://…}` in a
//! campaign text becomes a per-recipient short URL `{[links] domain}/{code}` (7 base62
//! characters), allocated set-based by the dispatcher in the transaction that writes the
//! messages; `GET /{code}` redirects from an in-memory cache and hands the click to a
//! bounded channel that a batch writer drains (never on the redirect's path); people are
//! told from machines (HEAD, known previewers and crawlers, clicks within a second of
//! delivery); campaigns get click counters and a click-through rate.
//!
//! * [`code`] — codes and short URLs; [`cache`] — the redirect cache; [`bots`] — user agents.
//! * [`clicks`] — the channel and the `link_click_writer` worker; [`store`] — the SQL;
//!   [`dispatch`] — a dispatcher batch's codes.
//! * [`routes`] — the redirect and a campaign's clicks; [`types`]; [`config`] — `[links]`.

pub mod bots;
pub mod cache;
pub mod clicks;
pub mod code;
pub mod config;
pub mod dispatch;
pub mod routes;
pub mod store;
pub mod types;

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use crate::worker::Worker;

/// The process's short-link state: the redirect cache and the click channel.
#[derive(Debug)]
pub struct Links {
    /// Code → long URL.
    pub cache: cache::Cache,
    /// Clicks on their way to the writer.
    pub clicks: clicks::Clicks,
}

impl Links {
    /// Empty cache and channel sized by `config`.
    pub fn new(config: &config::LinksConfig) -> Links {
        Links {
            cache: cache::Cache::new(
                config.cache_capacity,
                Duration::from_secs(config.cache_ttl_secs),
                Duration::from_secs(config.negative_ttl_secs),
            ),
            clicks: clicks::Clicks::new(config.click_queue),
        }
    }
}

/// The customer routes of the module: the redirect and a campaign's clicks.
pub use routes::router as routes;

/// The module's background worker: the click writer (one per process: it owns the
/// channel's receiving end).
pub fn workers(state: &AppState, stop: &CancellationToken) -> Vec<Worker> {
    match state.links.clicks.take_receiver() {
        Some(rx) => vec![Worker::new(
            "link_click_writer",
            clicks::writer(
                state.pool.clone(),
                rx,
                state.config.links.clone(),
                state.metrics.clone(),
                stop.clone(),
            ),
        )],
        None => Vec::new(),
    }
}
