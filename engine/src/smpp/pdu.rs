//! Outgoing PDUs the session builds itself: [`SubmitRequest`] → `submit_sm` and the bind
//! requests, encoded straight into bytes (SMPP 3.4 §4.1.1, §4.4.1) with sequence number 0 so
//! the caller's task does the encoding and the session only patches the sequence number.

use bytes::{BufMut, Bytes, BytesMut};
use semalink_protocol::segment::Sar;

use super::{config::SessionConfig, error::SubmitError};

const HEADER_LEN: usize = 16;
const SUBMIT_SM: u32 = 0x0000_0004;
const QUERY_SM: u32 = 0x0000_0003;

/// A `query_sm` (SMPP 3.4 §4.8.1): the SMSC's id of a message and the source address it was
/// submitted with (which the SMSC checks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryRequest {
    /// The `message_id` of the `submit_sm_resp`, as the SMSC gave it.
    pub message_id: String,
    /// `source_addr_ton` of the submit.
    pub source_ton: u8,
    /// `source_addr_npi` of the submit.
    pub source_npi: u8,
    /// `source_addr` of the submit.
    pub source_addr: String,
}

impl QueryRequest {
    /// Encodes `query_sm` with sequence number 0.
    pub fn encode(&self) -> Result<BytesMut, SubmitError> {
        let mut dst = BytesMut::with_capacity(HEADER_LEN + 32 + self.message_id.len());
        dst.put_u32(0);
        dst.put_u32(QUERY_SM);
        dst.put_u32(0);
        dst.put_u32(0);
        put_cstr(&mut dst, &self.message_id, 64, "message_id longer than 64")
            .map_err(SubmitError::Invalid)?;
        dst.put_u8(self.source_ton);
        dst.put_u8(self.source_npi);
        put_cstr(
            &mut dst,
            &self.source_addr,
            20,
            "source_addr longer than 20",
        )
        .map_err(SubmitError::Invalid)?;
        Ok(finish(dst))
    }
}

/// One optional parameter (SMPP 3.4 §3.2.4 / §5.3): tag, then the raw value octets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    /// Parameter tag.
    pub tag: u16,
    /// Value octets (the length is implied).
    pub value: Bytes,
}

impl Tlv {
    /// `sar_msg_ref_num` (§5.3.2.22).
    pub fn sar_msg_ref_num(reference: u16) -> Tlv {
        Tlv::new(0x020C, reference.to_be_bytes().to_vec())
    }

    /// `sar_total_segments` (§5.3.2.23).
    pub fn sar_total_segments(total: u8) -> Tlv {
        Tlv::new(0x020E, vec![total])
    }

    /// `sar_segment_seqnum` (§5.3.2.24), 1-based.
    pub fn sar_segment_seqnum(seq: u8) -> Tlv {
        Tlv::new(0x020F, vec![seq])
    }

    /// The three `sar_*` TLVs of one part from the segmenter.
    pub fn sar(sar: &Sar) -> [Tlv; 3] {
        [
            Tlv::sar_msg_ref_num(sar.msg_ref_num),
            Tlv::sar_total_segments(sar.total_segments),
            Tlv::sar_segment_seqnum(sar.segment_seqnum),
        ]
    }

    /// `user_message_reference` (§5.3.2.17).
    pub fn user_message_reference(reference: u16) -> Tlv {
        Tlv::new(0x0204, reference.to_be_bytes().to_vec())
    }

    /// Any parameter.
    pub fn new(tag: u16, value: impl Into<Bytes>) -> Tlv {
        Tlv {
            tag,
            value: value.into(),
        }
    }
}

/// What to submit: the `submit_sm` fields a gateway sets (SMPP 3.4 §4.4.1). Unset fields
/// default to 0 / empty, which asks the SMSC for its defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmitRequest {
    /// `service_type` (at most 5 characters).
    pub service_type: String,
    /// `source_addr_ton`.
    pub source_ton: u8,
    /// `source_addr_npi`.
    pub source_npi: u8,
    /// `source_addr` (at most 20 characters).
    pub source_addr: String,
    /// `dest_addr_ton`.
    pub dest_ton: u8,
    /// `dest_addr_npi`.
    pub dest_npi: u8,
    /// `destination_addr` (at most 20 characters).
    pub destination_addr: String,
    /// `esm_class` (0x40 = UDHI when `short_message` starts with a UDH).
    pub esm_class: u8,
    /// `protocol_id`.
    pub protocol_id: u8,
    /// `priority_flag`.
    pub priority: u8,
    /// `validity_period`: empty, or 16 characters (§7.1.1).
    pub validity_period: String,
    /// `registered_delivery` (1 = final receipt, §5.2.17).
    pub registered_delivery: u8,
    /// `data_coding` (§5.2.19).
    pub data_coding: u8,
    /// `short_message`, at most 254 octets (§4.4.1); longer texts go segmented.
    pub short_message: Bytes,
    /// Optional parameters, e.g. the `sar_*` set.
    pub tlvs: Vec<Tlv>,
}

