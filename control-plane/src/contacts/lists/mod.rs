//! Contact lists, a sub-resource of contacts: `store` (types, validation, SQL) and `routes`.
//! The store's items are re-exported so callers write `contacts::lists::get`.

pub mod routes;
pub mod store;

pub use store::*;
