//! Scanner for the receipt text of SMPP 3.4 Appendix B:
//! `id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...`
//!
//! Tolerant by design, because every vendor bends the format: keys are matched ignoring case
//! (`Text:`, `STAT:`) at the start of a whitespace-separated token, in any order, with optional
//! spaces around the colon; `submit date` may be spelt `submit_date`, `submitdate` or
//! `submit-date` (likewise `done date`); unknown tokens and trailing text are skipped; a
//! repeated key keeps its first value. The scanner never allocates and never panics: every
//! index it slices at is next to an ASCII byte, hence a char boundary.
//!
//! `text:` is free text (the first characters of the message), so it runs to the end of the
//! input — except that, while `id` or `stat` are still missing (a vendor that put `text:` in the
//! middle), it stops at the next key not seen yet.

/// The fields a receipt text may carry, as raw slices of the input.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fields<'a> {
    pub id: Option<&'a str>,
    pub sub: Option<&'a str>,
    pub dlvrd: Option<&'a str>,
    pub submit_date: Option<&'a str>,
    pub done_date: Option<&'a str>,
    pub stat: Option<&'a str>,
    pub err: Option<&'a str>,
    pub text: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Id,
    Sub,
    Dlvrd,
    SubmitDate,
    DoneDate,
    Stat,
    Err,
    Text,
}

impl<'a> Fields<'a> {
    fn slot(&mut self, key: Key) -> &mut Option<&'a str> {
        match key {
            Key::Id => &mut self.id,
            Key::Sub => &mut self.sub,
            Key::Dlvrd => &mut self.dlvrd,
            Key::SubmitDate => &mut self.submit_date,
            Key::DoneDate => &mut self.done_date,
            Key::Stat => &mut self.stat,
            Key::Err => &mut self.err,
            Key::Text => &mut self.text,
        }
    }

    fn seen(&self, key: Key) -> bool {
        let mut copy = *self;
        copy.slot(key).is_some()
    }

    /// Whether any receipt field was found at all.
    pub fn is_empty(&self) -> bool {
        *self == Fields::default()
    }
}

/// Scans `input` for receipt fields. Empty values count as absent.
pub(crate) fn scan(input: &str) -> Fields<'_> {
    let b = input.as_bytes();
    let mut fields = Fields::default();
    let mut i = skip_ws(b, 0);
    while i < b.len() {
        let Some((key, after)) = key_at(b, i) else {
            i = skip_ws(b, token_end(b, i));
            continue;
        };
        let start = skip_ws(b, after);
        let end = match key {
            Key::Text => text_end(b, start, &fields),
            // `sub: dlvrd:001` — an empty value must not swallow the next key.
            _ if key_at(b, start).is_some() => start,
            _ => token_end(b, start),
        };
        let value = input[start..end].trim_end();
        let slot = fields.slot(key);
        if slot.is_none() && !value.is_empty() {
            *slot = Some(value);
        }
        i = skip_ws(b, end);
    }
    fields
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn token_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && !b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Where the `text:` value ends: the end of input, or the next unseen key while the receipt
/// still lacks `id` or `stat`.
fn text_end(b: &[u8], start: usize, fields: &Fields<'_>) -> usize {
    if fields.id.is_some() && fields.stat.is_some() {
        return b.len();
    }
    let mut i = start;
    while i < b.len() {
        if let Some((key, _)) = key_at(b, i)
            && key != Key::Text
            && !fields.seen(key)
        {
            return i;
        }
        i = skip_ws(b, token_end(b, i));
    }
    b.len()
}

