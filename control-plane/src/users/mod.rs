//! Users: the profile of the signed-in user and password changes.

pub mod routes;
pub mod store;
pub mod types;
