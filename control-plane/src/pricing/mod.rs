//! Pricing: rates in credits per segment per destination (country, or country + operator) on
//! several price lists — the platform default, per-account overrides, and agent retail and
//! wholesale lists — each row with an `effective_from`, so future-dated changes apply on
//! their date and history is kept (rows are never updated). Upstream costs are recorded the
//! same way for margin visibility.
//!
//! * [`quote`] — the price of a message to one number ([`quote::quote`]) or many
//!   ([`quote::quote_many`], one rate query); used by the quote endpoint and, later, campaigns.
//! * [`store`] — the SQL; [`routes`] (public + customer) and [`admin`] (staff, `pricing`
//!   permission) — the endpoints.

pub mod quote;
pub mod routes;
pub mod staff;
pub mod store;
pub mod types;

/// The customer routes of the module.
pub use routes::router as routes;

/// The staff routes of the module (`/v1/admin/...`).
pub use staff::router as staff_routes;
