//! Fuzz the SMPP framing codec: arbitrary bytes must never panic, and decoding stops only on a
//! fatal framing error or when more bytes are needed.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use semalink_protocol::smpp::SmppCodec;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let mut codec = SmppCodec::with_max_length(4096);
    let mut buf = BytesMut::from(data);
    while let Ok(Some(_)) = codec.decode(&mut buf) {}
});
