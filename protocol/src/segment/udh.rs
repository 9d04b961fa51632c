//! The User Data Header: writing the concatenation header and parsing received ones
//! (3GPP TS 23.040 §9.2.3.24).
//!
//! A UDH is UDHL (its length, not counting itself) then information elements, each IEI, IEDL
//! and IEDL octets of data. Concatenation uses IEI 0x00 (8-bit reference, §9.2.3.24.1) or IEI
//! 0x08 (16-bit reference, §9.2.3.24.8); every other element is skipped.

use serde::Serialize;

use super::SegmentError;

/// IEI of concatenated short messages with an 8-bit reference.
pub const IEI_CONCAT_8: u8 = 0x00;
/// IEI of concatenated short messages with a 16-bit reference.
pub const IEI_CONCAT_16: u8 = 0x08;
/// Octets of the whole UDH (UDHL included) with an 8-bit concatenation element.
pub const UDH8_LEN: usize = 6;
/// Octets of the whole UDH (UDHL included) with a 16-bit concatenation element.
pub const UDH16_LEN: usize = 7;

/// Which part of which concatenated message a part is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ConcatInfo {
    /// The reference shared by all parts (only the low 8 bits travel with IEI 0x00).
    pub reference: u16,
    /// Number of parts, 1–255.
    pub total: u8,
    /// This part's number, 1-based.
    pub seq: u8,
}

impl ConcatInfo {
    /// True when the values are usable: TS 23.040 §9.2.3.24.1 says to ignore the element when
    /// the total or the sequence number is 0 or the sequence number exceeds the total.
    pub fn is_valid(&self) -> bool {
        self.total > 0 && self.seq > 0 && self.seq <= self.total
    }
}

/// A parsed UDH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udh {
    /// Octets taken by the header, UDHL included; the text starts after them.
    pub len: usize,
    /// The concatenation element, if present and valid (the last one wins when repeated,
    /// TS 23.040 §9.2.3.24).
    pub concat: Option<ConcatInfo>,
}

/// Appends a concatenation UDH: 6 octets with an 8-bit reference, 7 with a 16-bit one.
pub fn write_concat(out: &mut Vec<u8>, info: ConcatInfo, sixteen_bit: bool) {
    if sixteen_bit {
        let [hi, lo] = info.reference.to_be_bytes();
        out.extend_from_slice(&[0x06, IEI_CONCAT_16, 0x04, hi, lo, info.total, info.seq]);
    } else {
        out.extend_from_slice(&[
            0x05,
            IEI_CONCAT_8,
            0x03,
            info.reference as u8,
            info.total,
            info.seq,
        ]);
    }
}

