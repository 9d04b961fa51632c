//! The protocol crate's single integration-test binary (one link step); one module per area.

mod cli;
mod mno;
mod msisdn;
