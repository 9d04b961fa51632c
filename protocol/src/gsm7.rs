//! The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1, §6.2.1.1).
//!
//! Text is converted to *septets*, one value 0x00–0x7F per `u8`, the unpacked form most SMSCs
//! expect with `data_coding` 0x00 over SMPP. Characters of the extension table are sent as the
//! escape septet 0x1B followed by their code and so cost two septets. [`pack`] and [`unpack`]
//! convert to and from the 7-bit packed form of TS 23.038 §6.1.2.1.1.

mod pack;

pub use pack::{pack, packed_len, unpack, unpack_exact};

use thiserror::Error;

/// The escape septet that introduces a character of the extension table (TS 23.038 §6.2.1.1).
pub const ESC: u8 = 0x1B;

/// Errors of GSM-7 encoding and decoding.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Gsm7Error {
    /// A character has no code in the default alphabet or the extension table.
    #[error("character {ch:?} at position {position} is not in the GSM 7-bit alphabet")]
    Unencodable {
        /// The character.
        ch: char,
        /// Its index in the text, counted in Unicode scalar values.
        position: usize,
    },
    /// A septet value above 0x7F was found where septets were expected.
    #[error("value {value:#04x} at offset {offset} is not a septet")]
    NotASeptet {
        /// The byte.
        value: u8,
        /// Its offset in the input.
        offset: usize,
    },
    /// Packed input is too short for the number of septets asked for.
    #[error("{octets} octets with {fill_bits} fill bits cannot hold {septets} septets")]
    TooShort {
        /// Octets given.
        octets: usize,
        /// Fill bits given.
        fill_bits: u8,
        /// Septets asked for.
        septets: usize,
    },
}

/// The default alphabet, indexed by septet (TS 23.038 §6.2.1). 0x1B is the escape code; it
/// decodes to a space when nothing valid follows it, as the spec asks receivers to display.
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', ' ', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table (TS 23.038 §6.2.1.1): character and the code that follows ESC.
const EXTENSION: [(char, u8); 10] = [
    ('\u{0C}', 0x0A),
    ('^', 0x14),
    ('{', 0x28),
    ('}', 0x29),
    ('\\', 0x2F),
    ('[', 0x3C),
    ('~', 0x3D),
    (']', 0x3E),
    ('|', 0x40),
    ('€', 0x65),
];

/// Marks an entry of [`ASCII`] as an extension code; `NONE` marks a character without a code.
const EXT_FLAG: u8 = 0x80;
const NONE: u8 = 0xFF;

/// ASCII (and C0 controls) to septet, built at compile time so the hot path is one load.
const ASCII: [u8; 128] = build_ascii();

const fn build_ascii() -> [u8; 128] {
    let mut table = [NONE; 128];
    let mut septet = 0;
    while septet < 128 {
        let ch = BASIC[septet] as u32;
        // 0x1B decodes to a space for display only; the space itself is 0x20.
        if ch < 128 && septet != ESC as usize {
            table[ch as usize] = septet as u8;
        }
        septet += 1;
    }
    let mut i = 0;
    while i < EXTENSION.len() {
        let ch = EXTENSION[i].0 as usize;
        if ch < 128 {
            table[ch] = EXT_FLAG | EXTENSION[i].1;
        }
        i += 1;
    }
    table
}

/// How one character is written in GSM-7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GsmChar {
    /// A character of the default alphabet: one septet.
    Basic(u8),
    /// A character of the extension table: [`ESC`] then this code, two septets.
    Extended(u8),
}

impl GsmChar {
    /// Septets the character takes: 1 or 2.
    pub fn septets(self) -> usize {
        match self {
            GsmChar::Basic(_) => 1,
            GsmChar::Extended(_) => 2,
        }
    }
}

/// Looks a character up in the default alphabet and then in the extension table.
#[inline]
pub fn lookup(ch: char) -> Option<GsmChar> {
    let code = ch as u32;
    if code < 128 {
        return match ASCII[code as usize] {
            NONE => None,
            v if v & EXT_FLAG != 0 => Some(GsmChar::Extended(v & !EXT_FLAG)),
            v => Some(GsmChar::Basic(v)),
        };
    }
    // A match compiles to a branch tree; a scan of BASIC would cost 128 compares per UCS-2 char.
    let septet = match ch {
        '£' => 0x01,
        '¥' => 0x03,
        'è' => 0x04,
        'é' => 0x05,
        'ù' => 0x06,
        'ì' => 0x07,
        'ò' => 0x08,
        'Ç' => 0x09,
        'Ø' => 0x0B,
        'ø' => 0x0C,
        'Å' => 0x0E,
        'å' => 0x0F,
        'Δ' => 0x10,
        'Φ' => 0x12,
        'Γ' => 0x13,
        'Λ' => 0x14,
        'Ω' => 0x15,
        'Π' => 0x16,
        'Ψ' => 0x17,
        'Σ' => 0x18,
        'Θ' => 0x19,
        'Ξ' => 0x1A,
        'Æ' => 0x1C,
        'æ' => 0x1D,
        'ß' => 0x1E,
        'É' => 0x1F,
        '¤' => 0x24,
        '¡' => 0x40,
        'Ä' => 0x5B,
        'Ö' => 0x5C,
        'Ñ' => 0x5D,
        'Ü' => 0x5E,
        '§' => 0x5F,
        '¿' => 0x60,
        'ä' => 0x7B,
        'ö' => 0x7C,
        'ñ' => 0x7D,
        'ü' => 0x7E,
        'à' => 0x7F,
        '€' => return Some(GsmChar::Extended(0x65)),
        _ => return None,
    };
    Some(GsmChar::Basic(septet))
}

