//! Read-only impersonation ("view as"): a CRM admin gets a short-lived token scoped to one
//! organisation that carries their staff id ([`staff`]). Every request made with it is
//! checked and audited by [`layer`] ("staff X viewed PATH as org Y"); every mutation is
//! refused with 403. Exiting revokes it at once, as does removing or deactivating the staff
//! member.

pub mod layer;
pub mod staff;
pub mod store;

/// How long an impersonation token lives.
pub const TTL_SECS: i64 = 15 * 60;