fn put_cstr(
    dst: &mut BytesMut,
    value: &str,
    max: usize,
    what: &'static str,
) -> Result<(), &'static str> {
    if value.len() > max || value.as_bytes().contains(&0) {
        return Err(what);
    }
    dst.put_slice(value.as_bytes());
    dst.put_u8(0);
    Ok(())
}

fn finish(mut dst: BytesMut) -> BytesMut {
    let len = dst.len() as u32;
    dst[0..4].copy_from_slice(&len.to_be_bytes());
    dst
}

impl SubmitRequest {
    /// Encodes `submit_sm` with sequence number 0.
    pub fn encode(&self) -> Result<BytesMut, SubmitError> {
        self.encode_inner().map_err(SubmitError::Invalid)
    }

    fn encode_inner(&self) -> Result<BytesMut, &'static str> {
        let tlv_len: usize = self.tlvs.iter().map(|t| 4 + t.value.len()).sum();
        let mut dst = BytesMut::with_capacity(HEADER_LEN + 64 + self.short_message.len() + tlv_len);
        dst.put_u32(0);
        dst.put_u32(SUBMIT_SM);
        dst.put_u32(0);
        dst.put_u32(0);
        put_cstr(
            &mut dst,
            &self.service_type,
            5,
            "service_type longer than 5",
        )?;
        dst.put_u8(self.source_ton);
        dst.put_u8(self.source_npi);
        put_cstr(
            &mut dst,
            &self.source_addr,
            20,
            "source_addr longer than 20",
        )?;
        dst.put_u8(self.dest_ton);
        dst.put_u8(self.dest_npi);
        if self.destination_addr.is_empty() {
            return Err("destination_addr is empty");
        }
        put_cstr(
            &mut dst,
            &self.destination_addr,
            20,
            "destination_addr longer than 20",
        )?;
        dst.put_u8(self.esm_class);
        dst.put_u8(self.protocol_id);
        dst.put_u8(self.priority);
        dst.put_u8(0); // schedule_delivery_time: immediate
        if !matches!(self.validity_period.len(), 0 | 16) {
            return Err("validity_period must be empty or 16 characters");
        }
        put_cstr(&mut dst, &self.validity_period, 16, "validity_period")?;
        dst.put_u8(self.registered_delivery);
        dst.put_u8(0); // replace_if_present_flag
        dst.put_u8(self.data_coding);
        dst.put_u8(0); // sm_default_msg_id
        if self.short_message.len() > 254 {
            return Err("short_message longer than 254 octets");
        }
        dst.put_u8(self.short_message.len() as u8);
        dst.put_slice(&self.short_message);
        for tlv in &self.tlvs {
            let len = u16::try_from(tlv.value.len()).map_err(|_| "TLV value too long")?;
            dst.put_u16(tlv.tag);
            dst.put_u16(len);
            dst.put_slice(&tlv.value);
        }
        Ok(finish(dst))
    }
}

/// Encodes the bind request for `config` with sequence number `seq` (§4.1.1; interface
/// version 0x34).
pub(crate) fn encode_bind(config: &SessionConfig, seq: u32) -> BytesMut {
    let mut dst = BytesMut::with_capacity(HEADER_LEN + 48);
    dst.put_u32(0);
    dst.put_u32(config.bind_type.command_id());
    dst.put_u32(0);
    dst.put_u32(seq);
    // Lengths were checked by SessionConfig::validate.
    for (value, max) in [
        (&config.system_id, 15),
        (&config.password, 8),
        (&config.system_type, 12),
    ] {
        let _ = put_cstr(&mut dst, value, max, "");
    }
    dst.put_u8(0x34);
    dst.put_u8(config.addr_ton);
    dst.put_u8(config.addr_npi);
    let _ = put_cstr(&mut dst, &config.address_range, 40, "");
    finish(dst)
}

