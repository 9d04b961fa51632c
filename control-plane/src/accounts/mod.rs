//! Organisations (accounts): memberships, the business profile, team members and invitations.

pub mod routes;
pub mod store;
pub mod team;
pub mod types;
