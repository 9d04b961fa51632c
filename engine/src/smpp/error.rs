//! Errors of the SMPP layer. [`SubmitError`] says whether a request may have reached the SMSC,
//! which decides whether re-sending it elsewhere risks a duplicate.

use std::fmt;

/// A bad [`SessionConfig`](super::SessionConfig).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A text field is too long or contains NUL.
    #[error("{field} must be at most {max} characters without NUL")]
    Field {
        /// The field name.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
    /// Another constraint.
    #[error("{0}")]
    Invalid(&'static str),
}

/// Why a bind attempt failed. Reported in [`BindState::Failed`](super::BindState); the
/// session keeps retrying with back-off whatever the cause.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BindError {
    /// TCP connect failed.
    #[error("connect to {addr} failed: {reason}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// The I/O error.
        reason: String,
    },
    /// Connect plus bind did not complete within `bind_timeout`.
    #[error("bind timed out")]
    Timeout,
    /// The SMSC refused the bind with a non-zero `command_status`.
    #[error("bind refused: {}", describe_status(*status))]
    Refused {
        /// The `command_status` of the `bind_*_resp` (or `generic_nack`).
        status: u32,
    },
    /// The connection closed or failed during the handshake.
    #[error("connection lost during bind: {0}")]
    Io(String),
    /// The SMSC answered something other than the bind response.
    #[error("unexpected answer to bind: {0}")]
    Protocol(String),
}

impl BindError {
    /// True for refusals that mean the credentials are wrong (`ESME_RINVSYSID`,
    /// `ESME_RINVPASWD`): retrying will not help until the configuration changes.
    pub fn is_credentials(&self) -> bool {
        matches!(
            self,
            BindError::Refused {
                status: 0x0E | 0x0F
            }
        )
    }
}

/// A readable name for the `command_status` values a bind or submit commonly gets
/// (SMPP 3.4 §5.1.3).
pub fn describe_status(status: u32) -> String {
    let name = match status {
        0x00 => "ESME_ROK",
        0x04 => "ESME_RINVBNDSTS (incorrect bind status)",
        0x05 => "ESME_RALYBND (already bound)",
        0x08 => "ESME_RSYSERR (system error)",
        0x0D => "ESME_RBINDFAIL (bind failed, e.g. too many binds)",
        0x0E => "ESME_RINVPASWD (invalid password)",
        0x0F => "ESME_RINVSYSID (invalid system_id)",
        0x14 => "ESME_RMSGQFUL (message queue full)",
        0x58 => "ESME_RTHROTTLED (throttling error)",
        _ => return format!("command_status {status:#010x}"),
    };
    format!("{name} [{status:#04x}]")
}

/// Why a submit was never written to the SMSC. Safe to send again on any bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotSentReason {
    /// The bind is not up (connecting, refused, or between reconnects).
    BindDown,
    /// The session or pool is shutting down and takes no new work.
    ShuttingDown,
    /// The connection dropped before the PDU was fully written.
    ConnectionLost,
    /// The pool has no bind that may submit.
    NoBind,
}

impl fmt::Display for NotSentReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotSentReason::BindDown => "bind is down",
            NotSentReason::ShuttingDown => "shutting down",
            NotSentReason::ConnectionLost => "connection lost before the request was written",
            NotSentReason::NoBind => "no bind available",
        })
    }
}

/// Why a written submit has no answer. The SMSC may have accepted the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AmbiguousReason {
    /// No response within `response_timeout`.
    Timeout,
    /// The connection dropped after the PDU was written, before its response.
    ConnectionLost,
    /// The session task ended without answering (should not happen).
    SessionGone,
}

impl fmt::Display for AmbiguousReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AmbiguousReason::Timeout => "no response before the timeout",
            AmbiguousReason::ConnectionLost => "connection lost after the request was written",
            AmbiguousReason::SessionGone => "session ended without answering",
        })
    }
}

/// A submit that got no `submit_sm_resp`. Every variant is retryable; they differ in whether a
/// retry can duplicate the message.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubmitError {
    /// Never reached the SMSC: retry anywhere, no duplicate possible.
    #[error("not sent: {0}")]
    NotSent(NotSentReason),
    /// Written, unanswered: the SMSC may have accepted it, a retry may duplicate it.
    #[error("ambiguous: {0}")]
    Ambiguous(AmbiguousReason),
    /// The request cannot be encoded (a field is too long): retrying will not help.
    #[error("invalid request: {0}")]
    Invalid(&'static str),
}

impl SubmitError {
    /// True when the request certainly did not reach the SMSC.
    pub fn is_not_sent(&self) -> bool {
        matches!(self, SubmitError::NotSent(_))
    }

    /// True when sending again makes sense (everything except [`SubmitError::Invalid`]).
    pub fn is_retryable(&self) -> bool {
        !matches!(self, SubmitError::Invalid(_))
    }
}
