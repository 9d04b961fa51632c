//! `InboundMessage`: a mobile-originated message (a reply, `STOP`) received from an upstream
//! (engine → control plane over `sms.inbound`), already reassembled from its segments.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Contract, VERSION, ValidationErrors};

/// A mobile-originated message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// Contract major version ([`VERSION`]).
    pub version: u32,
    /// The engine's id for this message (consumers dedupe on it).
    pub id: Uuid,
    /// The sender's MSISDN as the upstream gave it (usually E.164 without or with `+`).
    pub from: String,
    /// The number or short code it was sent to.
    pub to: String,
    /// The decoded text.
    pub text: String,
    /// When the engine received it (the last segment, for long messages).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The upstream (SMPP connection) it came from.
    pub upstream: String,
    /// How many segments it arrived in.
    #[serde(default = "one")]
    pub segments: u16,
}

fn one() -> u16 {
    1
}

impl Contract for InboundMessage {
    const NAME: &'static str = "InboundMessage";

    fn version(&self) -> u32 {
        self.version
    }

    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.check(self.version == VERSION, "version", "unsupported version");
        e.check(!self.id.is_nil(), "id", "must not be the nil UUID");
        e.check(!self.from.trim().is_empty(), "from", "must not be empty");
        e.check(!self.to.trim().is_empty(), "to", "must not be empty");
        e.check(
            !self.upstream.trim().is_empty(),
            "upstream",
            "must not be empty",
        );
        e.check(self.segments >= 1, "segments", "must be at least 1");
        e.into_result()
    }
}
