//! Sender address types (`[upstreams.addressing]`): which TON / NPI a sender id goes out with
//! (SMPP 3.4 §5.2.5 `addr_ton`, §5.2.6 `addr_npi`). Operator practice, and the defaults:
//!
//! * alphanumeric (`SEMALINK`) → TON 5 alphanumeric, NPI 0 unknown;
//! * short code (at most [`SHORT_CODE_MAX_DIGITS`] digits, no `+`: `22345`) → TON 3
//!   network-specific, NPI 0 — as TON 1 it would read as a +223 number and be rejected or
//!   misrouted;
//! * long number (`+254712345678`, or more digits than a short code) → TON 1 international,
//!   NPI 1 ISDN (E.164), sent without its `+`.
//!
//! Each is overridable per upstream: some aggregators want TON 0 / NPI 1 for short codes.

use serde::Deserialize;

/// Longest numeric sender treated as a short code.
pub const SHORT_CODE_MAX_DIGITS: usize = 8;

/// One address type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TonNpi {
    /// Type of number.
    pub ton: u8,
    /// Numbering plan indicator.
    pub npi: u8,
}

/// The TON / NPI of each kind of sender id, for one upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Addressing {
    /// Alphanumeric senders (default 5 / 0).
    pub alphanumeric: TonNpi,
    /// Short codes (default 3 / 0).
    pub short_code: TonNpi,
    /// International numbers (default 1 / 1).
    pub international: TonNpi,
}

impl Default for Addressing {
    fn default() -> Self {
        Addressing {
            alphanumeric: TonNpi { ton: 5, npi: 0 },
            short_code: TonNpi { ton: 3, npi: 0 },
            international: TonNpi { ton: 1, npi: 1 },
        }
    }
}

impl Addressing {
    /// `(ton, npi, source_addr)` for `sender`.
    pub fn sender(&self, sender: &str) -> (u8, u8, String) {
        let numeric = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
        let (kind, addr) = match sender.strip_prefix('+') {
            Some(digits) if numeric(digits) => (self.international, digits),
            _ if numeric(sender) && sender.len() <= SHORT_CODE_MAX_DIGITS => {
                (self.short_code, sender)
            }
            _ if numeric(sender) => (self.international, sender),
            _ => (self.alphanumeric, sender),
        };
        (kind.ton, kind.npi, addr.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_sender_gets_its_type() {
        let a = Addressing::default();
        assert_eq!(a.sender("SEMALINK"), (5, 0, "SEMALINK".into()));
        assert_eq!(a.sender("Shop24"), (5, 0, "Shop24".into()));
        assert_eq!(a.sender("22345"), (3, 0, "22345".into()));
        assert_eq!(a.sender("12345678"), (3, 0, "12345678".into()));
        assert_eq!(a.sender("123456789"), (1, 1, "123456789".into()));
        assert_eq!(a.sender("+25420880"), (1, 1, "25420880".into()));
        assert_eq!(a.sender("+254712345678"), (1, 1, "254712345678".into()));
    }

    #[test]
    fn an_upstream_may_override_one_kind() {
        let a: Addressing = toml::from_str("short_code = { ton = 0, npi = 1 }").unwrap();
        assert_eq!(a.sender("22345"), (0, 1, "22345".into()));
        assert_eq!(a.sender("SEMA"), (5, 0, "SEMA".into()));
        assert!(toml::from_str::<Addressing>("short_code = { ton = 0 }").is_err());
    }
}
