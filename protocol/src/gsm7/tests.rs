//! Tests of the GSM-7 tables against 3GPP TS 23.038 §6.2.1.

use super::*;
use proptest::prelude::*;

#[test]
fn default_alphabet_vectors() {
    assert_eq!(encode("@").unwrap(), [0x00]);
    assert_eq!(encode("£").unwrap(), [0x01]);
    assert_eq!(encode("$").unwrap(), [0x02]);
    assert_eq!(encode("\n").unwrap(), [0x0A]);
    assert_eq!(encode("\r").unwrap(), [0x0D]);
    assert_eq!(encode("_").unwrap(), [0x11]);
    assert_eq!(encode("Δ").unwrap(), [0x10]);
    assert_eq!(encode("¤").unwrap(), [0x24]);
    assert_eq!(encode("¡").unwrap(), [0x40]);
    assert_eq!(encode("§").unwrap(), [0x5F]);
    assert_eq!(encode("¿").unwrap(), [0x60]);
    assert_eq!(encode("à").unwrap(), [0x7F]);
    assert_eq!(encode("Hi 1").unwrap(), [0x48, 0x69, 0x20, 0x31]);
}

#[test]
fn extension_table_vectors() {
    assert_eq!(encode("€").unwrap(), [ESC, 0x65]);
    assert_eq!(encode("\u{0C}").unwrap(), [ESC, 0x0A]);
    assert_eq!(encode("^").unwrap(), [ESC, 0x14]);
    assert_eq!(encode("{}").unwrap(), [ESC, 0x28, ESC, 0x29]);
    assert_eq!(encode("\\").unwrap(), [ESC, 0x2F]);
    assert_eq!(encode("[~]").unwrap(), [ESC, 0x3C, ESC, 0x3D, ESC, 0x3E]);
    assert_eq!(encode("|").unwrap(), [ESC, 0x40]);
    assert_eq!(septet_len("\u{0C}^{}\\[~]|€").unwrap(), 20);
}

#[test]
fn characters_outside_the_alphabet_are_rejected_with_their_position() {
    assert_eq!(
        encode("ab’c"),
        Err(Gsm7Error::Unencodable {
            ch: '’',
            position: 2
        })
    );
    assert!(!is_gsm7("`"));
    assert!(!is_gsm7("\u{1B}"));
    assert!(!is_gsm7("ç"));
    assert!(!is_gsm7("😀"));
    assert!(is_gsm7(""));
    assert_eq!(
        septet_len("😀"),
        Err(Gsm7Error::Unencodable {
            ch: '😀',
            position: 0
        })
    );
}

#[test]
fn every_table_entry_round_trips() {
    for (septet, &ch) in BASIC.iter().enumerate() {
        if septet == usize::from(ESC) {
            continue;
        }
        assert_eq!(lookup(ch), Some(GsmChar::Basic(septet as u8)), "{ch:?}");
        assert_eq!(decode(&[septet as u8]).unwrap(), ch.to_string());
    }
    for &(ch, code) in &EXTENSION {
        assert_eq!(lookup(ch), Some(GsmChar::Extended(code)), "{ch:?}");
        assert_eq!(decode(&[ESC, code]).unwrap(), ch.to_string());
    }
}

#[test]
fn decoding_follows_the_receiver_rules() {
    // ESC before a code the extension table lacks shows the default character.
    assert_eq!(decode(&[ESC, 0x41]).unwrap(), "A");
    // ESC ESC and a trailing ESC show a space.
    assert_eq!(decode(&[ESC, ESC, 0x41]).unwrap(), " A");
    assert_eq!(decode(&[0x41, ESC]).unwrap(), "A ");
    assert_eq!(
        decode(&[0x41, 0x80]),
        Err(Gsm7Error::NotASeptet {
            value: 0x80,
            offset: 1
        })
    );
    assert_eq!(
        decode(&[ESC, 0xC1]),
        Err(Gsm7Error::NotASeptet {
            value: 0xC1,
            offset: 1
        })
    );
    assert_eq!(decode(&[]).unwrap(), "");
}

fn gsm_char() -> impl Strategy<Value = char> {
    let all: Vec<char> = BASIC
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != usize::from(ESC))
        .map(|(_, &c)| c)
        .chain(EXTENSION.iter().map(|&(c, _)| c))
        .collect();
    proptest::sample::select(all)
}

proptest! {
    #[test]
    fn encode_decode_round_trip(chars in proptest::collection::vec(gsm_char(), 0..300)) {
        let text: String = chars.into_iter().collect();
        let septets = encode(&text).unwrap();
        prop_assert_eq!(septets.len(), septet_len(&text).unwrap());
        prop_assert_eq!(decode(&septets).unwrap(), text);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn decode_of_septets_always_succeeds(septets in proptest::collection::vec(0u8..0x80, 0..300)) {
        let text = decode(&septets).unwrap();
        prop_assert!(text.chars().count() <= septets.len());
    }
}
