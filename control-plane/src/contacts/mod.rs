//! Contacts: an organisation's address book, its lists (with counts the database keeps),
//! search and bulk actions, the trash (purged after 90 days), opt-out and the account-level
//! suppression list that every send excludes.
//!
//! Phone numbers go through [`phone::normalise`] (the protocol crate's E.164 parser and
//! operator table, with the organisation's country as the default).

pub mod phone;
