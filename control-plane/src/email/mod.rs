//! Outgoing email: requests render a template and insert it into the outbox in their own
//! transaction; the worker sends it later (SMTP when configured, otherwise the log). Nothing is
//! ever sent inline in a request.

pub mod outbox;
pub mod templates;
pub mod worker;

pub use templates::Template;
