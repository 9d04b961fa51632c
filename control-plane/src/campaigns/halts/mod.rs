//! The kill switch: staff stop all sending for one organisation or the whole platform
//! ([`staff`]); while a halt is in force the campaign dispatcher dispatches nothing and the
//! outbox publisher publishes nothing for the accounts it covers (both check [`store::HALTED`]
//! on every pass, so it takes effect within a pass — well under a second). Lifting it lets
//! both carry on where they stopped.

pub mod staff;
pub mod store;
pub mod types;
