//! Text encodings of uploaded files: byte-order marks, UTF-16 transcoding, and the Windows-1252
//! fallback for files saved by older spreadsheet software.
//!
//! The CSV parser works on bytes; `,` `;` tab, quotes and line ends are ASCII, so it splits
//! UTF-8 and Windows-1252 input correctly without decoding first. UTF-16 is not
//! ASCII-compatible and is transcoded to UTF-8 on the way in ([`Utf16`]). Each field is then
//! decoded on its own ([`decode_field`]): in `auto` mode a field that is not valid UTF-8 is read
//! as Windows-1252 (a superset of the printable Latin-1 range, total over all bytes), so a
//! Latin-1 file imports with its accents instead of failing.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How the client says the file is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
pub enum RequestedEncoding {
    /// Detect: byte-order mark, else UTF-8 with a Windows-1252 fallback per field.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// UTF-8 only: a field that is not valid UTF-8 rejects its row.
    #[serde(rename = "utf-8")]
    Utf8,
    /// Windows-1252 (Latin-1 compatible) for every field.
    #[serde(rename = "windows-1252", alias = "latin-1", alias = "iso-8859-1")]
    Windows1252,
}

/// The encoding the file was read with, as reported on the import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8 (with or without a byte-order mark).
    Utf8,
    /// UTF-16 little endian (byte-order mark `FF FE`).
    Utf16le,
    /// UTF-16 big endian (byte-order mark `FE FF`).
    Utf16be,
    /// Windows-1252 for every field.
    Windows1252,
}

impl Encoding {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16le => "utf-16le",
            Encoding::Utf16be => "utf-16be",
            Encoding::Windows1252 => "windows-1252",
        }
    }
}

/// What the first bytes of the file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// The encoding to read with.
    pub encoding: Encoding,
    /// Bytes of byte-order mark to skip.
    pub bom_len: usize,
}

/// Reads the byte-order mark and refuses files that are plainly not CSV text. `head` is the
/// start of the file (up to a few KiB); the message says what the file looks like instead.
pub fn sniff(head: &[u8], requested: RequestedEncoding) -> Result<Sniffed, String> {
    let (encoding, bom_len) = match head {
        [0xEF, 0xBB, 0xBF, ..] => (Encoding::Utf8, 3),
        [0xFF, 0xFE, ..] => (Encoding::Utf16le, 2),
        [0xFE, 0xFF, ..] => (Encoding::Utf16be, 2),
        _ if requested == RequestedEncoding::Windows1252 => (Encoding::Windows1252, 0),
        _ => (Encoding::Utf8, 0),
    };
    if bom_len == 0 {
        if let Some(kind) = known_binary(head) {
            return Err(format!(
                "the file is {kind}, not CSV text: save or export it as CSV first"
            ));
        }
        if head.contains(&0) {
            return Err(
                "the file contains NUL bytes: it is binary, or UTF-16 without a byte-order mark \
                 (save it as UTF-8 CSV)"
                    .into(),
            );
        }
    }
    Ok(Sniffed { encoding, bom_len })
}

/// Magic numbers of the files people upload by mistake.
fn known_binary(head: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 6] = [
        (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook?)"),
        (b"\xD0\xCF\x11\xE0", "an old Excel (.xls) workbook"),
        (b"%PDF", "a PDF document"),
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"\x1F\x8B", "gzip-compressed"),
    ];
    MAGIC
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|(_, kind)| *kind)
}

/// Streaming UTF-16 → UTF-8 transcoder; chunks may split code units and surrogate pairs.
/// Unpaired surrogates become U+FFFD.
#[derive(Debug)]
pub struct Utf16 {
    big_endian: bool,
    odd_byte: Option<u8>,
    high: Option<u16>,
}

impl Utf16 {
    /// A transcoder for one byte order.
    pub fn new(big_endian: bool) -> Utf16 {
        Utf16 {
            big_endian,
            odd_byte: None,
            high: None,
        }
    }

