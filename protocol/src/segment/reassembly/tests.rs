//! Tests of the reassembler with parts the splitter made and parts handsets send.

use super::*;
use crate::segment::{ConcatMethod, SegmentOptions, split};

fn feed(r: &mut Reassembler, source: &str, parts: &[crate::segment::Segment]) -> Vec<String> {
    parts
        .iter()
        .filter_map(|s| {
            r.accept(source, &s.short_message, s.udhi, s.data_coding)
                .unwrap()
        })
        .collect()
}

#[test]
fn parts_in_any_order_with_duplicates() {
    let text = "x".repeat(400);
    let mut parts = split(&text, 7, &SegmentOptions::default())
        .unwrap()
        .segments;
    assert_eq!(parts.len(), 3);
    parts.swap(0, 2);
    parts.insert(1, parts[0].clone());
    let mut r = Reassembler::new(16);
    let done = feed(&mut r, "254700000001", &parts);
    assert_eq!(done, vec![text]);
    assert_eq!(r.pending(), 0);
    // A duplicate after completion starts a new, incomplete message rather than a repeat.
    assert_eq!(
        feed(&mut r, "254700000001", &parts[..1]),
        Vec::<String>::new()
    );
}

#[test]
fn sources_and_references_are_kept_apart() {
    let a = split(&"a".repeat(200), 1, &SegmentOptions::default())
        .unwrap()
        .segments;
    let b = split(&"b".repeat(200), 1, &SegmentOptions::default())
        .unwrap()
        .segments;
    let mut r = Reassembler::new(16);
    assert!(
        r.accept("A", &a[0].short_message, true, 0)
            .unwrap()
            .is_none()
    );
    assert!(
        r.accept("B", &b[1].short_message, true, 0)
            .unwrap()
            .is_none()
    );
    assert_eq!(r.pending(), 2);
    assert_eq!(
        r.accept("A", &a[1].short_message, true, 0).unwrap(),
        Some("a".repeat(200))
    );
    assert_eq!(
        r.accept("B", &b[0].short_message, true, 0).unwrap(),
        Some("b".repeat(200))
    );
}

#[test]
fn escape_and_surrogate_pairs_split_by_a_handset_still_decode() {
    // A sender that ignored the rule: ESC at the end of part 1, its code in part 2.
    let mut r = Reassembler::new(4);
    let p1 = [0x05, 0x00, 0x03, 0x09, 0x02, 0x01, b'A', 0x1B];
    let p2 = [0x05, 0x00, 0x03, 0x09, 0x02, 0x02, 0x65, b'B'];
    assert!(r.accept("s", &p1, true, 0x00).unwrap().is_none());
    assert_eq!(
        r.accept("s", &p2, true, 0x00).unwrap().as_deref(),
        Some("A€B")
    );
    // The same with a surrogate pair in UCS-2.
    let p1 = [0x05, 0x00, 0x03, 0x0A, 0x02, 0x01, 0xD8, 0x3D];
    let p2 = [0x05, 0x00, 0x03, 0x0A, 0x02, 0x02, 0xDE, 0x00];
    assert!(r.accept("s", &p2, true, 0x08).unwrap().is_none());
    assert_eq!(
        r.accept("s", &p1, true, 0x08).unwrap().as_deref(),
        Some("😀")
    );
}

#[test]
fn single_messages_and_sar_parts() {
    let mut r = Reassembler::new(4);
    assert_eq!(
        r.accept("s", b"Hello", false, 0).unwrap().as_deref(),
        Some("Hello")
    );
    assert_eq!(
        r.accept("s", b"caf\xE9", false, 0x03).unwrap().as_deref(),
        Some("café")
    );
    // A UDH without a concatenation element: the text after it is the message.
    assert_eq!(
        r.accept("s", &[0x00, b'h', b'i'], true, 0)
            .unwrap()
            .as_deref(),
        Some("hi")
    );
    let sar = SegmentOptions {
        method: ConcatMethod::Sar,
        ..SegmentOptions::default()
    };
    let parts = split(&"ж".repeat(100), 300, &{ sar }).unwrap().segments;
    assert!(parts.iter().all(|p| !p.udhi && p.sar.is_some()));
    let mut out = None;
    for p in parts.iter().rev() {
        let s = p.sar.unwrap();
        let info = ConcatInfo {
            reference: s.msg_ref_num,
            total: s.total_segments,
            seq: s.segment_seqnum,
        };
        out = r
            .accept_part("s", info, &p.short_message, p.data_coding)
            .unwrap();
    }
    assert_eq!(out, Some("ж".repeat(100)));
    let bad = ConcatInfo {
        reference: 1,
        total: 0,
        seq: 0,
    };
    assert_eq!(
        r.accept_part("s", bad, b"x", 0).unwrap().as_deref(),
        Some("x")
    );
}

