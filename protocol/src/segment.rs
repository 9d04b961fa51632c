//! Splitting a text into SMS parts ready for `submit_sm`, and putting received parts together.
//!
//! [`split`] chooses the encoding (GSM-7 when every character fits, else UCS-2), optionally
//! transliterates look-alikes first, and cuts the text into parts that each carry a
//! concatenation UDH (3GPP TS 23.040 §9.2.3.24.1 / .8) or, for [`ConcatMethod::Sar`], the
//! values of the SMPP `sar_*` TLVs. Escape pairs and surrogate pairs are never split. Each
//! [`Segment`] holds the exact `short_message` octets, the `data_coding` and whether the UDHI
//! bit (0x40) of `esm_class` must be set. [`Reassembler`] does the reverse for
//! mobile-originated parts.

mod given;
pub(crate) mod plan;
mod reassembly;
pub mod udh;

#[cfg(test)]
mod tests;

pub use given::{split_as, split_given};
pub use plan::{ConcatMethod, Encoding};
pub use reassembly::Reassembler;
pub use udh::ConcatInfo;

use serde::Serialize;
use thiserror::Error;

use crate::gsm7::{self, Gsm7Error};
use crate::translit::Change;
use crate::ucs2;

/// The UDHI flag of `esm_class` (SMPP 3.4 §5.2.12): `short_message` starts with a UDH.
pub const ESM_CLASS_UDHI: u8 = 0x40;

/// The largest number of parts a concatenated message can have (one octet in the UDH).
pub const MAX_PARTS: u8 = 255;

/// Errors of splitting, UDH parsing and reassembly.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SegmentError {
    /// The text needs more parts than allowed.
    #[error("message needs {needed} segments, more than the limit of {max}")]
    TooManySegments {
        /// Parts the text needs.
        needed: usize,
        /// The configured limit.
        max: u8,
    },
    /// The UDHI bit was set but `short_message` is empty.
    #[error("UDH indicated but the message is empty")]
    EmptyUdh,
    /// UDHL says the header is longer than the message.
    #[error("UDH length {udhl} exceeds the {available} octets that follow")]
    UdhTooLong {
        /// The header length octet.
        udhl: usize,
        /// Octets after it.
        available: usize,
    },
    /// An information element runs past the end of the header.
    #[error("UDH element {iei:#04x} is truncated")]
    TruncatedElement {
        /// Its identifier.
        iei: u8,
    },
    /// A concatenation element has the wrong length.
    #[error("concatenation element {iei:#04x} has length {len}")]
    BadConcatElement {
        /// Its identifier.
        iei: u8,
        /// Its data length.
        len: usize,
    },
    /// A received part uses a `data_coding` this module does not decode.
    #[error("data_coding {0:#04x} is not supported for text")]
    UnsupportedDataCoding(u8),
    /// A received GSM-7 part is not valid septets, or a text that must be sent in GSM-7
    /// has a character outside it.
    #[error(transparent)]
    Gsm7(#[from] Gsm7Error),
    /// A pre-split part does not fit in one SMS.
    #[error("segment {part} holds {units} units, more than the {capacity} one part holds")]
    PartTooLong {
        /// The part, 1-based.
        part: usize,
        /// Its septets or UTF-16 units.
        units: usize,
        /// What one part holds.
        capacity: usize,
    },
}

/// How to split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentOptions {
    /// How parts are tied together.
    pub method: ConcatMethod,
    /// Pack GSM-7 septets into octets (with fill bits after a UDH). Off by default: most
    /// upstreams take unpacked septets with `data_coding` 0x00.
    pub packed: bool,
    /// Transliterate look-alikes (curly quotes, dashes, …) when that keeps the text in GSM-7.
    pub transliterate: bool,
    /// Most parts allowed; more is [`SegmentError::TooManySegments`].
    pub max_segments: u8,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        SegmentOptions {
            method: ConcatMethod::Udh8,
            packed: false,
            transliterate: false,
            max_segments: MAX_PARTS,
        }
    }
}

/// The `sar_*` TLV values of one part (SMPP 3.4 §5.3.2.22–24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sar {
    /// `sar_msg_ref_num`.
    pub msg_ref_num: u16,
    /// `sar_total_segments`.
    pub total_segments: u8,
    /// `sar_segment_seqnum`, 1-based.
    pub segment_seqnum: u8,
}

/// One part, ready for `submit_sm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// The `short_message` octets: UDH (if any) then the encoded text.
    pub short_message: Vec<u8>,
    /// True when `short_message` starts with a UDH: set [`ESM_CLASS_UDHI`] in `esm_class`.
    pub udhi: bool,
    /// The `data_coding` value.
    pub data_coding: u8,
    /// Septets or UTF-16 units of text in this part (UDH and padding excluded).
    pub units: usize,
    /// Part number, 1-based.
    pub seq: u8,
    /// Number of parts.
    pub total: u8,
    /// The reference as it travels: low 8 bits for [`ConcatMethod::Udh8`]. Meaningless when
    /// `total` is 1.
    pub reference: u16,
    /// The `sar_*` TLVs to send, for [`ConcatMethod::Sar`] with more than one part.
    pub sar: Option<Sar>,
}

