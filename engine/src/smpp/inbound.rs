//! A received `deliver_sm` (receipt or mobile-originated message) and the [`DeliverAck`] that
//! answers it. The answer is deferred on purpose: the engine acknowledges only once the
//! receipt's status event is safely handed on, so a crash before that makes the SMSC
//! redeliver instead of losing the receipt.

use bytes::Bytes;
use rusmpp::{encode::Encode, encode::Length, pdus::DeliverSm};
use semalink_protocol::dlr::DeliverSmParts;
use tokio::sync::mpsc;

use super::pdu::Tlv;

/// `ESME_RX_T_APPN` (SMPP 3.4 §5.1.3): "temporary application error, retry later". Sent for a
/// `deliver_sm` whose [`DeliverAck`] was dropped unanswered.
pub const ESME_RX_T_APPN: u32 = 0x0000_0064;

/// The fields of a `deliver_sm` (SMPP 3.4 §4.6.1), owned and library-neutral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSm {
    /// `source_addr_ton`.
    pub source_ton: u8,
    /// `source_addr_npi`.
    pub source_npi: u8,
    /// `source_addr` (the handset for MO and receipts).
    pub source_addr: String,
    /// `dest_addr_ton`.
    pub dest_ton: u8,
    /// `dest_addr_npi`.
    pub dest_npi: u8,
    /// `destination_addr` (our sender id / short code).
    pub destination_addr: String,
    /// `esm_class`; see [`is_receipt`](Self::is_receipt).
    pub esm_class: u8,
    /// `protocol_id`.
    pub protocol_id: u8,
    /// `data_coding`.
    pub data_coding: u8,
    /// `short_message` octets.
    pub short_message: Bytes,
    /// Optional parameters, values as raw octets.
    pub tlvs: Vec<Tlv>,
}

impl InboundSm {
    /// Converts rusmpp's decoded PDU.
    pub fn from_pdu(sm: &DeliverSm) -> InboundSm {
        let tlvs = sm
            .tlvs()
            .iter()
            .map(|tlv| {
                let value = tlv.value().map(|v| {
                    let mut buf = vec![0; v.length()];
                    let n = v.encode(&mut buf);
                    buf.truncate(n);
                    buf
                });
                Tlv::new(u16::from(tlv.tag()), value.unwrap_or_default())
            })
            .collect();
        InboundSm {
            source_ton: u8::from(sm.source_addr_ton),
            source_npi: u8::from(sm.source_addr_npi),
            source_addr: sm.source_addr.as_str().to_owned(),
            dest_ton: u8::from(sm.dest_addr_ton),
            dest_npi: u8::from(sm.dest_addr_npi),
            destination_addr: sm.destination_addr.as_str().to_owned(),
            esm_class: u8::from(sm.esm_class),
            protocol_id: sm.protocol_id,
            data_coding: u8::from(sm.data_coding),
            short_message: Bytes::copy_from_slice(sm.short_message().as_ref()),
            tlvs,
        }
    }

    /// True for an SMSC delivery receipt: `esm_class` message type bits 2–5 = 0b0001
    /// (SMPP 3.4 §5.2.12).
    pub fn is_receipt(&self) -> bool {
        self.esm_class & 0x3C == 0x04
    }

    /// The value of the first TLV with `tag`.
    pub fn tlv(&self, tag: u16) -> Option<&[u8]> {
        self.tlvs
            .iter()
            .find(|t| t.tag == tag)
            .map(|t| &t.value[..])
    }

    /// The parts [`semalink_protocol::dlr::from_deliver_sm`] parses a receipt from.
    pub fn receipt_parts(&self) -> DeliverSmParts<'_> {
        // message_payload (0x0424) replaces short_message when present (§5.3.2.32).
        let short_message = self
            .tlv(0x0424)
            .or((!self.short_message.is_empty()).then_some(&self.short_message[..]));
        DeliverSmParts {
            short_message,
            receipted_message_id: self.tlv(0x001E),
            message_state: self.tlv(0x0427).and_then(|v| v.first().copied()),
            network_error_code: self.tlv(0x0423),
        }
    }
}

