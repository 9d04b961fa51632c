//! The `submit date:` / `done date:` values of a receipt (SMPP 3.4 Appendix B: `YYMMDDhhmm`).
//!
//! Vendors add seconds (`YYMMDDhhmmss`) and a few send a four-digit year (`YYYYMMDDhhmmss`).
//! The time zone is the SMSC's and is not in the text, so the value stays a calendar date and
//! clock time; [`ReceiptDate::to_primitive`] gives a `time` value for the caller to place.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, Month, PrimitiveDateTime, Time};

/// A receipt date and time, as written by the SMSC (no time zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReceiptDate {
    /// Full year (two-digit years are taken as 20YY).
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of month, 1–31 (checked against the month).
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–59, when the SMSC sent one.
    pub second: Option<u8>,
}

impl ReceiptDate {
    /// Parses `YYMMDDhhmm`, `YYMMDDhhmmss` or `YYYYMMDDhhmmss`; `None` for anything else or for
    /// an impossible date (tolerant callers then treat the field as absent).
    pub fn parse(s: &str) -> Option<ReceiptDate> {
        let b = s.as_bytes();
        if !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
        let (year, rest) = match b.len() {
            10 | 12 => (2000 + u16::from(two(0)), 2),
            14 => (u16::from(two(0)) * 100 + u16::from(two(2)), 4),
            _ => return None,
        };
        let date = ReceiptDate {
            year,
            month: two(rest),
            day: two(rest + 2),
            hour: two(rest + 4),
            minute: two(rest + 6),
            second: (b.len() > 10).then(|| two(rest + 8)),
        };
        date.to_primitive().map(|_| date)
    }

    /// The calendar date and clock time, or `None` if the fields do not form a real moment.
    pub fn to_primitive(&self) -> Option<PrimitiveDateTime> {
        let month = Month::try_from(self.month).ok()?;
        let date = Date::from_calendar_date(i32::from(self.year), month, self.day).ok()?;
        let time = Time::from_hms(self.hour, self.minute, self.second.unwrap_or(0)).ok()?;
        Some(PrimitiveDateTime::new(date, time))
    }

    /// Builds a date (with seconds) from a `time` value, e.g. for a simulator's receipts.
    pub fn from_primitive(at: PrimitiveDateTime) -> ReceiptDate {
        ReceiptDate {
            year: u16::try_from(at.year()).unwrap_or(2000),
            month: u8::from(at.month()),
            day: at.day(),
            hour: at.hour(),
            minute: at.minute(),
            second: Some(at.second()),
        }
    }
}

/// Formats as `YYMMDDhhmm`, or `YYMMDDhhmmss` when seconds are known (the century is dropped,
/// as Appendix B specifies).
impl fmt::Display for ReceiptDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}{:02}{:02}{:02}{:02}",
            self.year % 100,
            self.month,
            self.day,
            self.hour,
            self.minute
        )?;
        match self.second {
            Some(s) => write!(f, "{s:02}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_lengths() {
        let d = ReceiptDate::parse("2301311459").unwrap();
        assert_eq!(
            (d.year, d.month, d.day, d.hour, d.minute, d.second),
            (2023, 1, 31, 14, 59, None)
        );
        let d = ReceiptDate::parse("230131145907").unwrap();
        assert_eq!(d.second, Some(7));
        let d = ReceiptDate::parse("20230131145907").unwrap();
        assert_eq!((d.year, d.second), (2023, Some(7)));
    }

    #[test]
    fn rejects_impossible_and_malformed_dates() {
        for bad in [
            "2302301200",
            "2313011200",
            "2301012400",
            "2301011260",
            "23010112",
            "",
            "23O1011200",
            "２３01011200",
        ] {
            assert_eq!(ReceiptDate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["2301311459", "230131145907", "9912312359"] {
            assert_eq!(ReceiptDate::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn from_primitive_keeps_seconds() {
        let at = ReceiptDate::parse("240229235958")
            .unwrap()
            .to_primitive()
            .unwrap();
        assert_eq!(ReceiptDate::from_primitive(at).to_string(), "240229235958");
    }
}
