//! Tests of the splitter: boundaries, headers, limits, and properties over random text.

use super::*;
use crate::analysis::analyze_with;
use proptest::prelude::*;

fn opts(method: ConcatMethod) -> SegmentOptions {
    SegmentOptions {
        method,
        ..SegmentOptions::default()
    }
}

#[test]
fn short_gsm_text_is_one_part_without_udh() {
    let s = split("Hello", 9, &SegmentOptions::default()).unwrap();
    assert_eq!(s.encoding, Encoding::Gsm7);
    let p = &s.segments[0];
    assert_eq!(p.short_message, b"Hello");
    assert!(!p.udhi);
    assert_eq!((p.seq, p.total, p.data_coding, p.units), (1, 1, 0x00, 5));
    assert_eq!(p.esm_class(0x03), 0x03);
    assert_eq!(p.sar, None);
}

#[test]
fn empty_text_is_one_empty_part() {
    let s = split("", 0, &SegmentOptions::default()).unwrap();
    assert_eq!(s.segments.len(), 1);
    assert!(s.segments[0].short_message.is_empty());
}

#[test]
fn exactly_160_and_161_septets() {
    assert_eq!(
        split(&"a".repeat(160), 0, &SegmentOptions::default())
            .unwrap()
            .segments
            .len(),
        1
    );
    let s = split(&"a".repeat(161), 0x1AB, &SegmentOptions::default()).unwrap();
    assert_eq!(s.segments.len(), 2);
    let first = &s.segments[0];
    assert!(first.udhi);
    assert_eq!(first.esm_class(0x00), 0x40);
    assert_eq!(
        &first.short_message[..6],
        &[0x05, 0x00, 0x03, 0xAB, 0x02, 0x01]
    );
    assert_eq!(first.units, 153);
    assert_eq!(s.segments[1].units, 8);
    assert_eq!(s.segments[1].reference, 0xAB);
}

#[test]
fn exactly_70_and_71_ucs2_units() {
    assert_eq!(
        split(&"ж".repeat(70), 0, &SegmentOptions::default())
            .unwrap()
            .segments
            .len(),
        1
    );
    let s = split(&"ж".repeat(71), 5, &SegmentOptions::default()).unwrap();
    assert_eq!(s.encoding, Encoding::Ucs2);
    assert_eq!(s.segments.len(), 2);
    assert_eq!(s.segments[0].units, 67);
    assert_eq!(s.segments[0].short_message.len(), 6 + 134);
    assert_eq!(s.segments[0].data_coding, 0x08);
}

#[test]
fn sixteen_bit_reference_leaves_152_and_66() {
    let s = split(&"a".repeat(305), 0xBEEF, &opts(ConcatMethod::Udh16)).unwrap();
    assert_eq!(
        s.segments.iter().map(|p| p.units).collect::<Vec<_>>(),
        [152, 152, 1]
    );
    assert_eq!(
        &s.segments[2].short_message[..7],
        &[0x06, 0x08, 0x04, 0xBE, 0xEF, 0x03, 0x03]
    );
    let s = split(&"ж".repeat(133), 1, &opts(ConcatMethod::Udh16)).unwrap();
    assert_eq!(
        s.segments.iter().map(|p| p.units).collect::<Vec<_>>(),
        [66, 66, 1]
    );
}

#[test]
fn escape_at_the_boundary_moves_to_the_next_part() {
    // 152 'a' then '€': the pair would straddle septets 153/154.
    let text = format!("{}€{}", "a".repeat(152), "b".repeat(10));
    let s = split(&text, 0, &SegmentOptions::default()).unwrap();
    assert_eq!(s.segments[0].units, 152);
    assert_eq!(&s.segments[1].short_message[6..8], &[0x1B, 0x65]);
}

#[test]
fn emoji_at_the_boundary_moves_to_the_next_part() {
    let text = format!("{}😀{}", "ж".repeat(66), "ж".repeat(10));
    let s = split(&text, 0, &SegmentOptions::default()).unwrap();
    assert_eq!(s.segments[0].units, 66);
    assert_eq!(
        &s.segments[1].short_message[6..10],
        &[0xD8, 0x3D, 0xDE, 0x00]
    );
    // 69 units + one emoji = 71 units: two parts even though there are 70 characters.
    let s = split(
        &format!("{}😀", "ж".repeat(69)),
        0,
        &SegmentOptions::default(),
    )
    .unwrap();
    assert_eq!(s.segments.len(), 2);
}

#[test]
fn one_curly_apostrophe_forces_ucs2_unless_transliterated() {
    let text = "It’s ready";
    assert_eq!(
        split(text, 0, &SegmentOptions::default()).unwrap().encoding,
        Encoding::Ucs2
    );
    let t = SegmentOptions {
        transliterate: true,
        ..SegmentOptions::default()
    };
    let s = split(text, 0, &t).unwrap();
    assert_eq!(s.encoding, Encoding::Gsm7);
    assert_eq!(s.segments[0].short_message, b"It's ready");
    assert_eq!(s.transliterated.len(), 1);
    // An emoji stays UCS-2 anyway, and then the apostrophe is kept as typed.
    let s = split("It’s 😀", 0, &t).unwrap();
    assert_eq!(s.encoding, Encoding::Ucs2);
    assert!(s.transliterated.is_empty());
}

#[test]
fn segment_limit_is_enforced() {
    let limited = SegmentOptions {
        max_segments: 2,
        ..SegmentOptions::default()
    };
    assert!(split(&"a".repeat(306), 0, &limited).is_ok());
    assert_eq!(
        split(&"a".repeat(307), 0, &limited),
        Err(SegmentError::TooManySegments { needed: 3, max: 2 })
    );
    assert!(matches!(
        split(&"a".repeat(153 * 256), 0, &SegmentOptions::default()),
        Err(SegmentError::TooManySegments {
            needed: 256,
            max: 255
        })
    ));
}