    /// Transcodes `input`, appending UTF-8 to `out`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut bytes = input.iter().copied();
        loop {
            let first = match self.odd_byte.take() {
                Some(b) => b,
                None => match bytes.next() {
                    Some(b) => b,
                    None => return,
                },
            };
            let Some(second) = bytes.next() else {
                self.odd_byte = Some(first);
                return;
            };
            let unit = if self.big_endian {
                u16::from_be_bytes([first, second])
            } else {
                u16::from_le_bytes([first, second])
            };
            self.unit(unit, out);
        }
    }

    /// Flushes what is left at the end of the file.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.high.take().is_some() || self.odd_byte.take().is_some() {
            push_char(out, char::REPLACEMENT_CHARACTER);
        }
    }

    fn unit(&mut self, unit: u16, out: &mut Vec<u8>) {
        match (self.high.take(), unit) {
            (Some(high), 0xDC00..=0xDFFF) => {
                let c = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                push_char(
                    out,
                    char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER),
                );
            }
            (pending, 0xD800..=0xDBFF) => {
                if pending.is_some() {
                    push_char(out, char::REPLACEMENT_CHARACTER);
                }
                self.high = Some(unit);
            }
            (pending, _) => {
                if pending.is_some() {
                    push_char(out, char::REPLACEMENT_CHARACTER);
                }
                push_char(
                    out,
                    char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER),
                );
            }
        }
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// Windows-1252 code points of bytes 0x80–0x9F (the WHATWG mapping: the five unassigned
/// bytes map to the C1 control of the same value, so decoding never fails).
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
];

/// Decodes Windows-1252 bytes.
pub fn windows_1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// How one field was decoded.
#[derive(Debug, PartialEq, Eq)]
pub enum Field {
    /// Decoded text (NUL characters replaced, since PostgreSQL text cannot hold them).
    Text(String, FieldEncoding),
    /// Strict UTF-8 was asked for and the bytes are not UTF-8.
    NotUtf8,
}

/// Which decoding a field needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldEncoding {
    /// Valid UTF-8.
    Utf8,
    /// Read as Windows-1252.
    Windows1252,
}

/// Decodes one field's bytes under the file's encoding (`Encoding::Utf16*` input has been
/// transcoded to UTF-8 already).
pub fn decode_field(bytes: &[u8], encoding: Encoding, requested: RequestedEncoding) -> Field {
    let (text, how) = if encoding == Encoding::Windows1252 {
        (windows_1252(bytes), FieldEncoding::Windows1252)
    } else {
        match std::str::from_utf8(bytes) {
            Ok(s) => (s.to_owned(), FieldEncoding::Utf8),
            Err(_) if requested == RequestedEncoding::Utf8 => return Field::NotUtf8,
            Err(_) => (windows_1252(bytes), FieldEncoding::Windows1252),
        }
    };
    let text = if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text
    };
    Field::Text(text, how)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_marks() {
        let auto = RequestedEncoding::Auto;
        assert_eq!(sniff(b"\xEF\xBB\xBFphone", auto).unwrap().bom_len, 3);
        assert_eq!(
            sniff(b"\xFF\xFEp\0", auto).unwrap().encoding,
            Encoding::Utf16le
        );
        assert_eq!(
            sniff(b"\xFE\xFF\0p", auto).unwrap().encoding,
            Encoding::Utf16be
        );
        assert_eq!(sniff(b"phone\n", auto).unwrap().encoding, Encoding::Utf8);
    }

    #[test]
    fn binary_files_are_named() {
        let auto = RequestedEncoding::Auto;
        assert!(sniff(b"PK\x03\x04rest", auto).unwrap_err().contains("xlsx"));
        assert!(sniff(b"p\0h\0o\0", auto).unwrap_err().contains("NUL"));
    }

    #[test]
    fn utf16_split_anywhere() {
        let text = "name,phone\nZoë 😀,+254712345678\n";
        for big_endian in [false, true] {
            let bytes: Vec<u8> = text
                .encode_utf16()
                .flat_map(|u| {
                    if big_endian {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    }
                })
                .collect();
            for split in 0..bytes.len() {
                let mut t = Utf16::new(big_endian);
                let mut out = Vec::new();
                t.feed(&bytes[..split], &mut out);
                t.feed(&bytes[split..], &mut out);
                t.finish(&mut out);
                assert_eq!(String::from_utf8(out).unwrap(), text);
            }
        }
    }

    #[test]
    fn latin1_fields_fall_back() {
        let auto = RequestedEncoding::Auto;
        assert_eq!(
            decode_field(b"Jos\xE9 \x80", Encoding::Utf8, auto),
            Field::Text("José €".into(), FieldEncoding::Windows1252)
        );
        assert_eq!(
            decode_field("José".as_bytes(), Encoding::Utf8, auto),
            Field::Text("José".into(), FieldEncoding::Utf8)
        );
        assert_eq!(
            decode_field(b"Jos\xE9", Encoding::Utf8, RequestedEncoding::Utf8),
            Field::NotUtf8
        );
        assert_eq!(
            decode_field(b"a\0b", Encoding::Utf8, auto),
            Field::Text("a\u{FFFD}b".into(), FieldEncoding::Utf8)
        );
    }
}
