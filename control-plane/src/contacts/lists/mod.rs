//! Contact lists, a sub-resource of contacts: `types` (requests, responses, validation),
//! `store` (SQL) and `routes`.
//! Both are re-exported so callers write `contacts::lists::get`.

pub mod routes;
pub mod store;
pub mod types;

pub use store::*;
pub use types::*;
