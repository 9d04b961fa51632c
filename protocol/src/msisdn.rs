//! E.164 numbers (ITU-T E.164): parse what people type into a validated [`Msisdn`].
//!
//! Parsing and validation use the numbering-plan metadata of libphonenumber (the `phonenumber`
//! crate) rather than hand-written per-country rules, so a number is accepted only if its
//! country's plan says it exists. What this module adds is the forgiving front end: separators
//! (spaces, dashes, dots, parentheses), `00` international prefixes, and international numbers
//! typed without their `+` (`254712345678`), which are common in spreadsheets and CRM exports.

use std::fmt;
use std::str::FromStr;

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use phonenumber::{ParseError, country};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest possible E.164 number, in digits (ITU-T E.164 §6).
const MAX_DIGITS: usize = 15;

/// A valid E.164 number, held as `+` followed by its digits (e.g. `+254712345678`).
///
/// Only [`Msisdn::parse`] (and the `FromStr`/serde impls built on it) create one, so holding an
/// `Msisdn` means the number passed the numbering-plan check of its country.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Msisdn {
    e164: String,
    /// Digits of the country calling code (1 to 3).
    code_len: u8,
    /// ISO 3166-1 alpha-2 region from libphonenumber's metadata (static data).
    country: &'static str,
    line_type: LineType,
}

/// What kind of line a number belongs to, from the country's numbering plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineType {
    /// A mobile number: can receive SMS.
    Mobile,
    /// A fixed (landline) number: usually cannot receive SMS.
    FixedLine,
    /// The plan does not tell mobile and fixed apart (e.g. +1): may receive SMS.
    FixedLineOrMobile,
    /// Anything else valid: toll-free, premium, VoIP, pager, UAN, shared cost, ...
    Other,
}

impl LineType {
    /// Whether an SMS to this kind of line can reach a handset.
    pub fn can_receive_sms(self) -> bool {
        matches!(self, LineType::Mobile | LineType::FixedLineOrMobile)
    }
}

/// Why a number could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsisdnError {
    /// Nothing but separators.
    #[error("phone number is empty")]
    Empty,
    /// A character that is neither a digit nor an accepted separator.
    #[error(
        "invalid character {0:?} in phone number: only digits, spaces and + - . ( ) are allowed"
    )]
    InvalidCharacter(char),
    /// The default country is not an ISO 3166-1 alpha-2 code libphonenumber knows.
    #[error("unknown country {0:?}: expected an ISO 3166-1 alpha-2 code such as KE")]
    UnknownCountry(String),
    /// A national number (leading `0`) was given without a default country.
    #[error("{0:?} is a national number: give it with +country code or set a default country")]
    NeedsCountry(String),
    /// No country calling code starts the number.
    #[error("{0:?} does not start with a known country calling code")]
    UnknownCallingCode(String),
    /// Too few digits to be a number.
    #[error("{0:?} is too short to be a phone number")]
    TooShort(String),
    /// Too many digits to be a number.
    #[error("{0:?} is too long to be a phone number")]
    TooLong(String),
    /// Well formed, but the country's numbering plan has no such number.
    #[error("{number} is not a valid number in {country}")]
    NotValid {
        /// The number as understood, in E.164.
        number: String,
        /// The country whose plan rejected it (ISO alpha-2, or the calling code).
        country: String,
    },
}

impl Msisdn {
    /// Parses what people type, with `default_country` (ISO 3166-1 alpha-2, any case) for
    /// national forms such as `0712 345 678` or `712345678`.
    ///
    /// Accepted: `+254712345678`, `00254712345678`, `254712345678` (international without `+`,
    /// with or without a default country), national forms given a default country, and any of
    /// these with spaces, dashes, dots or parentheses. Digits without `+` or trunk `0` that are
    /// not valid in the default country are tried as international (`255754123456` with `KE`
    /// is the Tanzanian number), so lists mixing countries parse with one default.
    pub fn parse(input: &str, default_country: Option<&str>) -> Result<Self, MsisdnError> {
        let region = default_country.map(parse_region).transpose()?;
        let typed = Typed::clean(input)?;
        let international = format!("+{}", typed.digits);
        if typed.plus {
            return from_phonenumber(None, &international, input);
        }
        match region {
            // The country's own rules first (they strip the trunk `0` and a leading calling code
            // of that country); then, for a number that is not a national form, international.
            Some(region) => match from_phonenumber(Some(region), &typed.digits, input) {
                Ok(number) => Ok(number),
                Err(first) if !typed.digits.starts_with('0') => {
                    from_phonenumber(None, &international, input).map_err(|_| first)
                }
                Err(first) => Err(first),
            },
            None if typed.digits.starts_with('0') => {
                Err(MsisdnError::NeedsCountry(input.trim().to_owned()))
            }
            None => from_phonenumber(None, &international, input),
        }
    }