/// Matches a key at `i` (a token start): the key word(s), optional blanks, then `:`.
/// Returns the key and the index just past the colon.
fn key_at(b: &[u8], i: usize) -> Option<(Key, usize)> {
    let (word, mut j) = word_at(b, i);
    let key = match word.len() {
        2 if word.eq_ignore_ascii_case(b"id") => Key::Id,
        3 if word.eq_ignore_ascii_case(b"sub") => Key::Sub,
        3 if word.eq_ignore_ascii_case(b"err") => Key::Err,
        4 if word.eq_ignore_ascii_case(b"stat") => Key::Stat,
        4 if word.eq_ignore_ascii_case(b"text") => Key::Text,
        5 if word.eq_ignore_ascii_case(b"dlvrd") => Key::Dlvrd,
        5 if word.eq_ignore_ascii_case(b"error") => Key::Err,
        6 if word.eq_ignore_ascii_case(b"status") => Key::Stat,
        _ => {
            let (stem, key) = if starts_with_ci(word, b"submit") {
                (6, Key::SubmitDate)
            } else if starts_with_ci(word, b"done") {
                (4, Key::DoneDate)
            } else {
                return None;
            };
            let rest = &word[stem..];
            let joined = match rest {
                [] => {
                    // `submit date`: the second word follows after blanks.
                    let k = skip_blanks(b, j);
                    let (second, end) = word_at(b, k);
                    if k == j || !second.eq_ignore_ascii_case(b"date") {
                        return None;
                    }
                    j = end;
                    true
                }
                [b'_' | b'-', tail @ ..] => tail.eq_ignore_ascii_case(b"date"),
                tail => tail.eq_ignore_ascii_case(b"date"),
            };
            if !joined {
                return None;
            }
            key
        }
    };
    let j = skip_blanks(b, j);
    (j < b.len() && b[j] == b':').then_some((key, j + 1))
}

/// A key word: ASCII letters, `_` and `-`.
fn word_at(b: &[u8], i: usize) -> (&[u8], usize) {
    let mut j = i;
    while j < b.len() && (b[j].is_ascii_alphabetic() || b[j] == b'_' || b[j] == b'-') {
        j += 1;
    }
    (&b[i..j], j)
}

/// Spaces and tabs only: a key never spans lines.
fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

fn starts_with_ci(word: &[u8], prefix: &[u8]) -> bool {
    word.len() >= prefix.len() && word[..prefix.len()].eq_ignore_ascii_case(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_text() {
        let f = scan(
            "id:0123456789 sub:001 dlvrd:001 submit date:2301311459 done date:2301311500 \
             stat:DELIVRD err:000 text:Hello world",
        );
        assert_eq!(f.id, Some("0123456789"));
        assert_eq!(f.sub, Some("001"));
        assert_eq!(f.dlvrd, Some("001"));
        assert_eq!(f.submit_date, Some("2301311459"));
        assert_eq!(f.done_date, Some("2301311500"));
        assert_eq!(f.stat, Some("DELIVRD"));
        assert_eq!(f.err, Some("000"));
        assert_eq!(f.text, Some("Hello world"));
    }

    #[test]
    fn key_spellings_case_and_spacing() {
        let f =
            scan("ID : abc  Submit_Date:2301311459\tDONEDATE:2301311500 STATUS:delivrd Error:5");
        assert_eq!(f.id, Some("abc"));
        assert_eq!(f.submit_date, Some("2301311459"));
        assert_eq!(f.done_date, Some("2301311500"));
        assert_eq!(f.stat, Some("delivrd"));
        assert_eq!(f.err, Some("5"));
        let f = scan("submit-date:1 done   date:2 submit:3 done:4 submitted date:5");
        assert_eq!((f.submit_date, f.done_date), (Some("1"), Some("2")));
    }

    #[test]
    fn empty_values_do_not_swallow_the_next_key() {
        let f = scan("id:7 sub: dlvrd:001 stat: err:000");
        assert_eq!(
            (f.sub, f.dlvrd, f.stat, f.err),
            (None, Some("001"), None, Some("000"))
        );
    }

    #[test]
    fn text_runs_to_the_end_once_id_and_stat_are_known() {
        let f = scan("id:1 stat:DELIVRD text:pay sub:5 err:9 now  ");
        assert_eq!(f.text, Some("pay sub:5 err:9 now"));
        assert_eq!((f.sub, f.err), (None, None));
    }

    #[test]
    fn text_in_the_middle_stops_at_a_missing_key() {
        let f = scan("text:hello there id:42 stat:UNDELIV");
        assert_eq!(f.text, Some("hello there"));
        assert_eq!((f.id, f.stat), (Some("42"), Some("UNDELIV")));
    }

    #[test]
    fn first_value_wins_and_noise_is_skipped() {
        let f = scan("noise id:1 xid:2 id:3 stat:DELIVRD idle:4");
        assert_eq!(f.id, Some("1"));
        assert!(scan("hello world").is_empty());
        assert!(scan("").is_empty());
        assert!(scan("id:").is_empty());
    }

    #[test]
    fn multibyte_input_is_sliced_safely() {
        let f = scan("id:é€ stat:ÄÖ text:日本語 ");
        assert_eq!(
            (f.id, f.stat, f.text),
            (Some("é€"), Some("ÄÖ"), Some("日本語"))
        );
    }
}
