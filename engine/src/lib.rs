//! The SMPP gateway engine: config, routing, throttling, correlation, per-message tracking,
//! status sinks and metrics, on which the submit pipeline and the bind pool are wired.

pub mod config;
pub mod error;

pub use error::{Error, Result};
pub mod correlation;
pub mod metrics;
pub mod routing;
mod shard;
pub mod sink;
pub mod throttle;
pub mod tracker;
