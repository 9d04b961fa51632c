//! Hand-rolled encoders for the PDUs a busy connection writes most, straight into a
//! `BytesMut` without building a rusmpp `Command` first. Layouts follow SMPP 3.4 §4; the unit
//! tests check every one against rusmpp's decoder.

use bytes::{BufMut, Bytes, BytesMut};
use rusmpp::{Command, CommandId, CommandStatus, Pdu, pdus::SubmitSm};

use super::codec::HEADER_LEN;

/// Writes a 16-octet header (SMPP 3.4 §3.2).
#[inline]
pub fn put_header(dst: &mut BytesMut, length: u32, id: CommandId, status: u32, seq: u32) {
    dst.put_u32(length);
    dst.put_u32(u32::from(id));
    dst.put_u32(status);
    dst.put_u32(seq);
}

/// Writes `submit_sm_resp` (§4.4.2). The body (`message_id` C-octet string) is written only
/// for `ESME_ROK`: the spec says it is not returned with a non-zero status.
#[inline]
pub fn put_submit_sm_resp(dst: &mut BytesMut, seq: u32, status: CommandStatus, message_id: &[u8]) {
    let status = u32::from(status);
    if status == 0 {
        let len = HEADER_LEN + message_id.len() + 1;
        dst.reserve(len);
        put_header(dst, len as u32, CommandId::SubmitSmResp, 0, seq);
        dst.put_slice(message_id);
        dst.put_u8(0);
    } else {
        dst.reserve(HEADER_LEN);
        put_header(dst, HEADER_LEN as u32, CommandId::SubmitSmResp, status, seq);
    }
}

/// Writes `deliver_sm_resp` (§4.6.2) with an empty `message_id`.
#[inline]
pub fn put_deliver_sm_resp(dst: &mut BytesMut, seq: u32, status: CommandStatus) {
    dst.reserve(HEADER_LEN + 1);
    put_header(dst, 17, CommandId::DeliverSmResp, u32::from(status), seq);
    dst.put_u8(0);
}

/// Writes `generic_nack` (§4.3) echoing the offending `sequence_number`.
#[inline]
pub fn put_generic_nack(dst: &mut BytesMut, seq: u32, status: CommandStatus) {
    put_empty(dst, CommandId::GenericNack, u32::from(status), seq);
}

/// Writes `enquire_link` (§4.11.1).
#[inline]
pub fn put_enquire_link(dst: &mut BytesMut, seq: u32) {
    put_empty(dst, CommandId::EnquireLink, 0, seq);
}

/// Writes `enquire_link_resp` (§4.11.2).
#[inline]
pub fn put_enquire_link_resp(dst: &mut BytesMut, seq: u32) {
    put_empty(dst, CommandId::EnquireLinkResp, 0, seq);
}

/// Writes `unbind` (§4.2.1).
#[inline]
pub fn put_unbind(dst: &mut BytesMut, seq: u32) {
    put_empty(dst, CommandId::Unbind, 0, seq);
}

/// Writes `unbind_resp` (§4.2.2).
#[inline]
pub fn put_unbind_resp(dst: &mut BytesMut, seq: u32) {
    put_empty(dst, CommandId::UnbindResp, 0, seq);
}

fn put_empty(dst: &mut BytesMut, id: CommandId, status: u32, seq: u32) {
    dst.reserve(HEADER_LEN);
    put_header(dst, HEADER_LEN as u32, id, status, seq);
}

/// A `submit_sm` encoded once by rusmpp; each [`write`](Self::write) copies it and patches the
/// `sequence_number`, so a load generator can emit hundreds of thousands per second.
#[derive(Debug, Clone)]
pub struct SubmitSmTemplate {
    bytes: Bytes,
    /// Where the decimal counter of [`write_numbered`](Self::write_numbered) sits, and its width.
    counter: Option<(usize, usize)>,
}

impl SubmitSmTemplate {
    /// Encodes `submit_sm` once.
    pub fn new(submit_sm: SubmitSm) -> Self {
        let command = Command::new(CommandStatus::EsmeRok, 0, Pdu::SubmitSm(submit_sm));
        let mut buf = BytesMut::new();
        // Encoding into a BytesMut cannot fail.
        let _ =
            tokio_util::codec::Encoder::encode(&mut super::SmppCodec::new(), &command, &mut buf);
        Self {
            bytes: buf.freeze(),
            counter: None,
        }
    }

    /// Like [`new`](Self::new), with the last `digits` octets of `short_message` reserved for a
    /// zero-padded decimal counter, so that every message is distinct (simulators detect
    /// duplicates by content). `None` when the PDU carries TLVs (the text would not be last)
    /// or the text is shorter than `digits`.
    pub fn numbered(submit_sm: SubmitSm, digits: usize) -> Option<Self> {
        if !submit_sm.tlvs().is_empty() || submit_sm.short_message().as_ref().len() < digits {
            return None;
        }
        let mut template = Self::new(submit_sm);
        template.counter = Some((template.bytes.len() - digits, digits));
        Some(template)
    }

    /// The encoded PDU with sequence number 0.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Appends the PDU with `seq` as its `sequence_number`.
    #[inline]
    pub fn write(&self, seq: u32, dst: &mut BytesMut) {
        dst.extend_from_slice(&self.bytes[..12]);
        dst.put_u32(seq);
        dst.extend_from_slice(&self.bytes[HEADER_LEN..]);
    }

    /// Appends the PDU with `seq` and, for a [`numbered`](Self::numbered) template, `n`
    /// (modulo the counter's width) written into the text.
    #[inline]
    pub fn write_numbered(&self, seq: u32, n: u64, dst: &mut BytesMut) {
        let start = dst.len();
        self.write(seq, dst);
        if let Some((at, digits)) = self.counter {
            let mut n = n;
            for b in dst[start + at..start + at + digits].iter_mut().rev() {
                *b = b'0' + (n % 10) as u8;
                n /= 10;
            }
        }
    }
}

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;
