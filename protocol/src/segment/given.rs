//! Splitting with the caller's choices: a forced alphabet ([`split_as`], the `encoding` hint
//! of a submit request) and parts the caller already cut ([`split_given`], a pre-split body:
//! each part is sent as one SMS exactly as given, never cut again).

use std::borrow::Cow;

use super::plan::{self, Encoding, Prepared};
use super::udh::ConcatInfo;
use super::{ConcatMethod, SegmentError, SegmentOptions, Segmented, build, split_prepared};
use crate::gsm7::{self, Gsm7Error};
use crate::{translit, ucs2};

/// Like [`super::split`], with the alphabet chosen by the caller: `None` chooses as `split`
/// does; `Some(Gsm7)` transliterates when needed and fails on a character GSM-7 cannot hold
/// even then; `Some(Ucs2)` sends UCS-2 whatever the text.
pub fn split_as(
    text: &str,
    reference: u16,
    opts: &SegmentOptions,
    encoding: Option<Encoding>,
) -> Result<Segmented, SegmentError> {
    let prepared = match encoding {
        None => plan::prepare(text, opts.transliterate),
        Some(Encoding::Gsm7) => gsm7_only(text)?,
        Some(Encoding::Ucs2) => Prepared {
            text: Cow::Borrowed(text),
            encoding: Encoding::Ucs2,
            units: ucs2::unit_len(text),
            changes: Vec::new(),
        },
    };
    split_prepared(prepared, reference, opts)
}

/// `text` in GSM-7, transliterated if it has to be; the first character that still does not
/// fit is the error.
fn gsm7_only(text: &str) -> Result<Prepared<'_>, Gsm7Error> {
    if let Ok(units) = gsm7::septet_len(text) {
        return Ok(Prepared {
            text: Cow::Borrowed(text),
            encoding: Encoding::Gsm7,
            units,
            changes: Vec::new(),
        });
    }
    let t = translit::transliterate(text);
    let units = gsm7::septet_len(&t.text)?;
    Ok(Prepared {
        text: Cow::Owned(t.text),
        encoding: Encoding::Gsm7,
        units,
        changes: t.changes,
    })
}

/// Encodes pre-split `parts`, one SMS each, in the given order. The alphabet is the hint's,
/// or GSM-7 when every part fits it and UCS-2 otherwise (one alphabet for all parts, so the
/// recipient's phone joins them). A part longer than one SMS holds is an error naming it.
pub fn split_given(
    parts: &[String],
    reference: u16,
    opts: &SegmentOptions,
    encoding: Option<Encoding>,
) -> Result<Segmented, SegmentError> {
    if parts.len() > usize::from(opts.max_segments) || parts.is_empty() {
        return Err(SegmentError::TooManySegments {
            needed: parts.len(),
            max: opts.max_segments,
        });
    }
    let fits_gsm7 = || parts.iter().all(|p| gsm7::septet_len(p).is_ok());
    let encoding = match encoding {
        Some(e) => e,
        None if fits_gsm7() => Encoding::Gsm7,
        None => Encoding::Ucs2,
    };
    let mut texts = Vec::with_capacity(parts.len());
    for part in parts {
        texts.push(match encoding {
            Encoding::Gsm7 => gsm7_only(part)?.text,
            Encoding::Ucs2 => Cow::Borrowed(part.as_str()),
        });
    }
    let total = parts.len() as u8;
    let capacity = if total == 1 {
        encoding.single_capacity()
    } else {
        encoding.part_capacity(opts.method)
    };
    let reference = match opts.method {
        ConcatMethod::Udh8 => reference & 0xFF,
        _ => reference,
    };
    let mut segments = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let units = match encoding {
            Encoding::Gsm7 => gsm7::septet_len(text)?,
            Encoding::Ucs2 => ucs2::unit_len(text),
        };
        if units > capacity {
            return Err(SegmentError::PartTooLong {
                part: i + 1,
                units,
                capacity,
            });
        }
        let info = ConcatInfo {
            reference,
            total,
            seq: i as u8 + 1,
        };
        segments.push(build(text, encoding, info, opts)?);
    }
    Ok(Segmented {
        encoding,
        segments,
        transliterated: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::split;

    #[test]
    fn the_hint_forces_the_alphabet() {
        let opts = SegmentOptions::default();
        let ucs2 = split_as("Hello", 1, &opts, Some(Encoding::Ucs2)).unwrap();
        assert_eq!(ucs2.encoding, Encoding::Ucs2);
        assert_eq!(ucs2.segments[0].short_message, b"\0H\0e\0l\0l\0o");
        // Curly quotes fit GSM-7 once transliterated; auto would have chosen UCS-2.
        assert_eq!(
            split("it’s", 1, &opts).unwrap().encoding,
            Encoding::Ucs2,
            "auto without transliteration"
        );
        let gsm = split_as("it’s", 1, &opts, Some(Encoding::Gsm7)).unwrap();
        assert_eq!(gsm.encoding, Encoding::Gsm7);
        assert_eq!(gsm.segments[0].short_message, b"it's");
        assert!(matches!(
            split_as("Привет", 1, &opts, Some(Encoding::Gsm7)),
            Err(SegmentError::Gsm7(_))
        ));
        assert_eq!(
            split_as("Hi", 1, &opts, None).unwrap(),
            split("Hi", 1, &opts).unwrap()
        );
    }

    #[test]
    fn given_parts_are_sent_as_given() {
        let opts = SegmentOptions::default();
        let parts = vec!["first part, ".to_owned(), "second".to_owned()];
        let s = split_given(&parts, 0x1234, &opts, None).unwrap();
        assert_eq!(s.segments.len(), 2, "never joined into one");
        assert_eq!(s.encoding, Encoding::Gsm7);
        assert_eq!(&s.segments[0].short_message[..6], &[5, 0, 3, 0x34, 2, 1]);
        assert_eq!(&s.segments[0].short_message[6..], b"first part, ");
        assert_eq!(&s.segments[1].short_message[6..], b"second");
        // One UCS-2 part makes every part UCS-2.
        let mixed = vec!["a".to_owned(), "б".to_owned()];
        let s = split_given(&mixed, 1, &opts, None).unwrap();
        assert!(s.segments.iter().all(|p| p.data_coding == 0x08));
        // A single part is one SMS without a UDH.
        let one = split_given(&["x".repeat(160)], 1, &opts, None).unwrap();
        assert!(!one.segments[0].udhi);
    }

    #[test]
    fn a_part_over_one_sms_is_named() {
        let opts = SegmentOptions::default();
        let parts = vec!["a".to_owned(), "b".repeat(154)];
        assert_eq!(
            split_given(&parts, 1, &opts, None),
            Err(SegmentError::PartTooLong {
                part: 2,
                units: 154,
                capacity: 153
            })
        );
        let ucs2 = vec!["ж".repeat(71)];
        assert!(matches!(
            split_given(&ucs2, 1, &opts, None),
            Err(SegmentError::PartTooLong { capacity: 70, .. })
        ));
    }
}
