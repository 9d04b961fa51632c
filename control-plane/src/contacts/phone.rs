//! Phone normalisation for contacts: what people type → E.164, status, reason and operator.
//!
//! Pure (no I/O), so the contacts API and the CSV import validate a number the same way; the
//! import calls [`normalise`] per row and then inserts set-based.

use semalink_protocol::mno;
use semalink_protocol::msisdn::Msisdn;

/// Longest phone input kept (the `phone_raw` column's limit).
pub const MAX_RAW_LEN: usize = 64;

/// Whether a contact's number can be sent to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "contact_status", rename_all = "snake_case")]
pub enum ContactStatus {
    /// A number that parses to E.164 and can receive SMS.
    Valid,
    /// A number that does not parse, or a line that cannot receive SMS; see the reason.
    Invalid,
}

/// A phone input, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalisedPhone {
    /// E.164 (`+254712345678`) when the input parses, otherwise the trimmed input: the value
    /// of the `phone` column, unique per account.
    pub phone: String,
    /// Valid or invalid.
    pub status: ContactStatus,
    /// Why the number is invalid (`None` when valid).
    pub reason: Option<String>,
    /// The operator's route key (`ke-safaricom`), where the prefix table knows one.
    pub mno_id: Option<&'static str>,
    /// ISO 3166-1 alpha-2 country of the number, when it parses.
    pub country: Option<&'static str>,
}

/// Normalises `input` with the organisation's `default_country` (ISO alpha-2) for national
/// forms (`0712 345 678`).
///
/// Returns `None` for input that is empty after trimming or longer than [`MAX_RAW_LEN`]
/// characters: that is not a number at all and the caller rejects the field (or row) rather
/// than storing an invalid contact. Anything else yields a contact: valid when the number
/// parses and its line can receive SMS, invalid with the protocol crate's reason otherwise.
pub fn normalise(input: &str, default_country: &str) -> Option<NormalisedPhone> {
    let trimmed = input.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_RAW_LEN {
        return None;
    }
    let parsed = match Msisdn::parse(trimmed, Some(default_country)) {
        Ok(number) => number,
        Err(err) => {
            return Some(NormalisedPhone {
                phone: trimmed.to_owned(),
                status: ContactStatus::Invalid,
                reason: Some(err.to_string()),
                mno_id: None,
                country: None,
            });
        }
    };
    let destination = mno::lookup(&parsed);
    let mno_id = destination.and_then(|d| d.mno_id()).map(|id| id.as_str());
    let country = Some(destination.map_or(parsed.country(), |d| d.country()));
    let (status, reason) = if parsed.line_type().can_receive_sms() {
        (ContactStatus::Valid, None)
    } else {
        (
            ContactStatus::Invalid,
            Some(format!(
                "{} is not a mobile number and cannot receive SMS",
                parsed.as_str()
            )),
        )
    };
    Some(NormalisedPhone {
        phone: parsed.into_string(),
        status,
        reason,
        mno_id,
        country,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_kenyan_mobile_is_valid_with_operator() {
        let n = normalise(" 0712 345 678 ", "KE").unwrap();
        assert_eq!(n.phone, "+254712345678");
        assert_eq!(n.status, ContactStatus::Valid);
        assert_eq!(n.reason, None);
        assert_eq!(n.mno_id, Some("ke-safaricom"));
        assert_eq!(n.country, Some("KE"));
    }

    #[test]
    fn international_form_ignores_the_default_country() {
        let n = normalise("+234 803 123 4567", "KE").unwrap();
        assert_eq!(n.phone, "+2348031234567");
        assert_eq!(n.country, Some("NG"));
        assert_eq!(n.status, ContactStatus::Valid);
    }

    #[test]
    fn garbage_is_an_invalid_contact_with_a_reason() {
        let n = normalise("07x2", "KE").unwrap();
        assert_eq!(n.phone, "07x2");
        assert_eq!(n.status, ContactStatus::Invalid);
        assert!(n.reason.unwrap().contains("invalid character"));
        assert_eq!(n.mno_id, None);
    }

    #[test]
    fn landline_is_invalid() {
        // Nairobi fixed line.
        let n = normalise("020 2222222", "KE").unwrap();
        assert_eq!(n.phone, "+254202222222");
        assert_eq!(n.status, ContactStatus::Invalid);
        assert!(n.reason.unwrap().contains("cannot receive SMS"));
    }

    #[test]
    fn empty_and_overlong_input_is_no_number() {
        assert_eq!(normalise("   ", "KE"), None);
        assert_eq!(normalise(&"1".repeat(65), "KE"), None);
    }
}
