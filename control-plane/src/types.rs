//! Value types shared by every feature, so a rule is parsed once and then carried in the
//! type: [`CountryCode`] (ISO 3166-1 alpha-2) and [`BoundedText`] (trimmed text with a
//! length limit, for names, notes and reasons).

use std::fmt;

use crate::error::{Error, FieldError, Result};

/// An ISO 3166-1 alpha-2 country code, upper case. The user-assigned codes (`AA`, `QM`–`QZ`,
/// `XA`–`XZ`, `ZZ`) are refused: they name no country.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a code in any case, surrounding spaces ignored; `None` when it is not one.
    pub fn parse(text: &str) -> Option<CountryCode> {
        let bytes = text.trim().as_bytes();
        let [a, b] = bytes else {
            return None;
        };
        let code = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
        if !code.iter().all(u8::is_ascii_uppercase) || user_assigned(code) {
            return None;
        }
        Some(CountryCode(code))
    }

    /// Parses `text`, or a 422 naming `field`.
    pub fn field(field: &str, text: &str) -> Result<CountryCode> {
        CountryCode::parse(text).ok_or_else(|| Error::Validation(vec![not_a_country(field)]))
    }

    /// Parses `text`, collecting the error on `field` into `errors`.
    pub fn check(field: &str, text: &str, errors: &mut Vec<FieldError>) -> Option<CountryCode> {
        let code = CountryCode::parse(text);
        if code.is_none() {
            errors.push(not_a_country(field));
        }
        code
    }

    /// The code (`KE`).
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII upper-case letters (checked in `parse`).
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The IANA time zone of the country's capital, the default for an organisation in it;
    /// `UTC` for countries not in the table.
    pub fn timezone(&self) -> &'static str {
        TIMEZONES
            .iter()
            .find(|(code, _)| *code == self.as_str())
            .map_or("UTC", |(_, zone)| zone)
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn not_a_country(field: &str) -> FieldError {
    FieldError::new(
        field,
        "must be an ISO 3166-1 alpha-2 country code such as KE",
    )
}

/// ISO 3166-1 reserves these for users; they are never assigned to a country.
fn user_assigned([a, b]: [u8; 2]) -> bool {
    matches!(
        (a, b),
        (b'A', b'A') | (b'Q', b'M'..=b'Z') | (b'X', _) | (b'Z', b'Z')
    )
}

/// Capital time zones of the markets the platform serves, then other common ones.
const TIMEZONES: [(&str, &str); 30] = [
    ("KE", "Africa/Nairobi"),
    ("UG", "Africa/Kampala"),
    ("TZ", "Africa/Dar_es_Salaam"),
    ("RW", "Africa/Kigali"),
    ("BI", "Africa/Bujumbura"),
    ("SS", "Africa/Juba"),
    ("ET", "Africa/Addis_Ababa"),
    ("SO", "Africa/Mogadishu"),
    ("DJ", "Africa/Djibouti"),
    ("CD", "Africa/Kinshasa"),
    ("ZM", "Africa/Lusaka"),
    ("MW", "Africa/Blantyre"),
    ("MZ", "Africa/Maputo"),
    ("ZW", "Africa/Harare"),
    ("BW", "Africa/Gaborone"),
    ("ZA", "Africa/Johannesburg"),
    ("NA", "Africa/Windhoek"),
    ("AO", "Africa/Luanda"),
    ("NG", "Africa/Lagos"),
    ("GH", "Africa/Accra"),
    ("CI", "Africa/Abidjan"),
    ("SN", "Africa/Dakar"),
    ("CM", "Africa/Douala"),
    ("EG", "Africa/Cairo"),
    ("MA", "Africa/Casablanca"),
    ("SD", "Africa/Khartoum"),
    ("GB", "Europe/London"),
    ("AE", "Asia/Dubai"),
    ("IN", "Asia/Kolkata"),
    ("US", "America/New_York"),
];

/// Text trimmed of surrounding white space, 1 to `N` characters (line breaks allowed: notes
/// and reasons have them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundedText<const N: usize>(String);

impl<const N: usize> BoundedText<N> {
    /// Parses `text`; `None` when blank or longer than `N`.
    pub fn parse(text: &str) -> Option<BoundedText<N>> {
        let text = text.trim();
        let len = text.chars().count();
        (1..=N).contains(&len).then(|| BoundedText(text.to_owned()))
    }

    /// Parses `text`, collecting the error on `field` into `errors`.
    pub fn check(field: &str, text: &str, errors: &mut Vec<FieldError>) -> Option<BoundedText<N>> {
        let parsed = BoundedText::parse(text);
        if parsed.is_none() {
            errors.push(FieldError::new(
                field,
                format!("must be 1 to {N} characters"),
            ));
        }
        parsed
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_two_letters_any_case_and_not_user_assigned() {
        assert_eq!(
            CountryCode::parse(" ke ").map(|c| c.to_string()),
            Some("KE".into())
        );
        assert_eq!(CountryCode::parse("TZ").unwrap().as_str(), "TZ");
        for bad in [
            "", "K", "KEN", "K1", "é1", "XX", "ZZ", "AA", "QM", "QZ", "XA", "xk",
        ] {
            assert_eq!(CountryCode::parse(bad), None, "{bad}");
        }
        for good in ["QA", "QL", "ZA", "ZW", "AB"] {
            assert!(CountryCode::parse(good).is_some(), "{good}");
        }
        let Err(Error::Validation(errors)) = CountryCode::field("country", "ZZ") else {
            panic!("ZZ is not a country");
        };
        assert_eq!(errors[0].field, "country");
    }

    #[test]
    fn the_timezone_follows_the_country() {
        assert_eq!(
            CountryCode::parse("KE").unwrap().timezone(),
            "Africa/Nairobi"
        );
        assert_eq!(CountryCode::parse("ng").unwrap().timezone(), "Africa/Lagos");
        assert_eq!(CountryCode::parse("FR").unwrap().timezone(), "UTC");
    }

    #[test]
    fn bounded_text_is_trimmed_and_limited() {
        assert_eq!(BoundedText::<5>::parse("  abc ").unwrap().as_str(), "abc");
        assert!(BoundedText::<5>::parse("   ").is_none());
        assert!(BoundedText::<5>::parse("abcdef").is_none());
        assert_eq!(BoundedText::<5>::parse("a\nb").unwrap().as_str(), "a\nb");
        let mut errors = Vec::new();
        assert!(BoundedText::<100>::check("name", "", &mut errors).is_none());
        assert_eq!(errors[0].message, "must be 1 to 100 characters");
    }
}
