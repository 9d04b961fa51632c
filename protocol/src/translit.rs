//! Optional transliteration of look-alike characters into the GSM 7-bit alphabet.
//!
//! One typographic apostrophe (’) pasted from a word processor forces the whole message into
//! UCS-2, which holds 70 characters per part instead of 160: more than twice the price. This
//! module maps such characters (curly quotes, dashes, ellipsis, exotic spaces, bullets, accented
//! letters GSM-7 lacks, Greek capitals that look Latin) to GSM-7 text and reports each change
//! so the composer can show it. Characters that GSM-7 already has are never touched.

use serde::Serialize;

use crate::gsm7;

/// One character that transliteration replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Index of the character in the original text, in Unicode scalar values.
    pub position: usize,
    /// The original character.
    #[serde(rename = "char")]
    pub original: char,
    /// What it became; empty when the character was dropped (zero-width marks, soft hyphen).
    pub replacement: &'static str,
}

/// A transliterated text and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transliterated {
    /// The text after replacement.
    pub text: String,
    /// Every replacement, in text order.
    pub changes: Vec<Change>,
}

impl Transliterated {
    /// True when the result fits GSM-7 entirely: only then is transliterating worth it.
    pub fn is_gsm7(&self) -> bool {
        gsm7::is_gsm7(&self.text)
    }
}

/// The GSM-7 replacement for a character outside GSM-7, if there is a good one.
pub fn replacement(ch: char) -> Option<&'static str> {
    let r = match ch {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{00B4}' | '`'
        | '\u{02BB}' | '\u{02BC}' | '\u{2039}' | '\u{203A}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => "\"",
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
        | '\u{2212}' => "-",
        '\u{2026}' => "...",
        '\t' | '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => " ",
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => "",
        '\u{2022}' | '\u{2023}' | '\u{2043}' | '\u{25CF}' | '\u{25AA}' | '\u{25E6}' => "-",
        '\u{00B7}' => ".",
        '\u{2122}' => "TM",
        '\u{00A9}' => "(C)",
        '\u{00AE}' => "(R)",
        '\u{00D7}' => "x",
        '\u{00F7}' => "/",
        '\u{2264}' => "<=",
        '\u{2265}' => ">=",
        'á' | 'â' | 'ã' | 'ā' | 'ą' => "a",
        'Á' | 'Â' | 'Ã' | 'À' | 'Ā' | 'Ą' => "A",
        'ç' | 'č' | 'ć' => "c",
        'Č' | 'Ć' => "C",
        'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'Ê' | 'È' | 'Ë' | 'Ē' | 'Ę' | 'Ě' => "E",
        'í' | 'î' | 'ï' | 'ī' => "i",
        'Í' | 'Î' | 'Ì' | 'Ï' | 'Ī' => "I",
        'ó' | 'ô' | 'õ' | 'ō' => "o",
        'Ó' | 'Ô' | 'Õ' | 'Ò' | 'Ō' => "O",
        'ú' | 'û' | 'ū' => "u",
        'Ú' | 'Û' | 'Ù' | 'Ū' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' => "Y",
        'ł' => "l",
        'Ł' => "L",
        'ń' | 'ň' => "n",
        'š' | 'ś' => "s",
        'Š' | 'Ś' => "S",
        'ž' | 'ź' | 'ż' => "z",
        'Ž' | 'Ź' | 'Ż' => "Z",
        'œ' => "oe",
        'Œ' => "OE",
        // Greek capitals drawn like Latin ones; GSM-7 has only the other Greek capitals.
        'Α' => "A",
        'Β' => "B",
        'Ε' => "E",
        'Ζ' => "Z",
        'Η' => "H",
        'Ι' => "I",
        'Κ' => "K",
        'Μ' => "M",
        'Ν' => "N",
        'Ο' => "O",
        'Ρ' => "P",
        'Τ' => "T",
        'Υ' => "Y",
        'Χ' => "X",
        _ => return None,
    };
    Some(r)
}

/// Replaces every character outside GSM-7 that has a replacement; others stay as they are.
pub fn transliterate(text: &str) -> Transliterated {
    let mut out = String::with_capacity(text.len());
    let mut changes = Vec::new();
    for (position, ch) in text.chars().enumerate() {
        if gsm7::lookup(ch).is_some() {
            out.push(ch);
            continue;
        }
        match replacement(ch) {
            Some(r) => {
                out.push_str(r);
                changes.push(Change {
                    position,
                    original: ch,
                    replacement: r,
                });
            }
            None => out.push(ch),
        }
    }
    Transliterated { text: out, changes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_apostrophe_no_longer_forces_ucs2() {
        let t = transliterate("It’s “done” – see…");
        assert_eq!(t.text, "It's \"done\" - see...");
        assert!(t.is_gsm7());
        assert_eq!(
            t.changes,
            vec![
                Change {
                    position: 2,
                    original: '’',
                    replacement: "'"
                },
                Change {
                    position: 5,
                    original: '“',
                    replacement: "\""
                },
                Change {
                    position: 10,
                    original: '”',
                    replacement: "\""
                },
                Change {
                    position: 12,
                    original: '–',
                    replacement: "-"
                },
                Change {
                    position: 17,
                    original: '…',
                    replacement: "..."
                },
            ]
        );
    }

    #[test]
    fn spaces_bullets_and_invisible_marks() {
        let t = transliterate("a\u{00A0}b\u{200B}c\u{2022}d\te");
        assert_eq!(t.text, "a bc-d e");
        assert_eq!(t.changes.len(), 4);
        assert_eq!(t.changes[1].replacement, "");
    }

    #[test]
    fn gsm_characters_and_unknown_ones_are_kept() {
        let t = transliterate("é è € Δ 😀 中");
        assert_eq!(t.text, "é è € Δ 😀 中");
        assert!(t.changes.is_empty());
        assert!(!t.is_gsm7());
    }

    #[test]
    fn changes_serialize_with_char_field() {
        let t = transliterate("’");
        let json = serde_json::to_string(&t.changes).unwrap();
        assert_eq!(json, r#"[{"position":0,"char":"’","replacement":"'"}]"#);
    }

    proptest! {
        #[test]
        fn every_replacement_is_gsm7(text in any::<String>()) {
            let t = transliterate(&text);
            for c in &t.changes {
                prop_assert!(gsm7::is_gsm7(c.replacement));
                prop_assert_eq!(text.chars().nth(c.position), Some(c.original));
            }
            // Text without changes is untouched.
            if t.changes.is_empty() {
                prop_assert_eq!(&t.text, &text);
            }
        }
    }
}
