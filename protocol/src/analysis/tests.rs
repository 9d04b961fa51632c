//! Tests of the analysis: counts at the boundaries, the culprit list, serialization.

use super::*;
use crate::segment::ConcatMethod;
use proptest::prelude::*;

#[test]
fn empty_text() {
    let a = analyze("");
    assert_eq!(
        (
            a.encoding,
            a.characters,
            a.units,
            a.segments,
            a.per_segment,
            a.remaining
        ),
        (Encoding::Gsm7, 0, 0, 1, 160, 160)
    );
}

#[test]
fn gsm_boundaries() {
    let a = analyze(&"a".repeat(160));
    assert_eq!((a.segments, a.per_segment, a.remaining), (1, 160, 0));
    let a = analyze(&"a".repeat(161));
    assert_eq!(
        (a.segments, a.per_segment, a.remaining),
        (2, 153, 153 * 2 - 161)
    );
    // Extension characters count two: 80 '€' fill one part exactly, 81 need two.
    let a = analyze(&"€".repeat(80));
    assert_eq!((a.characters, a.units, a.segments), (80, 160, 1));
    let a = analyze(&"€".repeat(81));
    assert_eq!((a.units, a.segments), (162, 2));
}

#[test]
fn escape_straddling_a_boundary_costs_a_part() {
    // 152 + 2 + 152 septets = 306 = 2 × 153, yet the '€' cannot straddle: three parts.
    let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
    let a = analyze(&text);
    assert_eq!((a.units, a.segments), (306, 3));
}

#[test]
fn ucs2_boundaries_and_emoji() {
    let a = analyze(&"ж".repeat(70));
    assert_eq!(
        (a.encoding, a.segments, a.remaining),
        (Encoding::Ucs2, 1, 0)
    );
    let a = analyze(&"ж".repeat(71));
    assert_eq!((a.segments, a.per_segment, a.remaining), (2, 67, 63));
    let a = analyze("😀");
    assert_eq!((a.characters, a.units), (1, 2));
    let a = analyze(&"😀".repeat(35));
    assert_eq!((a.units, a.segments), (70, 1));
    let a = analyze(&"😀".repeat(36));
    // 67 is odd, so each part holds 33 emoji (66 units): 36 emoji need two parts.
    assert_eq!((a.units, a.segments, a.remaining), (72, 2, 67 - 6));
}

#[test]
fn lists_the_characters_that_forced_ucs2() {
    let a = analyze("It’s Tom’s 😀");
    assert_eq!(a.encoding, Encoding::Ucs2);
    assert_eq!(
        a.non_gsm,
        vec![
            NonGsmChar {
                ch: '’',
                positions: vec![2, 8],
                replacement: Some("'")
            },
            NonGsmChar {
                ch: '😀',
                positions: vec![11],
                replacement: None
            },
        ]
    );
}

#[test]
fn transliteration_rescues_gsm7_and_reports_changes() {
    let text = format!("It’s {}", "a".repeat(100));
    let o = SegmentOptions {
        transliterate: true,
        ..SegmentOptions::default()
    };
    let a = analyze_with(&text, &o);
    assert_eq!((a.encoding, a.segments, a.units), (Encoding::Gsm7, 1, 105));
    assert!(a.non_gsm.is_empty());
    assert_eq!(a.transliterated.len(), 1);
    assert_eq!(analyze(&text).segments, 2);
}

#[test]
fn sixteen_bit_references() {
    let o = SegmentOptions {
        method: ConcatMethod::Udh16,
        ..SegmentOptions::default()
    };
    let a = analyze_with(&"a".repeat(305), &o);
    assert_eq!(
        (a.segments, a.per_segment, a.remaining),
        (3, 152, 152 * 3 - 305)
    );
}

#[test]
fn serializes_for_the_api() {
    let v = serde_json::to_value(analyze("Hi ’")).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "encoding": "ucs2", "characters": 4, "units": 4, "segments": 1,
            "per_segment": 70, "remaining": 66,
            "non_gsm": [{"char": "’", "positions": [3], "replacement": "'"}],
            "transliterated": []
        })
    );
    assert_eq!(
        serde_json::to_value(analyze("x")).unwrap()["encoding"],
        "gsm7"
    );
}

proptest! {
    #[test]
    fn counts_agree_with_the_encoders(text in any::<String>()) {
        let a = analyze(&text);
        prop_assert_eq!(a.characters, text.chars().count());
        match a.encoding {
            Encoding::Gsm7 => prop_assert_eq!(a.units, gsm7::encode(&text).unwrap().len()),
            Encoding::Ucs2 => {
                prop_assert_eq!(a.units * 2, crate::ucs2::encode(&text).len());
                prop_assert!(!a.non_gsm.is_empty());
            }
        }
        prop_assert!(a.remaining <= a.per_segment);
        prop_assert!(a.segments >= 1);
    }
}
