//! Organisations (accounts): memberships, the business profile, team members and invitations.

pub mod invitations;
pub mod members;
pub mod routes;
pub mod store;
pub mod team_store;
pub mod types;