/// Writes the sequence number into an encoded PDU.
pub(crate) fn set_sequence(pdu: &mut [u8], seq: u32) {
    pdu[12..16].copy_from_slice(&seq.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use rusmpp::{Pdu, tlvs::TlvTag};
    use semalink_protocol::smpp::{Frame, SmppCodec};
    use tokio_util::codec::Decoder;

    use super::*;
    use crate::smpp::config::BindType;

    fn decode(mut bytes: BytesMut) -> rusmpp::Command {
        match SmppCodec::new().decode(&mut bytes).unwrap().unwrap() {
            Frame::Pdu(command) => command,
            Frame::Malformed(m) => panic!("malformed: {m:?}"),
        }
    }

    #[test]
    fn submit_sm_decodes_with_rusmpp() {
        let request = SubmitRequest {
            source_ton: 5,
            source_addr: "SEMALINK".into(),
            dest_ton: 1,
            dest_npi: 1,
            destination_addr: "254712345678".into(),
            esm_class: 0x40,
            registered_delivery: 1,
            data_coding: 8,
            short_message: Bytes::from_static(b"\x00\x41\x00\x42"),
            tlvs: Tlv::sar(&Sar {
                msg_ref_num: 0x1234,
                total_segments: 3,
                segment_seqnum: 2,
            })
            .to_vec(),
            ..SubmitRequest::default()
        };
        let mut bytes = request.encode().unwrap();
        set_sequence(&mut bytes, 77);
        let command = decode(bytes);
        assert_eq!(command.sequence_number(), 77);
        let Some(Pdu::SubmitSm(sm)) = command.pdu() else {
            panic!("{command:?}")
        };
        assert_eq!(sm.source_addr.as_str(), "SEMALINK");
        assert_eq!(sm.destination_addr.as_str(), "254712345678");
        assert_eq!(u8::from(sm.esm_class), 0x40);
        assert_eq!(u8::from(sm.registered_delivery), 1);
        assert_eq!(sm.short_message().as_ref(), b"\x00\x41\x00\x42");
        let tags: Vec<TlvTag> = sm.tlvs().iter().map(|t| t.tag()).collect();
        assert_eq!(
            tags,
            [
                TlvTag::SarMsgRefNum,
                TlvTag::SarTotalSegments,
                TlvTag::SarSegmentSeqnum
            ]
        );
    }

    #[test]
    fn query_sm_decodes_with_rusmpp() {
        let query = QueryRequest {
            message_id: "0A1B2C".into(),
            source_ton: 5,
            source_npi: 0,
            source_addr: "SEMALINK".into(),
        };
        let mut bytes = query.encode().unwrap();
        set_sequence(&mut bytes, 9);
        let command = decode(bytes);
        let Some(Pdu::QuerySm(q)) = command.pdu() else {
            panic!("{command:?}")
        };
        assert_eq!(q.message_id.as_str(), "0A1B2C");
        assert_eq!(q.source_addr.as_str(), "SEMALINK");
        assert_eq!(u8::from(q.source_addr_ton), 5);
    }

    #[test]
    fn invalid_fields_are_rejected_before_sending() {
        let long = SubmitRequest {
            destination_addr: "1".repeat(21),
            ..SubmitRequest::default()
        };
        assert!(matches!(long.encode(), Err(SubmitError::Invalid(_))));
        let text = SubmitRequest {
            destination_addr: "254700000000".into(),
            short_message: Bytes::from(vec![b'a'; 255]),
            ..SubmitRequest::default()
        };
        assert!(text.encode().is_err());
    }

    #[test]
    fn bind_requests_decode_with_rusmpp() {
        for (kind, id) in [
            (BindType::Transceiver, rusmpp::CommandId::BindTransceiver),
            (BindType::Transmitter, rusmpp::CommandId::BindTransmitter),
            (BindType::Receiver, rusmpp::CommandId::BindReceiver),
        ] {
            let config = SessionConfig {
                system_id: "semalink".into(),
                password: "secret".into(),
                bind_type: kind,
                ..SessionConfig::default()
            };
            let command = decode(encode_bind(&config, 5));
            assert_eq!(command.id(), id);
            assert_eq!(command.sequence_number(), 5);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_valid_request_round_trips_through_rusmpp(
            source in "[A-Za-z0-9]{1,11}",
            dest in "[0-9]{1,20}",
            esm_class in proptest::prelude::any::<u8>(),
            data_coding in proptest::prelude::any::<u8>(),
            text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..=254),
            reference in proptest::prelude::any::<u16>(),
            seq in 1u32..0x7FFF_FFFF,
        ) {
            let request = SubmitRequest {
                source_addr: source.clone(),
                destination_addr: dest.clone(),
                esm_class,
                data_coding,
                short_message: Bytes::from(text.clone()),
                tlvs: vec![Tlv::user_message_reference(reference)],
                ..SubmitRequest::default()
            };
            let mut bytes = request.encode().unwrap();
            set_sequence(&mut bytes, seq);
            let command = decode(bytes);
            proptest::prop_assert_eq!(command.sequence_number(), seq);
            let Some(Pdu::SubmitSm(sm)) = command.pdu() else {
                return Err(proptest::test_runner::TestCaseError::fail("not a submit_sm"));
            };
            proptest::prop_assert_eq!(sm.source_addr.as_str(), source.as_str());
            proptest::prop_assert_eq!(sm.destination_addr.as_str(), dest.as_str());
            proptest::prop_assert_eq!(u8::from(sm.esm_class), esm_class);
            proptest::prop_assert_eq!(u8::from(sm.data_coding), data_coding);
            proptest::prop_assert_eq!(sm.short_message().as_ref(), &text[..]);
            proptest::prop_assert_eq!(sm.tlvs().len(), 1);
        }
    }
}
