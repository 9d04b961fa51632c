//! The items and errors [`SmppCodec`](super::SmppCodec) yields.

use rusmpp::{Command, CommandStatus, decode::DecodeErrorKind};

/// One PDU read off the wire: either decoded, or malformed but skipped cleanly.
// `Pdu` is the common case; boxing it to shrink the rare `Malformed` would cost an
// allocation per PDU on the hot path.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Frame {
    /// A PDU that rusmpp decoded. Unknown command ids that rusmpp keeps as
    /// `Pdu::Other` are reported as [`Frame::Malformed`] instead.
    Pdu(Command),
    /// A PDU whose framing was fine but whose body (or command id) was not: answer it with
    /// `generic_nack` (unless it is itself a response) and keep reading.
    Malformed(Malformed),
}

/// A PDU that could not be decoded, with what is needed to reject it (SMPP 3.4 §4.3.1).
#[derive(Debug, Clone)]
pub struct Malformed {
    /// The `command_id` from the header, as sent.
    pub command_id: u32,
    /// The `sequence_number` from the header, to echo in the `generic_nack`.
    pub sequence_number: u32,
    /// The status to put in the `generic_nack`: `ESME_RINVCMDID` for an unknown command,
    /// `ESME_RINVCMDLEN` for a body that does not fit its fields.
    pub status: CommandStatus,
    /// Why it was rejected.
    pub reason: MalformedReason,
}

impl Malformed {
    /// Whether the peer expects an answer: responses (high bit of `command_id` set, SMPP 3.4
    /// §5.1.2.1) are never answered, not even with `generic_nack`.
    pub fn wants_nack(&self) -> bool {
        self.command_id & 0x8000_0000 == 0
    }
}

/// Why a framed PDU was rejected.
#[derive(Debug, Clone, Copy)]
pub enum MalformedReason {
    /// The command id is not one SMPP defines.
    UnknownCommand,
    /// rusmpp could not decode the body.
    Body(DecodeErrorKind),
}

/// A fatal framing error: the connection cannot continue.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// `command_length` is below the 16-octet header or above the configured maximum, so the
    /// next PDU boundary is unknown. `command_id`/`sequence_number` are what the header said,
    /// for a best-effort `generic_nack` with `ESME_RINVCMDLEN` before closing.
    #[error("command_length {length} outside 16..={max} (command_id {command_id:#010x})")]
    BadLength {
        /// The `command_length` read.
        length: u32,
        /// The configured maximum.
        max: u32,
        /// The header's `command_id`.
        command_id: u32,
        /// The header's `sequence_number`.
        sequence_number: u32,
    },
}
