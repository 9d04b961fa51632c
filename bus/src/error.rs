//! The bus's one error type.

use semalink_protocol::contracts::ContractError;

/// What went wrong on the bus.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An AMQP operation failed (`what` names it).
    #[error("amqp {what}: {source}")]
    Amqp {
        /// The operation.
        what: &'static str,
        /// lapin's error.
        #[source]
        source: lapin::Error,
    },
    /// A queue could not be declared (it exists with other arguments, or the broker refused).
    #[error("declaring queue {queue}: {source}")]
    Declare {
        /// The queue.
        queue: String,
        /// lapin's error.
        #[source]
        source: lapin::Error,
    },
    /// A message could not be encoded.
    #[error(transparent)]
    Encode(#[from] ContractError),
    /// The bus is stopping (or stopped): the message was not published.
    #[error("the bus is stopping: not published to {0}")]
    Stopped(String),
    /// An in-process queue is already used with another message type.
    #[error("in-process queue {0} is used with another message type")]
    WrongType(String),
}

impl Error {
    pub(crate) fn amqp(what: &'static str) -> impl FnOnce(lapin::Error) -> Error {
        move |source| Error::Amqp { what, source }
    }
}

/// The bus's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
