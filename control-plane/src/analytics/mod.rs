//! Analytics (seed 000 Phase 3) and the dashboard (Phase 1): totals, the daily trend, per
//! campaign and per country/operator over a date range, with CSV downloads — all read from
//! the rollups the status consumer keeps ([`crate::results`]), never from `messages`.
//!
//! * [`types`] — the range and the answers; [`store`] — the reads; [`routes`] — endpoints.

pub mod routes;
pub mod store;
pub mod types;

/// The customer routes of the module.
pub use routes::router as routes;
