//! The engine library's error type: one enum, each variant saying which subsystem failed and
//! why, so `main` can print it and exit non-zero (bad config) or log it once (runtime).

use std::path::PathBuf;

/// Everything the engine library can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The config is not valid TOML, or a value has the wrong type, or a key is unknown or
    /// missing. The message names the key (`upstreams[0].window: invalid type ...`).
    #[error("config: {0}")]
    ConfigSyntax(String),
    /// An environment override could not be applied.
    #[error("config: environment variable {var}: {message}")]
    ConfigEnv {
        /// The variable's name.
        var: String,
        /// What is wrong with it.
        message: String,
    },
    /// A config value is well-formed but not acceptable.
    #[error("config: {key}: {message}")]
    ConfigInvalid {
        /// The key, as a path (`routes[1].upstream`).
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The correlation store failed (the Redis implementation can; the in-process one not).
    #[error("correlation store: {0}")]
    Store(String),
    /// The RabbitMQ connection or a broker operation failed.
    #[error("amqp: {0}")]
    Amqp(String),
    /// The status sink is closed or failed.
    #[error("status sink: {0}")]
    Sink(String),
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A [`Error::ConfigInvalid`] for `key`.
    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Error {
        Error::ConfigInvalid {
            key: key.into(),
            message: message.into(),
        }
    }
}
