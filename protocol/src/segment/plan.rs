//! Encoding choice, part capacities and the one rule that places part boundaries.
//!
//! The splitter and the analysis both count with [`walk`], so the number of parts the composer
//! shows is the number the engine sends. Capacities follow 3GPP TS 23.040 §9.2.3.24.1: 140
//! octets of user data hold 160 septets or 70 UCS-2 units; a 6-octet concatenation UDH leaves
//! 153 / 67, a 7-octet one 152 / 66.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::translit::{self, Change};
use crate::{gsm7, ucs2};

/// The alphabet a message is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// GSM 03.38 default alphabet with the extension table; `data_coding` 0x00.
    Gsm7,
    /// UTF-16BE; `data_coding` 0x08.
    Ucs2,
}

impl Encoding {
    /// The SMPP `data_coding` value (SMPP 3.4 §5.2.19): 0x00 SMSC default, 0x08 UCS-2.
    pub fn data_coding(self) -> u8 {
        match self {
            Encoding::Gsm7 => 0x00,
            Encoding::Ucs2 => 0x08,
        }
    }

    /// Units a message of one part can hold: 160 septets or 70 UTF-16 units.
    pub fn single_capacity(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }

    /// Units one part of a concatenated message can hold with this concatenation method.
    pub fn part_capacity(self, method: ConcatMethod) -> usize {
        match (self, method) {
            (Encoding::Gsm7, ConcatMethod::Udh16) => 152,
            (Encoding::Gsm7, _) => 153,
            (Encoding::Ucs2, ConcatMethod::Udh16) => 66,
            (Encoding::Ucs2, _) => 67,
        }
    }

    /// Units one character costs: septets (1, or 2 for the extension table) or UTF-16 units.
    #[inline]
    pub fn char_len(self, ch: char) -> usize {
        match self {
            // The encoding is chosen so that every character fits; 1 is never reached in practice.
            Encoding::Gsm7 => gsm7::char_len(ch).unwrap_or(1),
            Encoding::Ucs2 => ucs2::char_len(ch),
        }
    }
}

/// How the parts of a long message are tied together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcatMethod {
    /// A UDH with IEI 0x00 and an 8-bit reference (6 octets): 153 septets / 67 units per part.
    #[default]
    Udh8,
    /// A UDH with IEI 0x08 and a 16-bit reference (7 octets): 152 septets / 66 units per part.
    Udh16,
    /// No UDH; the `sar_msg_ref_num`, `sar_total_segments` and `sar_segment_seqnum` TLVs
    /// (SMPP 3.4 §5.3.2.22–24) and the SMSC builds the header, so parts hold 153 / 67.
    Sar,
}

/// The text that will be sent, its encoding and length, and the transliterations applied.
pub(crate) struct Prepared<'a> {
    pub text: Cow<'a, str>,
    pub encoding: Encoding,
    /// Septets or UTF-16 units of `text`.
    pub units: usize,
    pub changes: Vec<Change>,
}

/// GSM-7 when every character fits; otherwise, if allowed, transliteration when it makes every
/// character fit; otherwise UCS-2 with the text untouched (UCS-2 shows the original faithfully,
/// so a partial transliteration would only degrade it).
pub(crate) fn prepare(text: &str, transliterate: bool) -> Prepared<'_> {
    // Counting septets doubles as the "does it all fit" test: one pass.
    if let Ok(units) = gsm7::septet_len(text) {
        return Prepared {
            text: Cow::Borrowed(text),
            encoding: Encoding::Gsm7,
            units,
            changes: Vec::new(),
        };
    }
    if transliterate {
        let t = translit::transliterate(text);
        if let Ok(units) = gsm7::septet_len(&t.text) {
            return Prepared {
                text: Cow::Owned(t.text),
                encoding: Encoding::Gsm7,
                units,
                changes: t.changes,
            };
        }
    }
    Prepared {
        text: Cow::Borrowed(text),
        encoding: Encoding::Ucs2,
        units: ucs2::unit_len(text),
        changes: Vec::new(),
    }
}

/// How a text of known length lays out in parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Parts needed (at least 1: an empty message is still one submission).
    pub segments: usize,
    /// Capacity of each part.
    pub per_segment: usize,
    /// Units in the last part.
    pub last_units: usize,
}

/// Lays out `text` whose length is `units`, calling `on_break` with the byte offset where each
/// part after the first starts.
pub(crate) fn layout(
    text: &str,
    units: usize,
    encoding: Encoding,
    method: ConcatMethod,
    on_break: impl FnMut(usize),
) -> Layout {
    let single = encoding.single_capacity();
    if units <= single {
        return Layout {
            segments: 1,
            per_segment: single,
            last_units: units,
        };
    }
    let per_segment = encoding.part_capacity(method);
    let (segments, last_units) = walk(text, encoding, per_segment, on_break);
    Layout {
        segments,
        per_segment,
        last_units,
    }
}

/// Fills parts greedily; a character that does not fit whole (an escape pair, a surrogate pair)
/// starts the next part, so neither is ever split (TS 23.038 §6.2.1.1, TS 23.040 §9.2.3.24.1).
fn walk(
    text: &str,
    encoding: Encoding,
    capacity: usize,
    mut on_break: impl FnMut(usize),
) -> (usize, usize) {
    let mut segments = 1;
    let mut used = 0;
    for (offset, ch) in text.char_indices() {
        let cost = encoding.char_len(ch);
        if used + cost > capacity {
            on_break(offset);
            segments += 1;
            used = 0;
        }
        used += cost;
    }
    (segments, used)
}