/// Parses the UDH at the start of `short_message` (sent with the UDHI bit set) and returns it
/// with the text that follows. A truncated header or element is an error.
pub fn parse(short_message: &[u8]) -> Result<(Udh, &[u8]), SegmentError> {
    let (&udhl, rest) = short_message.split_first().ok_or(SegmentError::EmptyUdh)?;
    let udhl = usize::from(udhl);
    if udhl > rest.len() {
        return Err(SegmentError::UdhTooLong {
            udhl,
            available: rest.len(),
        });
    }
    let (mut elements, text) = rest.split_at(udhl);
    let mut concat = None;
    while let Some((&iei, after)) = elements.split_first() {
        let (&iedl, after) = after
            .split_first()
            .ok_or(SegmentError::TruncatedElement { iei })?;
        let iedl = usize::from(iedl);
        if iedl > after.len() {
            return Err(SegmentError::TruncatedElement { iei });
        }
        let (data, next) = after.split_at(iedl);
        match (iei, data) {
            (IEI_CONCAT_8, &[reference, total, seq]) => {
                concat = Some(ConcatInfo {
                    reference: u16::from(reference),
                    total,
                    seq,
                })
            }
            (IEI_CONCAT_16, &[hi, lo, total, seq]) => {
                concat = Some(ConcatInfo {
                    reference: u16::from_be_bytes([hi, lo]),
                    total,
                    seq,
                })
            }
            (IEI_CONCAT_8 | IEI_CONCAT_16, _) => {
                return Err(SegmentError::BadConcatElement { iei, len: iedl });
            }
            _ => {}
        }
        elements = next;
    }
    let udh = Udh {
        len: udhl + 1,
        concat: concat.filter(ConcatInfo::is_valid),
    };
    Ok((udh, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn writes_both_header_forms() {
        let info = ConcatInfo {
            reference: 0x1234,
            total: 3,
            seq: 2,
        };
        let mut out = Vec::new();
        write_concat(&mut out, info, false);
        assert_eq!(out, [0x05, 0x00, 0x03, 0x34, 0x03, 0x02]);
        out.clear();
        write_concat(&mut out, info, true);
        assert_eq!(out, [0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02]);
    }

    #[test]
    fn parses_and_skips_unknown_elements() {
        // Port addressing element (IEI 0x05) first, then an 8-bit concat element.
        let sm = [
            0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0x7A, 0x02, 0x01, b'h',
        ];
        let (udh, text) = parse(&sm).unwrap();
        assert_eq!(udh.len, 12);
        assert_eq!(
            udh.concat,
            Some(ConcatInfo {
                reference: 0x7A,
                total: 2,
                seq: 1
            })
        );
        assert_eq!(text, b"h");
        let (udh, text) = parse(&[0x06, 0x08, 0x04, 0xAB, 0xCD, 0x02, 0x02]).unwrap();
        assert_eq!(
            udh.concat,
            Some(ConcatInfo {
                reference: 0xABCD,
                total: 2,
                seq: 2
            })
        );
        assert!(text.is_empty());
        let (udh, _) = parse(&[0x00, b'x']).unwrap();
        assert_eq!(
            udh,
            Udh {
                len: 1,
                concat: None
            }
        );
    }

    #[test]
    fn invalid_concat_values_are_ignored_as_the_spec_says() {
        for (total, seq) in [(0, 0), (2, 0), (2, 3)] {
            let (udh, _) = parse(&[0x05, 0x00, 0x03, 0x01, total, seq]).unwrap();
            assert_eq!(udh.concat, None, "total {total} seq {seq}");
        }
    }

    #[test]
    fn malformed_headers_are_errors() {
        assert_eq!(parse(&[]), Err(SegmentError::EmptyUdh));
        assert_eq!(
            parse(&[0x05, 0x00, 0x03]),
            Err(SegmentError::UdhTooLong {
                udhl: 5,
                available: 2
            })
        );
        assert_eq!(
            parse(&[0x01, 0x00]),
            Err(SegmentError::TruncatedElement { iei: 0 })
        );
        assert_eq!(
            parse(&[0x03, 0x24, 0x05, 0x00]),
            Err(SegmentError::TruncatedElement { iei: 0x24 })
        );
        assert_eq!(
            parse(&[0x04, 0x00, 0x02, 0x01, 0x02]),
            Err(SegmentError::BadConcatElement { iei: 0, len: 2 })
        );
    }

    proptest! {
        #[test]
        fn written_headers_parse_back(reference: u16, total in 1u8.., seq in 1u8.., wide: bool,
                                      tail in proptest::collection::vec(any::<u8>(), 0..20)) {
            let seq = seq.min(total);
            let info = ConcatInfo { reference, total, seq };
            let mut sm = Vec::new();
            write_concat(&mut sm, info, wide);
            sm.extend_from_slice(&tail);
            let (udh, text) = parse(&sm).unwrap();
            let expected_ref = if wide { reference } else { reference & 0xFF };
            prop_assert_eq!(udh.concat, Some(ConcatInfo { reference: expected_ref, ..info }));
            prop_assert_eq!(udh.len, if wide { UDH16_LEN } else { UDH8_LEN });
            prop_assert_eq!(text, &tail[..]);
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok((udh, text)) = parse(&bytes) {
                prop_assert_eq!(udh.len + text.len(), bytes.len());
            }
        }
    }
}