    /// The number in E.164 with its `+`, e.g. `+254712345678`.
    pub fn as_str(&self) -> &str {
        &self.e164
    }

    /// The digits without `+`, e.g. `254712345678` (the SMPP `destination_addr` with TON 1).
    pub fn digits(&self) -> &str {
        &self.e164[1..]
    }

    /// The country calling code's digits, e.g. `254`.
    pub fn calling_code(&self) -> &str {
        &self.e164[1..1 + usize::from(self.code_len)]
    }

    /// The ISO 3166-1 alpha-2 country, e.g. `KE`.
    pub fn country(&self) -> &'static str {
        self.country
    }

    /// The national significant number (after the calling code), e.g. `712345678`.
    pub fn national(&self) -> &str {
        &self.e164[1 + usize::from(self.code_len)..]
    }

    /// Mobile, fixed line, ... according to the country's numbering plan.
    pub fn line_type(&self) -> LineType {
        self.line_type
    }

    /// The E.164 string with its `+`, by value.
    pub fn into_string(self) -> String {
        self.e164
    }
}

/// The input reduced to its digits, remembering a leading `+` (or `00`).
struct Typed {
    plus: bool,
    digits: String,
}

impl Typed {
    fn clean(input: &str) -> Result<Self, MsisdnError> {
        let trimmed = input.trim();
        let (mut plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let mut digits = String::with_capacity(rest.len());
        for ch in rest.chars() {
            match ch {
                '0'..='9' => digits.push(ch),
                '-' | '.' | '(' | ')' | '/' => {}
                c if c.is_whitespace() => {}
                c => return Err(MsisdnError::InvalidCharacter(c)),
            }
        }
        if digits.is_empty() {
            return Err(MsisdnError::Empty);
        }
        // Two or more leading zeros are an international prefix (00 in most of Africa, 000 in
        // KE/UG/TZ): no national number starts with 00, and no calling code starts with 0.
        if !plus && digits.starts_with("00") {
            digits = digits.trim_start_matches('0').to_owned();
            plus = true;
            if digits.is_empty() {
                return Err(MsisdnError::TooShort(input.trim().to_owned()));
            }
        }
        // E.164 §6: at most 15 digits including the calling code (a trunk `0` fits within it).
        if digits.len() > MAX_DIGITS {
            return Err(MsisdnError::TooLong(input.trim().to_owned()));
        }
        Ok(Typed { plus, digits })
    }
}

fn parse_region(code: &str) -> Result<country::Id, MsisdnError> {
    let upper = code.trim().to_ascii_uppercase();
    upper
        .parse::<country::Id>()
        .map_err(|_| MsisdnError::UnknownCountry(code.to_owned()))
}

/// Runs libphonenumber's parser and validator and builds the `Msisdn`.
fn from_phonenumber(
    region: Option<country::Id>,
    text: &str,
    input: &str,
) -> Result<Msisdn, MsisdnError> {
    let shown = || input.trim().to_owned();
    let number = phonenumber::parse(region, text).map_err(|e| match e {
        ParseError::InvalidCountryCode => MsisdnError::UnknownCallingCode(shown()),
        ParseError::TooLong => MsisdnError::TooLong(shown()),
        _ => MsisdnError::TooShort(shown()),
    })?;
    let code = number.code().value();
    // The national number's Display keeps leading zeros (Cote d'Ivoire's 07...); "+code" then
    // national is exactly what libphonenumber's E.164 formatter writes, without its lookups.
    let national = number.national().to_string();
    let e164 = format!("+{code}{national}");
    let not_valid = |country: String| MsisdnError::NotValid {
        number: e164.clone(),
        country,
    };
    let Some(meta) = number.metadata(&DATABASE) else {
        let country = region.map_or_else(|| format!("+{code}"), |r| r.as_ref().to_owned());
        return Err(not_valid(country));
    };
    let country = meta.id();
    // "001" is libphonenumber's region for non-geographic codes (+800, +882, ...): no SMS route.
    if country.len() != 2 {
        return Err(not_valid(format!("+{code}")));
    }
    let Some(line_type) = classify(meta, &national) else {
        return Err(not_valid(country.to_owned()));
    };
    let code_len = code.to_string().len() as u8;
    Ok(Msisdn {
        e164,
        code_len,
        country,
        line_type,
    })
}

/// The number's line type, or `None` if the country's plan has no such number (invalid).
///
/// libphonenumber's `getNumberType` order. Done here rather than with the crate's
/// `PhoneNumber::number_type`, which drops the national number's leading zeros (0.3.10) and so
/// rejects every Ivorian mobile number.
fn classify(meta: &Metadata, national: &str) -> Option<LineType> {
    let d = meta.descriptors();
    let matches = |desc: Option<&Descriptor>| desc.is_some_and(|d| d.is_match(national));
    if !d.general().is_match(national) {
        return None;
    }
    let special = [
        d.premium_rate(),
        d.toll_free(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ];
    if special.into_iter().any(matches) {
        return Some(LineType::Other);
    }
    match (matches(d.fixed_line()), matches(d.mobile())) {
        (true, true) => Some(LineType::FixedLineOrMobile),
        (true, false) => Some(LineType::FixedLine),
        (false, true) => Some(LineType::Mobile),
        (false, false) => None,
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl FromStr for Msisdn {
    type Err = MsisdnError;

    /// Parses an international number (no default country).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Msisdn::parse(s, None)
    }
}

impl AsRef<str> for Msisdn {
    fn as_ref(&self) -> &str {
        &self.e164
    }
}

impl Serialize for Msisdn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.e164)
    }
}

