//! Amounts of credits and per-segment rates as `rust_decimal` values, parsed from the decimal
//! strings the API carries (`"250.50"`). JSON numbers are refused: they would pass through a
//! float on the way in. Scale and range match the columns (NUMERIC(14,4) for amounts,
//! NUMERIC(14,6) for rates), so nothing is rounded silently and nothing overflows in SQL.

use rust_decimal::Decimal;

use crate::error::{Error, Result};

/// Decimal places of an amount (balances, top-ups, totals).
pub const AMOUNT_SCALE: u32 = 4;
/// Decimal places of a rate or cost per segment.
pub const RATE_SCALE: u32 = 6;

/// Largest amount one operation may move: a billion credits, far inside NUMERIC(14,4).
pub fn max_amount() -> Decimal {
    Decimal::from(1_000_000_000)
}

/// Largest rate or cost per segment.
pub fn max_rate() -> Decimal {
    Decimal::from(10_000)
}

/// Parses a plain decimal string: optional `-`, digits, optional `.` and digits. No exponent,
/// no `+`, no spaces, at most `scale` decimal places.
fn parse_plain(field: &str, text: &str, scale: u32) -> Result<Decimal> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed = !whole.is_empty()
        && whole.len() <= 12
        && whole.bytes().all(|b| b.is_ascii_digit())
        && (fraction.is_empty() != digits.contains('.'))
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !well_formed {
        return Err(Error::field(
            field,
            "must be a decimal number written as a string, e.g. \"12.50\"",
        ));
    }
    if fraction.len() > scale as usize {
        return Err(Error::Validation(vec![crate::error::FieldError::new(
            field,
            format!("must have at most {scale} decimal places"),
        )]));
    }
    text.parse::<Decimal>()
        .map_err(|_| Error::field(field, "is not a valid decimal number"))
}

/// A positive amount of credits (top-up, reservation, threshold > 0 …), at most
/// [`max_amount`], at most four decimal places.
pub fn parse_amount(field: &str, text: &str) -> Result<Decimal> {
    let value = parse_plain(field, text, AMOUNT_SCALE)?;
    if value <= Decimal::ZERO || value > max_amount() {
        return Err(Error::field(
            field,
            "must be greater than 0 and at most 1000000000",
        ));
    }
    Ok(value)
}

/// A signed, non-zero amount (staff adjustments).
pub fn parse_signed_amount(field: &str, text: &str) -> Result<Decimal> {
    let value = parse_plain(field, text, AMOUNT_SCALE)?;
    if value.is_zero() || value.abs() > max_amount() {
        return Err(Error::field(
            field,
            "must be non-zero and at most 1000000000 in size",
        ));
    }
    Ok(value)
}

/// An amount that may be zero (thresholds, credit limits, actual costs).
pub fn parse_non_negative_amount(field: &str, text: &str) -> Result<Decimal> {
    let value = parse_plain(field, text, AMOUNT_SCALE)?;
    if value < Decimal::ZERO || value > max_amount() {
        return Err(Error::field(field, "must be between 0 and 1000000000"));
    }
    Ok(value)
}

/// A rate or cost per segment: 0 to [`max_rate`], at most six decimal places.
pub fn parse_rate(field: &str, text: &str) -> Result<Decimal> {
    let value = parse_plain(field, text, RATE_SCALE)?;
    if value < Decimal::ZERO || value > max_rate() {
        return Err(Error::field(field, "must be between 0 and 10000"));
    }
    Ok(value)
}

/// Rounds a computed total (rate × segments) to an amount: four places, halves away from zero.
pub fn to_amount(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(
        AMOUNT_SCALE,
        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
    )
}

/// Serialises an amount as a string with exactly four decimal places (`"0.0000"`, not `"0"`:
/// PostgreSQL's zero comes back without its scale), so every amount in the API looks alike.
pub fn amount_str<S: serde::Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    let mut value = *value;
    value.rescale(AMOUNT_SCALE);
    serializer.serialize_str(&value.to_string())
}

/// [`amount_str`] for optional amounts (null stays null).
pub fn option_amount_str<S: serde::Serializer>(
    value: &Option<Decimal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => amount_str(v, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn amounts_parse_with_bounded_scale_and_range() {
        assert_eq!(parse_amount("amount", "12.5").unwrap(), d("12.5"));
        assert_eq!(parse_amount("amount", "0.0001").unwrap(), d("0.0001"));
        for bad in [
            "0",
            "-1",
            "1.00001",
            "1e3",
            "+1",
            " 1",
            "1.",
            ".5",
            "",
            "abc",
            "1_000",
            "2000000000",
        ] {
            assert!(parse_amount("amount", bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(parse_signed_amount("amount", "-3.25").unwrap(), d("-3.25"));
        assert!(parse_signed_amount("amount", "0.0000").is_err());
        assert_eq!(
            parse_non_negative_amount("threshold", "0").unwrap(),
            Decimal::ZERO
        );
        assert!(parse_non_negative_amount("threshold", "-0.01").is_err());
    }

    #[test]
    fn rates_take_six_places_and_totals_round_to_four() {
        assert_eq!(parse_rate("rate", "0.812345").unwrap(), d("0.812345"));
        assert!(parse_rate("rate", "0.8123456").is_err());
        assert!(parse_rate("rate", "10000.000001").is_err());
        assert_eq!(to_amount(d("0.812345") * Decimal::from(3)), d("2.4370"));
        assert_eq!(to_amount(d("0.00005")), d("0.0001"));
    }

    #[test]
    fn amounts_serialise_with_four_places() {
        #[derive(serde::Serialize)]
        struct A(#[serde(serialize_with = "amount_str")] Decimal);
        assert_eq!(
            serde_json::to_string(&A(Decimal::ZERO)).unwrap(),
            "\"0.0000\""
        );
        assert_eq!(serde_json::to_string(&A(d("-2.5"))).unwrap(), "\"-2.5000\"");
    }

    #[test]
    fn errors_name_the_field() {
        match parse_amount("amount", "1.23456") {
            Err(Error::Validation(fields)) => assert_eq!(fields[0].field, "amount"),
            other => panic!("{other:?}"),
        }
    }
}
