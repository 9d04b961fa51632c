//! Message analysis for the composer and for pricing: encoding, length, parts and room left.
//!
//! The part count comes from the same layout rule the splitter uses
//! (`segment::plan::layout`), so the price shown is the price charged. Characters that force
//! UCS-2 are listed with their positions, and with the GSM-7 replacement transliteration would
//! use, so the composer can point at the one ’ that doubles the cost.

use std::collections::HashMap;

use serde::Serialize;

use crate::gsm7;
use crate::segment::SegmentOptions;
use crate::segment::plan;
use crate::translit::{self, Change};

pub use crate::segment::Encoding;

/// A character outside GSM-7 and where it occurs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NonGsmChar {
    /// The character.
    #[serde(rename = "char")]
    pub ch: char,
    /// Its positions in the text, in Unicode scalar values, ascending.
    pub positions: Vec<usize>,
    /// What transliteration would put instead, if it knows a replacement.
    pub replacement: Option<&'static str>,
}

/// What a text costs to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Analysis {
    /// `gsm7` or `ucs2`.
    pub encoding: Encoding,
    /// Unicode scalar values in the text as given.
    pub characters: usize,
    /// Septets (GSM-7, extension characters count two) or UTF-16 units (UCS-2) of the text
    /// as it will be sent.
    pub units: usize,
    /// Parts needed; 1 for an empty text.
    pub segments: usize,
    /// Capacity of each part: 160 / 70 for one part, else 153 / 67 (152 / 66 with 16-bit
    /// references).
    pub per_segment: usize,
    /// Units still free in the last part.
    pub remaining: usize,
    /// Characters that forced UCS-2, in order of first appearance; empty for GSM-7.
    pub non_gsm: Vec<NonGsmChar>,
    /// Replacements made when transliteration was asked for and kept the text in GSM-7.
    pub transliterated: Vec<Change>,
}

/// Analyses `text` as it would be sent with the default options: 8-bit references, no
/// transliteration.
pub fn analyze(text: &str) -> Analysis {
    analyze_with(text, &SegmentOptions::default())
}

/// Analyses `text` with the concatenation method and transliteration setting of `opts`
/// (packing and the part limit do not change the count and are ignored).
pub fn analyze_with(text: &str, opts: &SegmentOptions) -> Analysis {
    // The common case, all GSM-7, needs no bookkeeping of culprits.
    if let Ok(septets) = gsm7::septet_len(text) {
        return Analysis {
            characters: text.chars().count(),
            ..layout(text, Encoding::Gsm7, septets, opts)
        };
    }
    let scan = Scan::of(text);
    if opts.transliterate {
        let t = translit::transliterate(text);
        if let Ok(septets) = gsm7::septet_len(&t.text) {
            return Analysis {
                characters: scan.characters,
                transliterated: t.changes,
                ..layout(&t.text, Encoding::Gsm7, septets, opts)
            };
        }
    }
    Analysis {
        characters: scan.characters,
        non_gsm: scan.non_gsm,
        ..layout(text, Encoding::Ucs2, scan.utf16, opts)
    }
}

/// The counts that depend only on the text as sent; the caller fills in the rest.
fn layout(sent: &str, encoding: Encoding, units: usize, opts: &SegmentOptions) -> Analysis {
    let layout = plan::layout(sent, units, encoding, opts.method, |_| {});
    Analysis {
        encoding,
        characters: 0,
        units,
        segments: layout.segments,
        per_segment: layout.per_segment,
        remaining: layout.per_segment - layout.last_units,
        non_gsm: Vec::new(),
        transliterated: Vec::new(),
    }
}

/// One pass over a text that needs UCS-2, counting and collecting the non-GSM characters.
struct Scan {
    characters: usize,
    utf16: usize,
    non_gsm: Vec<NonGsmChar>,
}

impl Scan {
    fn of(text: &str) -> Scan {
        let mut scan = Scan {
            characters: 0,
            utf16: 0,
            non_gsm: Vec::new(),
        };
        let mut index: HashMap<char, usize> = HashMap::new();
        for (position, ch) in text.chars().enumerate() {
            scan.characters += 1;
            scan.utf16 += ch.len_utf16();
            if gsm7::lookup(ch).is_none() {
                let slot = *index.entry(ch).or_insert_with(|| {
                    scan.non_gsm.push(NonGsmChar {
                        ch,
                        positions: Vec::new(),
                        replacement: translit::replacement(ch),
                    });
                    scan.non_gsm.len() - 1
                });
                scan.non_gsm[slot].positions.push(position);
            }
        }
        scan
    }
}

#[cfg(test)]
mod tests;
