//! Fuzzes the decoders of received text: GSM-7 septets (packed and unpacked), UCS-2, UDH
//! parsing and reassembly of arbitrary parts. None may panic; text that decodes must survive a
//! split and reassembly unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use semalink_protocol::segment::{Reassembler, SegmentError, SegmentOptions, split, udh};
use semalink_protocol::{analysis, gsm7, ucs2};

fuzz_target!(|data: &[u8]| {
    let Some((&control, data)) = data.split_first() else {
        return;
    };
    let fill = control % 7;
    let _ = gsm7::unpack(data, fill);
    let _ = ucs2::decode(data);
    let _ = ucs2::decode_lossy(data);
    let _ = udh::parse(data);

    let decoded = match gsm7::decode(data) {
        Ok(text) => Some(text),
        Err(_) => ucs2::decode(data).ok(),
    };
    if let Some(text) = decoded {
        let opts = SegmentOptions {
            packed: control & 0x80 != 0,
            ..SegmentOptions::default()
        };
        let a = analysis::analyze(&text);
        let parts = match split(&text, u16::from(control), &opts) {
            Ok(parts) => parts,
            Err(SegmentError::TooManySegments { .. }) => return,
            Err(e) => panic!("decoded text must split: {e}"),
        };
        assert_eq!(parts.segments.len(), a.segments);
        let mut r = Reassembler::new(4).with_packed_gsm7(opts.packed);
        let mut joined = None;
        for p in &parts.segments {
            joined = r
                .accept("fuzz", &p.short_message, p.udhi, p.data_coding)
                .expect("own parts are well formed");
        }
        let joined = joined.expect("last part completes the message");
        if opts.packed && text.contains('\r') {
            // A CR ending a packed part on an octet boundary reads as padding
            // (TS 23.038 §6.1.2.3.1) and is dropped: compare without CRs.
            assert_eq!(joined.replace('\r', ""), text.replace('\r', ""));
        } else {
            assert_eq!(joined, text);
        }
    }

    // Arbitrary parts: chunks of the input, each with its own UDHI flag and data coding.
    let mut r = Reassembler::new(8).with_packed_gsm7(control & 0x40 != 0);
    for chunk in data.chunks(usize::from(control % 32) + 1) {
        let (udhi, coding) = match chunk.first().map(|b| b % 4) {
            Some(0) => (true, 0x00),
            Some(1) => (true, 0x08),
            Some(2) => (false, 0x03),
            _ => (true, chunk.last().copied().unwrap_or(0)),
        };
        let _ = r.accept("fuzz", chunk, udhi, coding);
    }
});