#[test]
fn packed_parts_with_fill_bits_and_cr_padding() {
    let opts = SegmentOptions {
        packed: true,
        ..SegmentOptions::default()
    };
    let mut r = Reassembler::new(4).with_packed_gsm7(true);
    for text in ["1234567", "hellohello", &"p€".repeat(120)] {
        let parts = split(text, 42, &opts).unwrap().segments;
        assert_eq!(feed(&mut r, "s", &parts), vec![text.to_owned()], "{text}");
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let mut r = Reassembler::new(4);
    assert_eq!(
        r.accept("s", b"x", false, 0x04),
        Err(SegmentError::UnsupportedDataCoding(0x04))
    );
    assert_eq!(
        r.accept("s", &[0x09, 0x00], true, 0),
        Err(SegmentError::UdhTooLong {
            udhl: 9,
            available: 1
        })
    );
    assert!(matches!(
        r.accept("s", &[0x41, 0xC1], false, 0),
        Err(SegmentError::Gsm7(_))
    ));
    assert_eq!(r.pending(), 0);
}

#[test]
fn reused_reference_with_another_total_replaces_and_memory_is_bounded() {
    let mut r = Reassembler::new(2);
    assert!(
        r.accept("s", &[0x05, 0x00, 0x03, 0x01, 0x03, 0x01, b'a'], true, 0)
            .unwrap()
            .is_none()
    );
    assert!(
        r.accept("s", &[0x05, 0x00, 0x03, 0x01, 0x02, 0x01, b'b'], true, 0)
            .unwrap()
            .is_none()
    );
    assert_eq!(r.pending(), 1);
    assert!(
        r.accept("t", &[0x05, 0x00, 0x03, 0x01, 0x02, 0x01, b'c'], true, 0)
            .unwrap()
            .is_none()
    );
    assert!(
        r.accept("u", &[0x05, 0x00, 0x03, 0x01, 0x02, 0x01, b'd'], true, 0)
            .unwrap()
            .is_none()
    );
    assert_eq!(r.pending(), 2);
    // "s" was the oldest and was dropped; its second part now starts a new message.
    assert!(
        r.accept("s", &[0x05, 0x00, 0x03, 0x01, 0x02, 0x02, b'e'], true, 0)
            .unwrap()
            .is_none()
    );
    assert_eq!(
        r.accept("u", &[0x05, 0x00, 0x03, 0x01, 0x02, 0x02, b'f'], true, 0)
            .unwrap()
            .as_deref(),
        Some("df")
    );
}

#[test]
fn a_cr_ending_a_packed_part_on_an_octet_boundary_reads_as_padding() {
    // Eight septets fill seven octets exactly; a final CR there is what a sender pads seven
    // spare bits with (TS 23.038 §6.1.2.3.1), so it is dropped: an inherent ambiguity of the
    // packed form without a septet count. Unpacked parts keep it.
    let mut r = Reassembler::new(4).with_packed_gsm7(true);
    let packed = gsm7::pack(&gsm7::encode("abcdefg\r").unwrap(), 0);
    assert_eq!(
        r.accept("s", &packed, false, 0).unwrap().as_deref(),
        Some("abcdefg")
    );
    let packed = gsm7::pack(&gsm7::encode("abcdef\r").unwrap(), 0);
    assert_eq!(
        r.accept("s", &packed, false, 0).unwrap().as_deref(),
        Some("abcdef\r@")
    );
    let mut r = Reassembler::new(4);
    assert_eq!(
        r.accept("s", b"abcdefg\r", false, 0).unwrap().as_deref(),
        Some("abcdefg\r")
    );
}
