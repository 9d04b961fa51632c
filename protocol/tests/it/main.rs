//! The protocol crate's single integration-test binary (one link step); one module per area.

// The binary only exists with the `cli` feature (on by default).
#[cfg(feature = "cli")]
mod cli;
mod mno;
mod msisdn;
