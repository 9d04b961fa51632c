//! The suppression list and opt-out, a sub-resource of contacts: `store` (rules and SQL) and
//! `routes`. The store's items are re-exported so callers write `contacts::suppression::…`.

pub mod routes;
pub mod store;

pub use store::*;
