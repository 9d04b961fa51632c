//! Sender IDs: the names or numbers an organisation's messages show as their sender.
//!
//! A customer registers one per country ([`routes`]); Sema Link staff with the `sender_ids`
//! permission approve or reject it from the queue, and may later suspend and reinstate it
//! ([`staff`], decisions in [`review`]). Every status change is kept in `sender_id_events`;
//! staff decisions are also audited and notified to the organisation. Sending code asks
//! [`approved_sender`] which sender ID it may use.

pub mod name;
pub mod review;
pub mod routes;
pub mod staff;
pub mod store;
pub mod types;

pub use store::approved_sender;

/// The customer routes of the module.
pub use routes::router as routes;

/// The staff routes of the module (`/v1/admin/sender-ids/...`).
pub use staff::router as staff_routes;
