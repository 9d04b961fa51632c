//! [`SmppCodec`]: frame by `command_length`, then decode the framed slice with rusmpp.

use bytes::{Buf, BufMut, BytesMut};
use rusmpp::{
    Command, CommandId, CommandStatus,
    decode::{DecodeErrorKind, DecodeWithLength},
    encode::{Length, owned::Encode},
};
use tokio_util::codec::{Decoder, Encoder};

use super::frame::{Frame, FrameError, Malformed, MalformedReason};

/// SMPP 3.4 §3.2: `command_length`, `command_id`, `command_status`, `sequence_number`.
pub const HEADER_LEN: usize = 16;

/// Default upper bound on `command_length`. The largest legitimate 3.4 PDU (a `submit_multi`
/// with 254 destinations and a 64 KiB `message_payload`) is just above 64 KiB; anything
/// larger is a broken or hostile peer.
pub const DEFAULT_MAX_COMMAND_LENGTH: u32 = 70 * 1024;

/// Resync-safe SMPP codec. See the [module docs](super) for why it exists.
///
/// Decoding yields [`Frame`] items; only a bad `command_length` or an I/O failure is an
/// error, after which a `Framed` stream ends (and a caller using the codec directly must stop
/// too, since the next PDU boundary is unknown).
#[derive(Debug, Clone)]
pub struct SmppCodec {
    max_length: u32,
}

impl Default for SmppCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl SmppCodec {
    /// A codec with [`DEFAULT_MAX_COMMAND_LENGTH`].
    pub const fn new() -> Self {
        Self {
            max_length: DEFAULT_MAX_COMMAND_LENGTH,
        }
    }

    /// A codec that rejects `command_length` above `max` (at least [`HEADER_LEN`]).
    pub const fn with_max_length(max: u32) -> Self {
        let max = if max < HEADER_LEN as u32 {
            HEADER_LEN as u32
        } else {
            max
        };
        Self { max_length: max }
    }

    /// The configured maximum `command_length`.
    pub const fn max_length(&self) -> u32 {
        self.max_length
    }
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Decodes one complete PDU (`frame` holds exactly `command_length` octets).
fn decode_frame(mut frame: BytesMut) -> Frame {
    let command_id = be_u32(&frame, 4);
    let sequence_number = be_u32(&frame, 12);
    let malformed = |status, reason| {
        Frame::Malformed(Malformed {
            command_id,
            sequence_number,
            status,
            reason,
        })
    };
    let body_len = frame.len() - 4;
    frame.advance(4);
    match Command::decode(&mut frame, body_len) {
        Ok((command, _)) => match command.id() {
            CommandId::Other(_) => malformed(
                CommandStatus::EsmeRinvcmdid,
                MalformedReason::UnknownCommand,
            ),
            // A request must carry its body; responses may omit it when command_status is
            // non-zero (e.g. SMPP 3.4 §4.4.2 for submit_sm_resp).
            _ if command.pdu().is_none() && command_id & 0x8000_0000 == 0 => malformed(
                CommandStatus::EsmeRinvcmdlen,
                MalformedReason::Body(DecodeErrorKind::UnexpectedEof),
            ),
            _ => Frame::Pdu(command),
        },
        Err(err) => malformed(
            CommandStatus::EsmeRinvcmdlen,
            MalformedReason::Body(err.kind()),
        ),
    }
}

impl Decoder for SmppCodec {
    type Item = Frame;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let length = be_u32(src, 0);
        if length < HEADER_LEN as u32 || length > self.max_length {
            // Fail as soon as the length is known: waiting for a full header could wait forever
            // on a peer that sent a short PDU and now waits for an answer.
            let (command_id, sequence_number) = if src.len() >= HEADER_LEN {
                (be_u32(src, 4), be_u32(src, 12))
            } else {
                (0, 0)
            };
            return Err(FrameError::BadLength {
                length,
                max: self.max_length,
                command_id,
                sequence_number,
            });
        }
        let length = length as usize;
        if src.len() < length {
            src.reserve(length - src.len());
            return Ok(None);
        }
        Ok(Some(decode_frame(src.split_to(length))))
    }
}

impl Encoder<&Command> for SmppCodec {
    type Error = FrameError;

    fn encode(&mut self, command: &Command, dst: &mut BytesMut) -> Result<(), FrameError> {
        let length = 4 + command.length();
        dst.reserve(length);
        dst.put_u32(length as u32);
        command.encode(dst);
        Ok(())
    }
}

impl Encoder<Command> for SmppCodec {
    type Error = FrameError;

    fn encode(&mut self, command: Command, dst: &mut BytesMut) -> Result<(), FrameError> {
        self.encode(&command, dst)
    }
}

#[cfg(test)]
#[path = "codec_tests.rs"]
pub(crate) mod tests;
