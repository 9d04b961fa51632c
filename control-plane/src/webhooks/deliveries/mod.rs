//! The delivery log of webhooks: each event to each endpoint, its attempts, and replays.
//!
//! * [`types`] — the API's shapes; [`store`] — the reads and replays; [`routes`].

pub mod routes;
pub mod store;
pub mod types;
