//! Each hand-rolled encoder must decode, through rusmpp, to the PDU it claims to be.

use bytes::BytesMut;
use rusmpp::{CommandId, CommandStatus, Pdu};
use tokio_util::codec::Decoder;

use super::super::codec::tests::submit;
use super::super::{Frame, SmppCodec};
use super::*;

fn decode_one(buf: &mut BytesMut) -> rusmpp::Command {
    match SmppCodec::new().decode(buf).unwrap() {
        Some(Frame::Pdu(c)) => c,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn submit_sm_resp_ok_carries_message_id() {
    let mut buf = BytesMut::new();
    put_submit_sm_resp(&mut buf, 9, CommandStatus::EsmeRok, b"0A1B2C");
    let c = decode_one(&mut buf);
    assert_eq!(c.sequence_number(), 9);
    match c.pdu() {
        Some(Pdu::SubmitSmResp(r)) => assert_eq!(r.message_id().as_str(), "0A1B2C"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(buf.is_empty());
}

#[test]
fn empty_body_pdus_decode() {
    let mut buf = BytesMut::new();
    put_generic_nack(&mut buf, 1, CommandStatus::EsmeRinvcmdid);
    put_enquire_link(&mut buf, 2);
    put_enquire_link_resp(&mut buf, 3);
    put_unbind(&mut buf, 4);
    put_unbind_resp(&mut buf, 5);
    put_deliver_sm_resp(&mut buf, 6, CommandStatus::EsmeRok);
    let ids: Vec<_> = (0..6)
        .map(|_| decode_one(&mut buf))
        .map(|c| (c.id(), c.sequence_number()))
        .collect();
    assert_eq!(
        ids,
        vec![
            (CommandId::GenericNack, 1),
            (CommandId::EnquireLink, 2),
            (CommandId::EnquireLinkResp, 3),
            (CommandId::Unbind, 4),
            (CommandId::UnbindResp, 5),
            (CommandId::DeliverSmResp, 6),
        ]
    );
}

#[test]
fn template_patches_sequence_number() {
    let original = submit(0, "templated");
    let Some(Pdu::SubmitSm(sm)) = original.pdu().cloned() else {
        unreachable!()
    };
    let template = SubmitSmTemplate::new(sm);
    let mut buf = BytesMut::new();
    template.write(123_456, &mut buf);
    template.write(123_457, &mut buf);
    let a = decode_one(&mut buf);
    let b = decode_one(&mut buf);
    assert_eq!(a.sequence_number(), 123_456);
    assert_eq!(b.sequence_number(), 123_457);
    assert_eq!(a.pdu(), original.pdu());
}

#[test]
fn numbered_template_writes_counter_into_text() {
    let Some(Pdu::SubmitSm(sm)) = submit(0, "load 0000000000").pdu().cloned() else {
        unreachable!()
    };
    let template = SubmitSmTemplate::numbered(sm, 10).unwrap();
    let mut buf = BytesMut::new();
    template.write_numbered(5, 42, &mut buf);
    let c = decode_one(&mut buf);
    match c.pdu() {
        Some(Pdu::SubmitSm(sm)) => assert_eq!(sm.short_message().as_ref(), b"load 0000000042"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(c.sequence_number(), 5);
}
