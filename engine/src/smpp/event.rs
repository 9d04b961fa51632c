//! What sessions report: their [`BindState`] and [`SessionEvent`]s (received messages and
//! state changes), tagged with the [`SessionId`] they came from.

use std::{fmt, sync::Arc};

use super::{
    error::BindError,
    inbound::{DeliverAck, InboundSm},
};

/// Names one session: upstream name and index within its pool.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId {
    /// The upstream (pool) name.
    pub upstream: Arc<str>,
    /// Index within the pool.
    pub index: usize,
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.upstream, self.index)
    }
}

/// Where a session is in its life cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BindState {
    /// Connecting and binding.
    Connecting,
    /// Bound: submits are accepted.
    Bound,
    /// The last attempt failed; the next one starts after the back-off.
    Failed(BindError),
    /// The bound connection dropped (or the SMSC unbound); reconnecting after the back-off.
    Disconnected(String),
    /// Shutting down: draining the window, then unbinding.
    Draining,
    /// Stopped for good.
    Stopped,
}

impl BindState {
    /// True when submits may be sent.
    pub fn is_bound(&self) -> bool {
        matches!(self, BindState::Bound)
    }
}

/// An unsolicited report from a session.
///
/// Consume events promptly and never await a submit of the same pool inside the event loop:
/// a session waits for room in the event channel before it reads further, which is how a slow
/// consumer slows the SMSC down, but it also stops that session's responses meanwhile.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A `deliver_sm` arrived. Answer it through `ack` once handled.
    Deliver {
        /// The session it arrived on.
        session: SessionId,
        /// The message.
        sm: InboundSm,
        /// The `deliver_sm_resp` to send.
        ack: DeliverAck,
    },
    /// The session's state changed.
    State {
        /// The session.
        session: SessionId,
        /// Its new state.
        state: BindState,
    },
}
