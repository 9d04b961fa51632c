//! E.164 numbers (stub: being written).

/// A valid E.164 mobile number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Msisdn(String);

/// Why a number could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid number: {0}")]
pub struct MsisdnError(pub String);

impl Msisdn {
    /// Parses what people type, with `default_country` (ISO 3166 alpha-2) for national forms.
    pub fn parse(input: &str, default_country: Option<&str>) -> Result<Self, MsisdnError> {
        let _ = (input, default_country);
        todo!()
    }
}
