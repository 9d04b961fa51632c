//! The crate's error type.

use std::net::SocketAddr;

/// Errors from starting or configuring the simulator and the load generator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is invalid or the file cannot be read.
    #[error("config: {0}")]
    Config(String),
    /// A listener could not bind.
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, #[source] std::io::Error),
    /// A socket failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The peer broke the protocol.
    #[error("protocol: {0}")]
    Protocol(String),
    /// A scenario could not set up or drive its processes.
    #[error("scenario: {0}")]
    Scenario(String),
}