/// An answer for the session to write: `deliver_sm_resp` for `seq` on connection
/// `generation` (a later connection has other sequence numbers, so stale answers are dropped).
#[derive(Debug)]
pub(crate) struct Ack {
    pub(crate) generation: u64,
    pub(crate) seq: u32,
    pub(crate) status: u32,
}

/// Answers one `deliver_sm`. Call [`ack`](Self::ack) once the message is safely handled,
/// or [`reject`](Self::reject); dropping it unanswered sends `ESME_RX_T_APPN` so the SMSC
/// delivers it again later instead of waiting forever.
#[derive(Debug)]
pub struct DeliverAck {
    tx: Option<mpsc::UnboundedSender<Ack>>,
    generation: u64,
    seq: u32,
}

impl DeliverAck {
    pub(crate) fn new(tx: mpsc::UnboundedSender<Ack>, generation: u64, seq: u32) -> DeliverAck {
        DeliverAck {
            tx: Some(tx),
            generation,
            seq,
        }
    }

    /// Answers `ESME_ROK`: the SMSC forgets the message.
    pub fn ack(mut self) {
        self.send(0);
    }

    /// Answers with `status` (e.g. [`ESME_RX_T_APPN`] to have it redelivered later).
    pub fn reject(mut self, status: u32) {
        self.send(status);
    }

    fn send(&mut self, status: u32) {
        if let Some(tx) = self.tx.take() {
            // The session may have gone: then the SMSC redelivers on the next bind anyway.
            let _ = tx.send(Ack {
                generation: self.generation,
                seq: self.seq,
                status,
            });
        }
    }
}

impl Drop for DeliverAck {
    fn drop(&mut self) {
        self.send(ESME_RX_T_APPN);
    }
}

#[cfg(test)]
mod tests {
    use rusmpp::{
        tlvs::MessageDeliveryRequestTlvValue,
        types::{COctetString, OctetString},
        values::{EsmClass, MessageState},
    };
    use semalink_protocol::dlr;

    use super::*;

    #[test]
    fn receipt_tlvs_become_raw_parts_the_dlr_parser_reads() {
        let mut sm = DeliverSm::builder()
            .source_addr(COctetString::from_str_checked("254712345678"))
            .destination_addr(COctetString::from_str_checked("SEMALINK"))
            .esm_class(EsmClass::from(0x04))
            .short_message(OctetString::from_vec(b"id:X stat:UNDELIV".to_vec()).unwrap())
            .build();
        sm.push_tlv(MessageDeliveryRequestTlvValue::ReceiptedMessageId(
            COctetString::from_str_checked("0A1B"),
        ));
        sm.push_tlv(MessageDeliveryRequestTlvValue::MessageState(
            MessageState::Delivered,
        ));
        let inbound = InboundSm::from_pdu(&sm);
        assert!(inbound.is_receipt());
        assert_eq!(inbound.source_addr, "254712345678");
        assert_eq!(inbound.tlv(0x001E), Some(&b"0A1B\0"[..]));
        let receipt = dlr::from_deliver_sm(&inbound.receipt_parts()).unwrap();
        assert_eq!(receipt.id, "0A1B", "the TLV wins over the text");
        assert_eq!(receipt.stat, dlr::Stat::Delivered);
    }

    trait Checked {
        fn from_str_checked(s: &str) -> Self;
    }

    impl<const MIN: usize, const MAX: usize> Checked for COctetString<MIN, MAX> {
        fn from_str_checked(s: &str) -> Self {
            let mut v = s.as_bytes().to_vec();
            v.push(0);
            COctetString::from_vec(v).unwrap()
        }
    }

    #[test]
    fn a_dropped_ack_answers_retry_later_and_an_explicit_one_its_status() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        drop(DeliverAck::new(tx.clone(), 3, 7));
        DeliverAck::new(tx.clone(), 3, 8).ack();
        DeliverAck::new(tx, 3, 9).reject(0x08);
        let got: Vec<(u32, u32)> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|a| (a.seq, a.status))
            .collect();
        assert_eq!(got, [(7, ESME_RX_T_APPN), (8, 0), (9, 0x08)]);
    }
}
