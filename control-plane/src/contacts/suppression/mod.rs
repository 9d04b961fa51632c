//! The suppression list and opt-out, a sub-resource of contacts: `types` (requests, responses,
//! validation), `store` (SQL) and `routes`; both re-exported (`contacts::suppression::…`).

pub mod routes;
pub mod store;
pub mod types;

pub use store::*;
pub use types::*;