/// Septets `ch` costs in GSM-7 (1 or 2), or `None` when it cannot be encoded.
#[inline]
pub fn char_len(ch: char) -> Option<usize> {
    lookup(ch).map(GsmChar::septets)
}

/// True when every character of `text` can be sent in GSM-7.
pub fn is_gsm7(text: &str) -> bool {
    for_each_code(text, |_| {}).is_ok()
}

/// Length of `text` in septets (extension characters count two), or the first character that
/// does not fit.
pub fn septet_len(text: &str) -> Result<usize, Gsm7Error> {
    let mut total = 0;
    for_each_code(text, |code| total += code.septets())?;
    Ok(total)
}

/// Encodes `text` to unpacked septets.
pub fn encode(text: &str) -> Result<Vec<u8>, Gsm7Error> {
    let mut out = Vec::with_capacity(text.len());
    encode_into(text, &mut out)?;
    Ok(out)
}

/// Appends the unpacked septets of `text` to `out`. On error `out` may hold a partial result.
pub fn encode_into(text: &str, out: &mut Vec<u8>) -> Result<(), Gsm7Error> {
    for_each_code(text, |code| match code {
        GsmChar::Basic(s) => out.push(s),
        GsmChar::Extended(s) => out.extend_from_slice(&[ESC, s]),
    })
}

/// Calls `f` with the code of each character, or fails at the first that has none. ASCII bytes
/// take one table load without UTF-8 decoding: most traffic is ASCII, so this is the hot loop.
#[inline]
fn for_each_code(text: &str, mut f: impl FnMut(GsmChar)) -> Result<(), Gsm7Error> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (code, width) = if b < 0x80 {
            let v = ASCII[usize::from(b)];
            let code = match v {
                NONE => None,
                v if v & EXT_FLAG != 0 => Some(GsmChar::Extended(v & !EXT_FLAG)),
                v => Some(GsmChar::Basic(v)),
            };
            (code, 1)
        } else {
            // `i` is always on a character boundary: it only advances by whole characters.
            let ch = text[i..]
                .chars()
                .next()
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            (lookup(ch), ch.len_utf8())
        };
        match code {
            Some(code) => f(code),
            None => {
                let ch = text[i..]
                    .chars()
                    .next()
                    .unwrap_or(char::REPLACEMENT_CHARACTER);
                let position = text[..i].chars().count();
                return Err(Gsm7Error::Unencodable { ch, position });
            }
        }
        i += width;
    }
    Ok(())
}

/// Decodes unpacked septets to text.
///
/// Follows the receiver rules of TS 23.038 §6.2.1.1: an escape followed by a code the extension
/// table does not define shows the default-alphabet character of that code, and ESC ESC (reserved
/// for a further table) or a trailing ESC shows a space. Only values above 0x7F are errors.
pub fn decode(septets: &[u8]) -> Result<String, Gsm7Error> {
    let mut out = String::with_capacity(septets.len());
    let mut i = 0;
    while i < septets.len() {
        let s = septet_at(septets, i)?;
        if s != ESC {
            out.push(BASIC[s as usize]);
            i += 1;
            continue;
        }
        match septets.get(i + 1) {
            None => {
                out.push(' ');
                i += 1;
            }
            Some(_) => {
                let code = septet_at(septets, i + 1)?;
                let ext = EXTENSION
                    .iter()
                    .find(|&&(_, c)| c == code)
                    .map(|&(ch, _)| ch);
                out.push(ext.unwrap_or(BASIC[code as usize]));
                i += 2;
            }
        }
    }
    Ok(out)
}

fn septet_at(septets: &[u8], offset: usize) -> Result<u8, Gsm7Error> {
    let value = septets[offset];
    if value > 0x7F {
        return Err(Gsm7Error::NotASeptet { value, offset });
    }
    Ok(value)
}

#[cfg(test)]
mod tests;
