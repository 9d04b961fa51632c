//! Contacts: an organisation's address book, its lists (with counts the database keeps),
//! search and bulk actions, the trash (purged after 90 days), opt-out and the account-level
//! suppression list that every send excludes.
//!
//! Phone numbers go through [`phone::normalise`] (the protocol crate's E.164 parser and
//! operator table, with the organisation's country as the default).

pub mod bulk;
pub mod filter;
pub mod lists;
pub mod phone;
pub mod purge;
pub mod routes;
pub mod store;
pub mod suppression;
pub mod types;

use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;
use crate::worker::Worker;

/// The module's background workers: the periodic trash purge.
pub fn workers(state: &AppState, stop: &CancellationToken) -> Vec<Worker> {
    vec![purge::worker(state.pool.clone(), stop.clone())]
}

/// Every route of the module: contacts, lists, suppressions.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(routes::router())
        .merge(lists::routes::router())
        .merge(suppression::routes::router())
}