impl Segment {
    /// `base` with the UDHI bit added when this part carries a UDH.
    pub fn esm_class(&self, base: u8) -> u8 {
        if self.udhi {
            base | ESM_CLASS_UDHI
        } else {
            base
        }
    }
}

/// A text split into parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segmented {
    /// The encoding chosen.
    pub encoding: Encoding,
    /// The parts, in order; never empty.
    pub segments: Vec<Segment>,
    /// Transliterations applied (empty unless asked for and needed).
    pub transliterated: Vec<Change>,
}

/// Splits `text` into parts. `reference` ties the parts together; the caller draws it from a
/// per-destination counter (only its low 8 bits are used with [`ConcatMethod::Udh8`]).
pub fn split(text: &str, reference: u16, opts: &SegmentOptions) -> Result<Segmented, SegmentError> {
    split_prepared(plan::prepare(text, opts.transliterate), reference, opts)
}

/// [`split`] of a text already prepared (encoding chosen, transliterated if asked).
fn split_prepared(
    prepared: plan::Prepared<'_>,
    reference: u16,
    opts: &SegmentOptions,
) -> Result<Segmented, SegmentError> {
    let (text, encoding, units) = (prepared.text.as_ref(), prepared.encoding, prepared.units);
    let mut starts = vec![0];
    let layout = plan::layout(text, units, encoding, opts.method, |at| starts.push(at));
    if layout.segments > usize::from(opts.max_segments) {
        return Err(SegmentError::TooManySegments {
            needed: layout.segments,
            max: opts.max_segments,
        });
    }
    let total = layout.segments as u8;
    let reference = match opts.method {
        ConcatMethod::Udh8 => reference & 0xFF,
        _ => reference,
    };
    let mut segments = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let info = ConcatInfo {
            reference,
            total,
            seq: i as u8 + 1,
        };
        segments.push(build(&text[start..end], encoding, info, opts)?);
    }
    Ok(Segmented {
        encoding,
        segments,
        transliterated: prepared.changes,
    })
}

/// Encodes one part.
pub(crate) fn build(
    part: &str,
    encoding: Encoding,
    info: ConcatInfo,
    opts: &SegmentOptions,
) -> Result<Segment, SegmentError> {
    let concatenated = info.total > 1;
    let udhi = concatenated && opts.method != ConcatMethod::Sar;
    let mut short_message = Vec::with_capacity(140 + 20);
    if udhi {
        udh::write_concat(&mut short_message, info, opts.method == ConcatMethod::Udh16);
    }
    let header = short_message.len();
    let units = match encoding {
        Encoding::Gsm7 if opts.packed => {
            let septets = gsm7::encode(part)?;
            append_packed(&mut short_message, &septets);
            septets.len()
        }
        Encoding::Gsm7 => {
            gsm7::encode_into(part, &mut short_message)?;
            short_message.len() - header
        }
        Encoding::Ucs2 => {
            ucs2::encode_into(part, &mut short_message);
            (short_message.len() - header) / 2
        }
    };
    let sar = (concatenated && opts.method == ConcatMethod::Sar).then_some(Sar {
        msg_ref_num: info.reference,
        total_segments: info.total,
        segment_seqnum: info.seq,
    });
    Ok(Segment {
        short_message,
        udhi,
        data_coding: encoding.data_coding(),
        units,
        seq: info.seq,
        total: info.total,
        reference: info.reference,
        sar,
    })
}

/// Fill bits that put the text on a septet boundary after a UDH of `udh_len` octets
/// (TS 23.040 §9.2.3.24): 1 after 6 octets, 0 after 7.
pub fn fill_bits(udh_len: usize) -> u8 {
    ((7 - (udh_len * 8) % 7) % 7) as u8
}

/// Packs `septets` after the UDH already in `out`. When seven bits would be left spare, a
/// reader counting septets from octets would see a trailing '@'; TS 23.038 §6.1.2.3.1 pads
/// them with CR instead, which a receiver drops (see [`Reassembler`]).
fn append_packed(out: &mut Vec<u8>, septets: &[u8]) {
    let fill = fill_bits(out.len());
    let spare = (8 - (usize::from(fill) + septets.len() * 7) % 8) % 8;
    if spare == 7 {
        let mut padded = septets.to_vec();
        padded.push(0x0D);
        out.extend_from_slice(&gsm7::pack(&padded, fill));
    } else {
        out.extend_from_slice(&gsm7::pack(septets, fill));
    }
}
