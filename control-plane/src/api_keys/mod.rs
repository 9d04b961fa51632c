//! API keys for machine-to-machine access: create (secret shown once), list, revoke, scopes,
//! and the extractors that authenticate requests carrying a key.

pub mod routes;
pub mod store;
pub mod types;

/// The customer routes of the module.
pub use routes::router as routes;