impl<'de> Deserialize<'de> for Msisdn {
    /// Accepts an international number and validates it like [`Msisdn::parse`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Msisdn::parse(&text, None).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str, country: Option<&str>) -> Msisdn {
        Msisdn::parse(input, country).unwrap_or_else(|e| panic!("{input:?} {country:?}: {e}"))
    }

    #[test]
    fn accessors_slice_the_e164_string() {
        let n = ok("254712345678", None);
        assert_eq!(n.as_str(), "+254712345678");
        assert_eq!(n.digits(), "254712345678");
        assert_eq!(
            (n.country(), n.calling_code(), n.national()),
            ("KE", "254", "712345678")
        );
        assert_eq!(n.line_type(), LineType::Mobile);
        assert_eq!(n.to_string(), n.as_ref());
    }

    #[test]
    fn default_country_is_case_insensitive_and_checked() {
        assert_eq!(ok("0712345678", Some("ke")).country(), "KE");
        assert_eq!(
            Msisdn::parse("0712345678", Some("XX")),
            Err(MsisdnError::UnknownCountry("XX".into()))
        );
    }

    #[test]
    fn fixed_lines_are_valid_but_marked() {
        let nairobi = ok("020 2222222", Some("KE"));
        assert_eq!(nairobi.as_str(), "+254202222222");
        assert_eq!(nairobi.line_type(), LineType::FixedLine);
        assert!(!nairobi.line_type().can_receive_sms());
    }

    #[test]
    fn leading_zeros_of_the_national_number_are_kept() {
        // Cote d'Ivoire's 10-digit plan (2021) starts mobile numbers with 0.
        let abidjan = ok("07 12 34 56 78", Some("CI"));
        assert_eq!(abidjan.as_str(), "+2250712345678");
        assert_eq!(abidjan.national(), "0712345678");
        assert_eq!(ok("+225 07 12 34 56 78", None), abidjan);
    }

    proptest::proptest! {
        /// The hand-built E.164 string and line type are what libphonenumber would give (its
        /// own classifier is only trusted without leading zeros, see `classify`).
        #[test]
        fn e164_and_type_match_libphonenumber(
            cc in "(254|234|256|255|27|233|250|251|225|20|262|212)",
            national in "[1-9][0-9]{5,10}",
        ) {
            use phonenumber::Type;
            let text = format!("+{cc}{national}");
            let ours = Msisdn::parse(&text, None);
            let Ok(reference) = phonenumber::parse(None, &text) else {
                proptest::prop_assert!(ours.is_err());
                return Ok(());
            };
            let expected = match reference.number_type(&DATABASE) {
                Type::Unknown => None,
                Type::Mobile => Some(LineType::Mobile),
                Type::FixedLine => Some(LineType::FixedLine),
                Type::FixedLineOrMobile => Some(LineType::FixedLineOrMobile),
                _ => Some(LineType::Other),
            };
            proptest::prop_assert_eq!(ours.as_ref().ok().map(|n| n.line_type()), expected);
            if let Ok(number) = ours {
                let formatted = reference.format().mode(phonenumber::Mode::E164).to_string();
                proptest::prop_assert_eq!(number.as_str(), formatted);
            }
        }
    }

    #[test]
    fn serde_is_the_e164_string_and_validates() {
        let n = ok("+254712345678", None);
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"+254712345678\"");
        let back: Msisdn = serde_json::from_str("\"+254712345678\"").unwrap();
        assert_eq!(back, n);
        assert!(serde_json::from_str::<Msisdn>("\"+2540\"").is_err());
        assert_eq!("+254712345678".parse::<Msisdn>().unwrap(), n);
    }
}
