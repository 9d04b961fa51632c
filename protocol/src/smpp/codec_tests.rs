//! Unit and property tests of the framing codec.

use std::str::FromStr;

use bytes::{BufMut, BytesMut};
use proptest::prelude::*;
use rusmpp::{
    Command, CommandId, CommandStatus, Pdu,
    pdus::{DeliverSm, SubmitSm},
    types::{COctetString, OctetString},
    values::{EsmClass, RegisteredDelivery},
};
use tokio_util::codec::{Decoder, Encoder};

use super::*;
use crate::smpp::{MalformedReason, put_header, put_submit_sm_resp};

pub(crate) fn submit(seq: u32, text: &str) -> Command {
    let sm = SubmitSm::builder()
        .source_addr(COctetString::from_str("SEMALINK").unwrap())
        .destination_addr(COctetString::from_str("254712345678").unwrap())
        .registered_delivery(RegisteredDelivery::request_all())
        .short_message(OctetString::from_str(text).unwrap())
        .build();
    Command::new(CommandStatus::EsmeRok, seq, Pdu::SubmitSm(sm))
}

fn deliver(seq: u32) -> Command {
    let sm = DeliverSm::builder()
        .source_addr(COctetString::from_str("254712345678").unwrap())
        .destination_addr(COctetString::from_str("SEMALINK").unwrap())
        .esm_class(EsmClass::from(0x04))
        .short_message(OctetString::from_str("id:1 sub:001 dlvrd:001 stat:DELIVRD").unwrap())
        .build();
    Command::new(CommandStatus::EsmeRok, seq, Pdu::DeliverSm(sm))
}

fn encode(cmds: &[Command]) -> BytesMut {
    let mut buf = BytesMut::new();
    for c in cmds {
        SmppCodec::new().encode(c, &mut buf).unwrap();
    }
    buf
}

/// Drains every frame the codec can produce from `buf`.
fn drain(codec: &mut SmppCodec, buf: &mut BytesMut) -> Vec<Frame> {
    let mut out = Vec::new();
    while let Some(f) = codec.decode(buf).unwrap() {
        out.push(f);
    }
    out
}

fn pdu(f: &Frame) -> &Command {
    match f {
        Frame::Pdu(c) => c,
        Frame::Malformed(m) => panic!("unexpected malformed {m:?}"),
    }
}

#[test]
fn round_trips_submit_and_deliver() {
    let cmds = [submit(1, "hello"), deliver(2)];
    let mut buf = encode(&cmds);
    let frames = drain(&mut SmppCodec::new(), &mut buf);
    assert_eq!(frames.len(), 2);
    assert_eq!(pdu(&frames[0]), &cmds[0]);
    assert_eq!(pdu(&frames[1]), &cmds[1]);
    assert!(buf.is_empty());
}

#[test]
fn split_reads_one_byte_at_a_time() {
    let cmds = [submit(7, "split"), deliver(8)];
    let wire = encode(&cmds);
    let mut codec = SmppCodec::new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for b in wire.iter() {
        buf.put_u8(*b);
        frames.extend(drain(&mut codec, &mut buf));
    }
    assert_eq!(frames.len(), 2);
    assert_eq!(pdu(&frames[0]).sequence_number(), 7);
    assert_eq!(pdu(&frames[1]).sequence_number(), 8);
}

#[test]
fn many_pdus_in_one_read() {
    let cmds: Vec<_> = (1..=500).map(|i| submit(i, "bulk")).collect();
    let mut buf = encode(&cmds);
    let frames = drain(&mut SmppCodec::new(), &mut buf);
    assert_eq!(frames.len(), 500);
    assert_eq!(pdu(&frames[499]).sequence_number(), 500);
}

