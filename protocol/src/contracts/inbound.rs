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
    /// The type of number and numbering plan of `from` and `to` as the upstream sent them
    /// (SMPP 3.4 §5.2.5–5.2.6): tells a short code (TON 3) from an international number
    /// (TON 1) or an alphanumeric sender (TON 5). Optional, added within version 1: older
    /// writers omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numbering: Option<Numbering>,
}

/// TON / NPI of an inbound message's two addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Numbering {
    /// `source_addr_ton` of `from`.
    pub from_ton: u8,
    /// `source_addr_npi` of `from`.
    pub from_npi: u8,
    /// `dest_addr_ton` of `to`.
    pub to_ton: u8,
    /// `dest_addr_npi` of `to`.
    pub to_npi: u8,
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