#[test]
fn concat_method_reads_from_config() {
    let m: ConcatMethod = serde_json::from_str("\"udh16\"").unwrap();
    assert_eq!(m, ConcatMethod::Udh16);
    assert_eq!(
        serde_json::to_string(&ConcatMethod::Sar).unwrap(),
        "\"sar\""
    );
}

#[test]
fn sar_parts_have_no_udh_and_carry_tlv_values() {
    let s = split(&"a".repeat(200), 0x1234, &opts(ConcatMethod::Sar)).unwrap();
    assert_eq!(s.segments.len(), 2);
    let p = &s.segments[1];
    assert!(!p.udhi);
    assert_eq!(p.short_message.len(), 47);
    assert_eq!(
        p.sar,
        Some(Sar {
            msg_ref_num: 0x1234,
            total_segments: 2,
            segment_seqnum: 2
        })
    );
}

#[test]
fn packed_parts_respect_fill_bits() {
    assert_eq!(fill_bits(6), 1);
    assert_eq!(fill_bits(7), 0);
    let packed = SegmentOptions {
        packed: true,
        ..SegmentOptions::default()
    };
    let s = split(&"a".repeat(306), 1, &packed).unwrap();
    // 6 octets UDH + 153 septets after one fill bit = 140 octets exactly.
    assert_eq!(s.segments[0].short_message.len(), 140);
    let body = &s.segments[0].short_message[6..];
    assert_eq!(gsm7::unpack_exact(body, 1, 153).unwrap(), vec![0x61; 153]);
    let s = split("hellohello", 1, &packed).unwrap();
    assert_eq!(
        s.segments[0].short_message,
        [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
    );
    let w = SegmentOptions {
        method: ConcatMethod::Udh16,
        ..packed
    };
    let s = split(&"a".repeat(304), 1, &w).unwrap();
    assert_eq!(s.segments[0].short_message.len(), 7 + 133);
}

/// Text mixing ASCII, extension characters, Latin-1, Cyrillic and astral characters, so that
/// boundaries land on escapes and surrogates often.
fn mixed_text() -> impl Strategy<Value = String> {
    let pools = prop_oneof![
        4 => proptest::sample::select(vec!['a', 'Z', ' ', '1', '@', '\n', 'é', 'Δ']),
        2 => proptest::sample::select(vec!['€', '[', ']', '{', '}', '^', '~', '|', '\\']),
        1 => proptest::sample::select(vec!['ж', '’', '中', '😀', '🎉', '–']),
    ];
    proptest::collection::vec(pools, 0..700).prop_map(|v| v.into_iter().collect())
}

fn any_opts() -> impl Strategy<Value = SegmentOptions> {
    (
        proptest::sample::select(vec![
            ConcatMethod::Udh8,
            ConcatMethod::Udh16,
            ConcatMethod::Sar,
        ]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(method, packed, transliterate)| SegmentOptions {
            method,
            packed,
            transliterate,
            max_segments: MAX_PARTS,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn parts_reassemble_and_match_the_analysis(text in mixed_text(), o in any_opts(), reference: u16) {
        let s = split(&text, reference, &o).unwrap();
        let a = analyze_with(&text, &o);
        prop_assert_eq!(s.segments.len(), a.segments);
        prop_assert_eq!(s.encoding, a.encoding);
        let single = s.segments.len() == 1;
        let capacity = if single { a.encoding.single_capacity() } else { a.per_segment };
        prop_assert_eq!(a.per_segment, capacity);
        let mut r = Reassembler::new(4).with_packed_gsm7(o.packed);
        let mut joined = None;
        for (i, p) in s.segments.iter().enumerate() {
            prop_assert!(p.units <= capacity);
            prop_assert!(p.short_message.len() <= 140 || !o.packed);
            prop_assert_eq!(usize::from(p.seq), i + 1);
            prop_assert_eq!(p.udhi, !single && o.method != ConcatMethod::Sar);
            joined = match p.sar {
                Some(sar) => {
                    let info = ConcatInfo { reference: sar.msg_ref_num, total: sar.total_segments, seq: sar.segment_seqnum };
                    r.accept_part("src", info, &p.short_message, p.data_coding).unwrap()
                }
                None => r.accept("src", &p.short_message, p.udhi, p.data_coding).unwrap(),
            };
        }
        let expected = crate::translit::transliterate(&text);
        let sent = if s.transliterated.is_empty() { text.clone() } else { expected.text };
        prop_assert_eq!(joined, Some(sent));
        prop_assert_eq!(s.segments.last().unwrap().units + a.remaining, capacity);
    }

    #[test]
    fn each_part_decodes_alone(text in mixed_text()) {
        // No part ends inside an escape or a surrogate pair: each decodes strictly by itself.
        let s = split(&text, 1, &SegmentOptions::default()).unwrap();
        let mut joined = String::new();
        for p in &s.segments {
            let body = &p.short_message[if p.udhi { 6 } else { 0 }..];
            match s.encoding {
                Encoding::Gsm7 => {
                    prop_assert_ne!(body.last(), Some(&gsm7::ESC));
                    joined.push_str(&gsm7::decode(body).unwrap());
                }
                Encoding::Ucs2 => joined.push_str(&ucs2::decode(body).unwrap()),
            }
        }
        prop_assert_eq!(joined, text);
    }
}
