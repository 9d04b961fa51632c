//! Sessions (refresh-token families), a sub-resource of auth: `store` (SQL, rotation, reuse
//! detection) and `routes` (list and revoke my sessions). The store's items are re-exported
//! so callers write `auth::sessions::…`.

pub mod routes;
pub mod store;

pub use store::*;
