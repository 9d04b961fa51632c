//! The team of an organisation, a sub-resource of accounts: members (`routes`), invitations
//! (`invitations`) and their SQL (`store`).

pub mod invitations;
pub mod routes;
pub mod store;
