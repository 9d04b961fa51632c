//! SMSC simulator ([`sim`]) and load generator ([`loadgen`]).
//!
//! The binaries `smsc-sim` and `loadgen` are thin wrappers; everything is usable in-process,
//! e.g. `Simulator::start(SimConfig { smpp_addr: "127.0.0.1:0".parse()?, .. })` in a test.

mod error;
pub mod loadgen;
pub mod scenario;
pub mod sim;

pub use error::Error;
pub use sim::{SimConfig, SimHandle, Simulator};
