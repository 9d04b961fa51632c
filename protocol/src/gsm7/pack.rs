//! 7-bit packing of septets into octets (3GPP TS 23.038 §6.1.2.1.1).
//!
//! Septets are laid out least significant bit first: the first septet fills bits 0–6 of the
//! first octet, bit 0 of the second septet becomes bit 7, and so on. When a User Data Header
//! precedes the text, `fill_bits` zero bits are put first so that the text starts on a septet
//! boundary counted from the start of the user data (TS 23.040 §9.2.3.24).

use super::Gsm7Error;

/// Octets needed to pack `septets` septets after `fill_bits` fill bits.
pub fn packed_len(septets: usize, fill_bits: u8) -> usize {
    (usize::from(fill_bits) + septets * 7).div_ceil(8)
}

/// Packs septets (values 0x00–0x7F; the top bit is ignored) after `fill_bits` (0–6) zero bits.
/// The spare bits of the last octet are zero.
pub fn pack(septets: &[u8], fill_bits: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(packed_len(septets.len(), fill_bits));
    let mut acc: u32 = 0;
    let mut bits = u32::from(fill_bits % 8);
    for &s in septets {
        acc |= u32::from(s & 0x7F) << bits;
        bits += 7;
        if bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(acc as u8);
    }
    out
}

/// Unpacks every whole septet that follows `fill_bits` fill bits.
///
/// The octet count alone cannot tell whether the last septet is real: seven septets leave seven
/// spare bits that read as an `@` (0x00). Use [`unpack_exact`] when the septet count is known
/// (TP-UDL in TS 23.040 gives it); senders that pad those seven bits with CR as TS 23.038
/// §6.1.2.3.1 recommends can be recognised by the caller.
pub fn unpack(octets: &[u8], fill_bits: u8) -> Vec<u8> {
    let bits = (octets.len() * 8).saturating_sub(usize::from(fill_bits));
    unpack_n(octets, fill_bits, bits / 7)
}

/// Unpacks exactly `septets` septets after `fill_bits` fill bits.
pub fn unpack_exact(octets: &[u8], fill_bits: u8, septets: usize) -> Result<Vec<u8>, Gsm7Error> {
    if packed_len(septets, fill_bits) > octets.len() {
        return Err(Gsm7Error::TooShort {
            octets: octets.len(),
            fill_bits,
            septets,
        });
    }
    Ok(unpack_n(octets, fill_bits, septets))
}

/// Reads `count` septets; the caller has checked that the input holds them.
fn unpack_n(octets: &[u8], fill_bits: u8, count: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(count);
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    let mut input = octets.iter();
    // Drop the fill bits from the first octet.
    let fill = u32::from(fill_bits % 8);
    if fill > 0
        && let Some(&first) = input.next()
    {
        acc = u32::from(first) >> fill;
        bits = 8 - fill;
    }
    while out.len() < count {
        if bits < 7 {
            match input.next() {
                Some(&o) => {
                    acc |= u32::from(o) << bits;
                    bits += 8;
                }
                None => break,
            }
        }
        out.push((acc & 0x7F) as u8);
        acc >>= 7;
        bits -= 7;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn packs_hellohello_as_in_the_spec_example() {
        let septets = crate::gsm7::encode("hellohello").unwrap();
        let packed = pack(&septets, 0);
        assert_eq!(
            packed,
            [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
        );
        assert_eq!(unpack_exact(&packed, 0, 10).unwrap(), septets);
    }

    #[test]
    fn eight_septets_fill_seven_octets_and_seven_leave_an_ambiguous_tail() {
        let eight = [0x41u8; 8];
        assert_eq!(pack(&eight, 0).len(), 7);
        assert_eq!(unpack(&pack(&eight, 0), 0), eight);
        let seven = [0x41u8; 7];
        let packed = pack(&seven, 0);
        assert_eq!(packed.len(), 7);
        // Without a septet count the spare bits read as '@'.
        assert_eq!(
            unpack(&packed, 0),
            [0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x00]
        );
    }

    #[test]
    fn one_fill_bit_after_a_six_octet_udh_shifts_the_text() {
        // "A" (0x41) after one fill bit: bits 1..8 of the first octet.
        assert_eq!(pack(&[0x41], 1), [0x82]);
        assert_eq!(unpack(&[0x82], 1), [0x41]);
        assert_eq!(packed_len(153, 1), 134);
        assert_eq!(packed_len(152, 0), 133);
    }

    #[test]
    fn unpack_exact_rejects_short_input() {
        assert!(matches!(
            unpack_exact(&[0x41], 0, 2),
            Err(Gsm7Error::TooShort { septets: 2, .. })
        ));
        assert_eq!(unpack(&[], 3), Vec::<u8>::new());
    }

    proptest! {
        #[test]
        fn pack_unpack_round_trip(
            septets in proptest::collection::vec(0u8..0x80, 0..400),
            fill in 0u8..7,
        ) {
            let packed = pack(&septets, fill);
            prop_assert_eq!(packed.len(), packed_len(septets.len(), fill));
            prop_assert_eq!(&unpack_exact(&packed, fill, septets.len()).unwrap(), &septets);
            // Without the count, at most one extra zero septet appears.
            let loose = unpack(&packed, fill);
            prop_assert!(loose.starts_with(&septets));
            prop_assert!(loose.len() - septets.len() <= 1);
            prop_assert!(loose[septets.len()..].iter().all(|&s| s == 0));
        }

        #[test]
        fn unpack_never_panics(octets in proptest::collection::vec(any::<u8>(), 0..200), fill in 0u8..8) {
            let septets = unpack(&octets, fill);
            prop_assert!(septets.iter().all(|&s| s < 0x80));
        }
    }
}
