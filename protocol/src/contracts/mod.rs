//! The queue contracts: versioned JSON messages exchanged by the control plane and the engine
//! over RabbitMQ (and accepted by the engine's HTTP ingress). Documented, with examples that a
//! test parses, in `docs/contracts.md`.
//!
//! * [`SubmitRequest`] — control plane → engine (`sms.priority` / `sms.normal`).
//! * [`StatusEvent`] — engine → control plane (`sms.status`).
//! * [`InboundMessage`] — engine → control plane (`sms.inbound`).
//! * The batch envelope ([`decode_batch`], [`join_batch`]) — many of one of those in one
//!   queue message.
//!
//! Compatibility rules: every message carries `version` (the major version, [`VERSION`]).
//! Readers ignore fields they do not know, so adding an optional field is not a version change;
//! removing or retyping a field, or adding an enum value, is, and readers reject majors they do
//! not know with [`ContractError::UnsupportedVersion`]. Always read with [`decode`] (or the
//! `decode_*` helpers), which also validates.

mod batch;
mod inbound;
mod status;
mod submit;
mod validation;

#[cfg(test)]
mod docs_test;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use batch::{BATCH, BatchItem, Undecodable, decode_batch, encode_batch, join_batch};
pub use inbound::InboundMessage;
pub use status::{DeliveryState, ErrorCode, ErrorKind, SegmentRef, StatusEvent};
pub use submit::{Body, EncodingHint, MAX_SEGMENTS, Priority, RouteHints, SubmitRequest};
pub use validation::{FieldError, ValidationErrors};

/// The major contract version this build writes and reads.
pub const VERSION: u32 = 1;

/// A queue message type.
pub trait Contract: Serialize + DeserializeOwned {
    /// Its name in errors and logs (`"SubmitRequest"`, …).
    const NAME: &'static str;

    /// The major version the message says it follows.
    fn version(&self) -> u32;

    /// Checks the values serde cannot (formats, ranges, relations between fields).
    fn validate(&self) -> Result<(), ValidationErrors>;
}

/// Why a queue message could not be read (or written).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContractError {
    /// The message has no `version` field.
    #[error("{contract}: the `version` field is missing")]
    MissingVersion {
        /// The contract being read.
        contract: &'static str,
    },
    /// The message is from a major version this build does not know.
    #[error("{contract}: unsupported version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// The contract being read.
        contract: &'static str,
        /// The `version` value found, as JSON.
        found: String,
        /// The version this build reads.
        supported: u32,
    },
    /// Not JSON, or a field has the wrong type or an unknown enum value.
    #[error("{contract}: malformed JSON: {source}")]
    Malformed {
        /// The contract being read.
        contract: &'static str,
        /// serde_json's description, naming the field and position.
        #[source]
        source: serde_json::Error,
    },
    /// Well-formed, but values are invalid.
    #[error("{contract}: {errors}")]
    Invalid {
        /// The contract being read.
        contract: &'static str,
        /// Every invalid field.
        errors: ValidationErrors,
    },
    /// Serialisation failed (cannot happen for these types; kept to avoid panicking).
    #[error("{contract}: could not encode: {source}")]
    Encode {
        /// The contract being written.
        contract: &'static str,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
}

/// Reads a queue message: JSON → `T`, checking the major version and validating. The version
/// is looked at first when the full parse fails, so a message from a future major version says
/// so instead of reporting whatever field changed shape.
pub fn decode<T: Contract>(json: &[u8]) -> Result<T, ContractError> {
    let contract = T::NAME;
    let message = match serde_json::from_slice::<T>(json) {
        Ok(message) => message,
        Err(source) => {
            return Err(match probe_version(json) {
                Some(err) => err.with_contract(contract),
                None => ContractError::Malformed { contract, source },
            });
        }
    };
    if message.version() != VERSION {
        return Err(ContractError::UnsupportedVersion {
            contract,
            found: message.version().to_string(),
            supported: VERSION,
        });
    }
    message
        .validate()
        .map_err(|errors| ContractError::Invalid { contract, errors })?;
    Ok(message)
}

/// Writes a queue message as JSON.
pub fn encode<T: Contract>(message: &T) -> Result<Vec<u8>, ContractError> {
    serde_json::to_vec(message).map_err(|source| ContractError::Encode {
        contract: T::NAME,
        source,
    })
}

/// [`decode`] for a [`SubmitRequest`].
pub fn decode_submit(json: &[u8]) -> Result<SubmitRequest, ContractError> {
    decode(json)
}

/// [`decode`] for a [`StatusEvent`].
pub fn decode_status(json: &[u8]) -> Result<StatusEvent, ContractError> {
    decode(json)
}

/// [`decode`] for an [`InboundMessage`].
pub fn decode_inbound(json: &[u8]) -> Result<InboundMessage, ContractError> {
    decode(json)
}

/// After a failed parse: a version problem to report instead, if there is one.
fn probe_version(json: &[u8]) -> Option<ContractError> {
    #[derive(serde::Deserialize)]
    struct Probe {
        version: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(json).ok()?;
    match probe.version {
        None => Some(ContractError::MissingVersion { contract: "" }),
        Some(v) if v.as_u64() == Some(u64::from(VERSION)) => None,
        Some(v) => Some(ContractError::UnsupportedVersion {
            contract: "",
            found: v.to_string(),
            supported: VERSION,
        }),
    }
}

impl ContractError {
    fn with_contract(mut self, name: &'static str) -> Self {
        match &mut self {
            ContractError::MissingVersion { contract }
            | ContractError::UnsupportedVersion { contract, .. }
            | ContractError::Malformed { contract, .. }
            | ContractError::Invalid { contract, .. }
            | ContractError::Encode { contract, .. } => *contract = name,
        }
        self
    }
}
