//! SMPP 3.4 client side: persistent binds to an upstream SMSC.
//!
//! Modelled on rusmppc: each bind is one task ([`Session`]) that owns the socket, the
//! sequence numbers, the window of outstanding requests (`sequence_number → oneshot`) and the
//! `enquire_link` timer, driven through a cloneable handle over a bounded channel. Received
//! `deliver_sm` and state changes come out as [`SessionEvent`]s; a `deliver_sm` carries a
//! [`DeliverAck`] so it is acknowledged only once handled. A [`Pool`] spreads submits over
//! the binds of one upstream and fails over when a bind drops.
//!
//! Submit errors say whether the SMSC may have the message ([`SubmitError::Ambiguous`]) or
//! certainly does not ([`SubmitError::NotSent`]).

mod backoff;
mod config;
mod conn;
mod counters;
mod error;
mod event;
mod handshake;
mod inbound;
mod pdu;
mod pool;
mod session;
mod window;

pub use config::{BindType, SessionConfig};
pub use counters::{Counters, CountersSnapshot};
pub use error::{
    AmbiguousReason, BindError, ConfigError, NotSentReason, SubmitError, describe_status,
};
pub use event::{BindState, SessionEvent, SessionId};
pub(crate) use inbound::Ack;
pub use inbound::{DeliverAck, ESME_RX_T_APPN, InboundSm};
pub use pdu::{QueryRequest, SubmitRequest, Tlv};
pub use pool::{EVENT_CAPACITY, Pool};
pub use session::Session;
pub use window::{QueryAnswer, SubmitOutcome, SubmitResult};
