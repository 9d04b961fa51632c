//! UCS-2 as sent on the wire: UTF-16 big-endian without a byte-order mark (`data_coding` 0x08).
//!
//! 3GPP TS 23.038 §6.2.3 names the 16-bit alphabet UCS-2; handsets and SMSCs carry UTF-16 in it,
//! so a character outside the Basic Multilingual Plane is a surrogate pair of two units. Other
//! gateways that sent a BOM or little-endian data garbled every part after the first (Jasmin
//! issues #256, #437, #619), hence no BOM here and big-endian always.

use thiserror::Error;

/// Errors of UCS-2 decoding.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Ucs2Error {
    /// The input has an odd number of octets.
    #[error("UCS-2 data has an odd length ({0} octets)")]
    OddLength(usize),
    /// A surrogate unit has no partner.
    #[error("unpaired surrogate {unit:#06x} at unit {index}")]
    UnpairedSurrogate {
        /// The unit.
        unit: u16,
        /// Its index in units.
        index: usize,
    },
}

/// UTF-16 units `ch` takes: 2 outside the BMP, else 1.
#[inline]
pub fn char_len(ch: char) -> usize {
    ch.len_utf16()
}

/// UTF-16 units of `text`.
pub fn unit_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Encodes `text` as UTF-16BE without a BOM.
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2);
    encode_into(text, &mut out);
    out
}

/// Appends the UTF-16BE encoding of `text` to `out`.
pub fn encode_into(text: &str, out: &mut Vec<u8>) {
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
}

fn units(octets: &[u8]) -> impl Iterator<Item = u16> + '_ {
    octets
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
}

/// Decodes UTF-16BE; an odd length or an unpaired surrogate is an error.
pub fn decode(octets: &[u8]) -> Result<String, Ucs2Error> {
    if !octets.len().is_multiple_of(2) {
        return Err(Ucs2Error::OddLength(octets.len()));
    }
    let mut out = String::with_capacity(octets.len() / 2);
    let mut index = 0;
    for result in char::decode_utf16(units(octets)) {
        match result {
            Ok(ch) => {
                out.push(ch);
                index += ch.len_utf16();
            }
            Err(e) => {
                return Err(Ucs2Error::UnpairedSurrogate {
                    unit: e.unpaired_surrogate(),
                    index,
                });
            }
        }
    }
    Ok(out)
}

/// Decodes UTF-16BE from outside input, replacing an unpaired surrogate or a trailing odd
/// octet with U+FFFD rather than failing: a received message is shown, not rejected.
pub fn decode_lossy(octets: &[u8]) -> String {
    let mut out: String = char::decode_utf16(units(octets))
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if !octets.len().is_multiple_of(2) {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn big_endian_without_bom() {
        assert_eq!(encode("A€"), [0x00, 0x41, 0x20, 0xAC]);
        assert_eq!(encode(""), Vec::<u8>::new());
        assert_eq!(decode(&[0x00, 0x41, 0x20, 0xAC]).unwrap(), "A€");
    }

    #[test]
    fn astral_characters_take_a_surrogate_pair() {
        assert_eq!(encode("😀"), [0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(unit_len("a😀"), 3);
        assert_eq!(char_len('😀'), 2);
        assert_eq!(decode(&[0xD8, 0x3D, 0xDE, 0x00]).unwrap(), "😀");
    }

    #[test]
    fn malformed_input_is_an_error_or_replaced() {
        assert_eq!(decode(&[0x00]), Err(Ucs2Error::OddLength(1)));
        assert_eq!(
            decode(&[0x00, 0x41, 0xD8, 0x3D]),
            Err(Ucs2Error::UnpairedSurrogate {
                unit: 0xD83D,
                index: 1
            })
        );
        assert_eq!(
            decode_lossy(&[0x00, 0x41, 0xD8, 0x3D, 0x42]),
            "A\u{FFFD}\u{FFFD}"
        );
    }

    proptest! {
        #[test]
        fn round_trip(text in any::<String>()) {
            let bytes = encode(&text);
            prop_assert_eq!(bytes.len(), unit_len(&text) * 2);
            prop_assert_eq!(&decode(&bytes).unwrap(), &text);
            prop_assert_eq!(decode_lossy(&bytes), text);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
            let _ = decode_lossy(&bytes);
        }
    }
}
