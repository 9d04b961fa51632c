//! SMPP framing: decode a read buffer holding many submit_sm / deliver_sm PDUs, the way the
//! simulator and the engine see them off a busy socket.

use std::{hint::black_box, str::FromStr};

use bytes::BytesMut;
use criterion::{Criterion, Throughput};
use rusmpp::{
    Command, CommandStatus, Pdu,
    pdus::{DeliverSm, SubmitSm},
    types::{COctetString, OctetString},
    values::{EsmClass, RegisteredDelivery},
};
use semalink_protocol::smpp::{Frame, SmppCodec};
use tokio_util::codec::{Decoder, Encoder};

const BATCH: usize = 256;

fn wire(command: &Command) -> BytesMut {
    let mut buf = BytesMut::new();
    for _ in 0..BATCH {
        SmppCodec::new().encode(command, &mut buf).unwrap();
    }
    buf
}

fn decode_all(wire: &BytesMut) -> usize {
    let mut buf = wire.clone();
    let mut codec = SmppCodec::new();
    let mut n = 0;
    while let Some(frame) = codec.decode(&mut buf).unwrap() {
        if let Frame::Pdu(c) = frame {
            black_box(c);
            n += 1;
        }
    }
    n
}

/// Benches `codec/decode_submit_sm` and `codec/decode_deliver_sm` (per PDU).
pub fn bench(c: &mut Criterion) {
    let submit = SubmitSm::builder()
        .source_addr(COctetString::from_str("SEMALINK").unwrap())
        .destination_addr(COctetString::from_str("254712345678").unwrap())
        .esm_class(EsmClass::from(0x00))
        .registered_delivery(RegisteredDelivery::request_all())
        .short_message(OctetString::from_str("Habari! Your verification code is 123456.").unwrap())
        .build();
    let receipt = "id:0000123456 sub:001 dlvrd:001 submit date:2611260330 \
                   done date:2611260331 stat:DELIVRD err:000 text:Habari! Your verif";
    let deliver = DeliverSm::builder()
        .source_addr(COctetString::from_str("254712345678").unwrap())
        .destination_addr(COctetString::from_str("SEMALINK").unwrap())
        .esm_class(EsmClass::from(0x04))
        .short_message(OctetString::from_str(receipt).unwrap())
        .build();
    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (name, command) in [
        (
            "decode_submit_sm",
            Command::new(CommandStatus::EsmeRok, 1, Pdu::SubmitSm(submit)),
        ),
        (
            "decode_deliver_sm",
            Command::new(CommandStatus::EsmeRok, 1, Pdu::DeliverSm(deliver)),
        ),
    ] {
        let buf = wire(&command);
        group.bench_function(name, |b| b.iter(|| assert_eq!(decode_all(&buf), BATCH)));
    }
    group.finish();
}
