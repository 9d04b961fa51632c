//! The sender name a customer registers, parsed into one of three kinds:
//!
//! * **alphanumeric**: 3 to 11 characters, ASCII letters and digits with at least one letter,
//!   and single spaces between words. 3GPP TS 23.040 §9.1.2.5 lets the alphanumeric originator
//!   hold 11 GSM-7 characters, but operators filter most characters outside `A–Z a–z 0–9` and
//!   handsets render them inconsistently, so those are refused at registration rather than
//!   discovered at delivery. Spaces are accepted (operators pass them; some handsets collapse
//!   them, which the docs point out). A name of digits only is numeric, never alphanumeric.
//! * **short code**: 3 to 8 digits (separators such as spaces are dropped).
//! * **long number**: a `+` number (or more than 8 digits), parsed to E.164 by the protocol
//!   crate with the registration country as the default; it must belong to that country.

use semalink_protocol::msisdn::Msisdn;

use crate::sender_ids::types::SenderIdKind;

/// Longest alphanumeric sender (TS 23.040 §9.1.2.5: 11 GSM-7 characters).
pub const MAX_ALPHANUMERIC: usize = 11;
/// Shortest sender of any kind.
pub const MIN_LEN: usize = 3;
/// Longest short code, in digits.
pub const MAX_SHORT_CODE: usize = 8;

/// A valid sender name and its kind. Only [`SenderName::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderName {
    value: String,
    kind: SenderIdKind,
}

impl SenderName {
    /// Parses what the customer typed for a sender registered in `country` (ISO alpha-2).
    /// Surrounding spaces are ignored; the error says what is wrong, for the `name` field.
    pub fn parse(input: &str, country: &str) -> Result<SenderName, String> {
        let name = input.trim();
        if name.is_empty() {
            return Err("must not be empty".into());
        }
        // Digits with the separators people type in numbers (and no letter) are numeric.
        let numeric = name.bytes().any(|b| b.is_ascii_digit())
            && name
                .bytes()
                .all(|b| b.is_ascii_digit() || b" +-.()".contains(&b));
        if !numeric {
            return alphanumeric(name);
        }
        let digits: String = name.chars().filter(char::is_ascii_digit).collect();
        if name.starts_with('+') || digits.len() > MAX_SHORT_CODE {
            return long_number(name, country);
        }
        if digits.len() < MIN_LEN {
            return Err(format!(
                "a short code has {MIN_LEN} to {MAX_SHORT_CODE} digits"
            ));
        }
        Ok(SenderName {
            value: digits,
            kind: SenderIdKind::ShortCode,
        })
    }

    /// The normalised name (alphanumeric as typed, digits, or E.164).
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// What kind of sender it is.
    pub fn kind(&self) -> SenderIdKind {
        self.kind
    }
}

fn long_number(name: &str, country: &str) -> Result<SenderName, String> {
    let number = Msisdn::parse(name, Some(country)).map_err(|e| e.to_string())?;
    if number.country() != country {
        return Err(format!(
            "{number} is a number in {}, not in {country}",
            number.country()
        ));
    }
    Ok(SenderName {
        value: number.into_string(),
        kind: SenderIdKind::LongNumber,
    })
}

fn alphanumeric(name: &str) -> Result<SenderName, String> {
    let len = name.chars().count();
    if !(MIN_LEN..=MAX_ALPHANUMERIC).contains(&len) {
        return Err(format!(
            "an alphanumeric sender ID has {MIN_LEN} to {MAX_ALPHANUMERIC} characters"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && *c != ' ')
    {
        return Err(format!(
            "{bad:?} is not allowed: use letters A-Z, digits 0-9 and single spaces"
        ));
    }
    if name.contains("  ") {
        return Err("words are separated by a single space".into());
    }
    if !name.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err("an alphanumeric sender ID needs at least one letter".into());
    }
    Ok(SenderName {
        value: name.to_owned(),
        kind: SenderIdKind::Alphanumeric,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(input: &str) -> Result<(String, SenderIdKind), String> {
        SenderName::parse(input, "KE").map(|n| (n.as_str().to_owned(), n.kind()))
    }

    #[test]
    fn alphanumeric_rules() {
        assert_eq!(
            kind("  AcmeCorp ").unwrap(),
            ("AcmeCorp".into(), SenderIdKind::Alphanumeric)
        );
        assert!(kind("Sema Link").is_ok());
        assert!(kind("ABC").is_ok() && kind("A1B2C3D4E5F").is_ok());
        assert!(kind("AB").unwrap_err().contains("3 to 11"));
        assert!(kind("ABCDEFGHIJKL").unwrap_err().contains("3 to 11"));
        assert!(kind("Acme-Corp").unwrap_err().contains("'-'"));
        assert!(kind("Séma").is_err());
        assert!(kind("Sema  Link").unwrap_err().contains("single space"));
        assert!(kind("").is_err() && kind("   ").is_err());
    }

    #[test]
    fn numeric_senders() {
        assert_eq!(
            kind("22141").unwrap(),
            ("22141".into(), SenderIdKind::ShortCode)
        );
        assert!(kind("12").unwrap_err().contains("short code"));
        assert_eq!(kind("221 41").unwrap().0, "22141");
        assert_eq!(
            kind("+254 712 345 678").unwrap(),
            ("+254712345678".into(), SenderIdKind::LongNumber)
        );
        assert_eq!(kind("0712345678").unwrap().0, "+254712345678");
        // A Tanzanian number cannot be registered as a Kenyan sender.
        assert!(kind("+255754123456").unwrap_err().contains("TZ"));
        assert!(kind("+12").is_err());
        // Digits with a letter are alphanumeric, and need the letter.
        assert_eq!(kind("123A").unwrap().1, SenderIdKind::Alphanumeric);
    }
}