#[test]
fn garbage_pdu_between_two_good_ones_keeps_sync() {
    let mut buf = encode(&[submit(1, "before")]);
    // A submit_sm whose body is 12 bytes of 0xFF: no NUL terminates service_type.
    buf.put_u32(16 + 12);
    buf.put_u32(0x0000_0004);
    buf.put_u32(0);
    buf.put_u32(99);
    buf.put_slice(&[0xFF; 12]);
    buf.extend_from_slice(&encode(&[submit(2, "after")]));
    let frames = drain(&mut SmppCodec::new(), &mut buf);
    assert_eq!(frames.len(), 3);
    assert_eq!(pdu(&frames[0]).sequence_number(), 1);
    match &frames[1] {
        Frame::Malformed(m) => {
            assert_eq!(m.command_id, 4);
            assert_eq!(m.sequence_number, 99);
            assert_eq!(m.status, CommandStatus::EsmeRinvcmdlen);
            assert!(m.wants_nack());
        }
        other => panic!("expected malformed, got {other:?}"),
    }
    assert_eq!(pdu(&frames[2]).sequence_number(), 2);
    assert!(buf.is_empty());
}

#[test]
fn unknown_command_id_is_malformed_with_rinvcmdid() {
    let mut buf = BytesMut::new();
    buf.put_u32(16);
    buf.put_u32(0x0000_0777);
    buf.put_u32(0);
    buf.put_u32(5);
    buf.extend_from_slice(&encode(&[submit(6, "x")]));
    let frames = drain(&mut SmppCodec::new(), &mut buf);
    match &frames[0] {
        Frame::Malformed(m) => {
            assert_eq!(m.status, CommandStatus::EsmeRinvcmdid);
            assert_eq!(m.sequence_number, 5);
            assert!(matches!(m.reason, MalformedReason::UnknownCommand));
        }
        other => panic!("expected malformed, got {other:?}"),
    }
    assert_eq!(pdu(&frames[1]).sequence_number(), 6);
}

#[test]
fn request_without_body_is_malformed_but_error_response_is_not() {
    let mut buf = BytesMut::new();
    put_header(&mut buf, 16, CommandId::SubmitSm, 0, 1);
    put_submit_sm_resp(&mut buf, 2, CommandStatus::EsmeRthrottled, b"");
    let frames = drain(&mut SmppCodec::new(), &mut buf);
    assert!(matches!(&frames[0], Frame::Malformed(m) if m.sequence_number == 1));
    let resp = pdu(&frames[1]);
    assert_eq!(resp.status(), CommandStatus::EsmeRthrottled);
    assert_eq!(resp.id(), CommandId::SubmitSmResp);
}

#[test]
fn length_below_header_is_fatal() {
    let mut buf = BytesMut::new();
    buf.put_u32(8);
    buf.put_u32(0x15);
    let err = SmppCodec::new().decode(&mut buf).unwrap_err();
    assert!(matches!(err, FrameError::BadLength { length: 8, .. }));
}

#[test]
fn length_above_max_is_fatal_and_reports_header() {
    let mut buf = BytesMut::new();
    put_header(&mut buf, 5000, CommandId::SubmitSm, 0, 42);
    let err = SmppCodec::with_max_length(4096)
        .decode(&mut buf)
        .unwrap_err();
    match err {
        FrameError::BadLength {
            length,
            max,
            command_id,
            sequence_number,
        } => {
            assert_eq!(
                (length, max, command_id, sequence_number),
                (5000, 4096, 4, 42)
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn waits_for_whole_pdu() {
    let wire = encode(&[submit(3, "partial")]);
    let mut buf = BytesMut::from(&wire[..wire.len() - 1]);
    assert!(SmppCodec::new().decode(&mut buf).unwrap().is_none());
    buf.put_u8(wire[wire.len() - 1]);
    assert!(SmppCodec::new().decode(&mut buf).unwrap().is_some());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut codec = SmppCodec::with_max_length(512);
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(_)) = codec.decode(&mut buf) {}
    }

    #[test]
    fn arbitrary_bodies_with_valid_lengths_keep_sync(
        id in any::<u32>(),
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut buf = BytesMut::new();
        put_header(&mut buf, (16 + body.len()) as u32, CommandId::from(id), 0, 11);
        buf.put_slice(&body);
        buf.extend_from_slice(&encode(&[submit(12, "tail")]));
        let frames = drain(&mut SmppCodec::new(), &mut buf);
        prop_assert_eq!(frames.len(), 2);
        prop_assert_eq!(pdu(&frames[1]).sequence_number(), 12);
    }
}
