//! Receipt states: the `stat:` word of the Appendix B text, the `message_state` TLV, and the
//! normalised [`Outcome`] the rest of the system acts on.
//!
//! SMPP 3.4 §5.2.28 (message_state) and Appendix B (stat words) define the states; SMPP 5.0
//! §4.8.4.37 adds SCHEDULED (0) and SKIPPED (9).
//!
//! Decisions (also in `docs/contracts.md`):
//! * `DELETED` and `UNKNOWN` are **final failures**: the SMSC will not deliver the message any
//!   more (deleted by an operator, or in an invalid state), so its cost is refunded.
//! * `ACCEPTD`, `ENROUTE`, `BUFFRED` and `SCHEDULED` are **not final** ([`Outcome::Intermediate`]).
//!   SMPP 3.4 calls ACCEPTED a final state, but upstreams (and Kannel, depending on its version)
//!   send ACCEPTD for "accepted by the network" and a DELIVRD later, so treating it as final
//!   would close messages early.
//! * A word nobody recognises is kept verbatim in [`Stat::Other`] and is **not final**: guessing
//!   delivered or failed would charge or refund wrongly; the message still settles through a later
//!   receipt or its validity expiry, and the raw word shows up in metrics so a mapping can be added.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The state a receipt reports, as the SMSC named it (normalised spelling).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Stat {
    /// `DELIVRD`: delivered to the handset.
    Delivered,
    /// `EXPIRED`: validity period ran out.
    Expired,
    /// `DELETED`: deleted (by the operator or a `cancel_sm`).
    Deleted,
    /// `UNDELIV`: undeliverable.
    Undeliverable,
    /// `ACCEPTD`: accepted (not final here; see the module docs).
    Accepted,
    /// `UNKNOWN`: message in an invalid state.
    Unknown,
    /// `REJECTD`: rejected by the SMSC or the network.
    Rejected,
    /// `ENROUTE`: on its way.
    Enroute,
    /// `BUFFRED`: buffered by the network (some vendors).
    Buffered,
    /// SMPP 5.0 `SCHEDULED` (message_state 0).
    Scheduled,
    /// SMPP 5.0 `SKIPPED` (message_state 9).
    Skipped,
    /// Any other word, kept as sent (not final).
    Other(String),
}

/// What a receipt means for the message: the normalised outcome that drives billing and
/// the message life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Delivered to the handset (final).
    Delivered,
    /// Will not be delivered: undeliverable, deleted, unknown, skipped (final).
    Failed,
    /// Validity ran out before delivery (final).
    Expired,
    /// Rejected by the SMSC or network (final).
    Rejected,
    /// Still under way; another receipt may follow (not final).
    Intermediate,
}

impl Outcome {
    /// Whether no further receipt will change the message's fate.
    pub fn is_final(self) -> bool {
        !matches!(self, Outcome::Intermediate)
    }
}

/// Spellings accepted for each state, compared ignoring ASCII case. The first is canonical.
const WORDS: &[(&str, Stat)] = &[
    ("DELIVRD", Stat::Delivered),
    ("DELIVERED", Stat::Delivered),
    ("DELIVRED", Stat::Delivered),
    ("EXPIRED", Stat::Expired),
    ("EXPIRD", Stat::Expired),
    ("DELETED", Stat::Deleted),
    ("DELETD", Stat::Deleted),
    ("UNDELIV", Stat::Undeliverable),
    ("UNDELIVERABLE", Stat::Undeliverable),
    ("UNDELIVERED", Stat::Undeliverable),
    ("UNDELIVRD", Stat::Undeliverable),
    ("FAILED", Stat::Undeliverable),
    ("ACCEPTD", Stat::Accepted),
    ("ACCEPTED", Stat::Accepted),
    ("UNKNOWN", Stat::Unknown),
    ("REJECTD", Stat::Rejected),
    ("REJECTED", Stat::Rejected),
    ("ENROUTE", Stat::Enroute),
    ("EN_ROUTE", Stat::Enroute),
    ("BUFFRED", Stat::Buffered),
    ("BUFFERED", Stat::Buffered),
    ("SCHEDULED", Stat::Scheduled),
    ("SKIPPED", Stat::Skipped),
];

impl Stat {
    /// Reads a `stat:` word, ignoring ASCII case and surrounding ASCII whitespace. Never fails:
    /// unrecognised words become [`Stat::Other`].
    pub fn from_word(word: &str) -> Stat {
        let word = word.trim_ascii();
        WORDS
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(word))
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| Stat::Other(word.to_owned()))
    }

    /// Maps the `message_state` TLV (0x0427) value; `None` for values no version defines.
    pub fn from_message_state(value: u8) -> Option<Stat> {
        Some(match value {
            0 => Stat::Scheduled,
            1 => Stat::Enroute,
            2 => Stat::Delivered,
            3 => Stat::Expired,
            4 => Stat::Deleted,
            5 => Stat::Undeliverable,
            6 => Stat::Accepted,
            7 => Stat::Unknown,
            8 => Stat::Rejected,
            9 => Stat::Skipped,
            _ => return None,
        })
    }

    /// The `message_state` TLV value for this state (`None` for [`Stat::Other`] and BUFFRED,
    /// which has no TLV value; simulators send ENROUTE for it).
    pub fn message_state(&self) -> Option<u8> {
        Some(match self {
            Stat::Scheduled => 0,
            Stat::Enroute => 1,
            Stat::Delivered => 2,
            Stat::Expired => 3,
            Stat::Deleted => 4,
            Stat::Undeliverable => 5,
            Stat::Accepted => 6,
            Stat::Unknown => 7,
            Stat::Rejected => 8,
            Stat::Skipped => 9,
            Stat::Buffered | Stat::Other(_) => return None,
        })
    }

    /// The canonical Appendix B word (`DELIVRD`, `UNDELIV`, …); `Other` words as received.
    pub fn word(&self) -> &str {
        match self {
            Stat::Delivered => "DELIVRD",
            Stat::Expired => "EXPIRED",
            Stat::Deleted => "DELETED",
            Stat::Undeliverable => "UNDELIV",
            Stat::Accepted => "ACCEPTD",
            Stat::Unknown => "UNKNOWN",
            Stat::Rejected => "REJECTD",
            Stat::Enroute => "ENROUTE",
            Stat::Buffered => "BUFFRED",
            Stat::Scheduled => "SCHEDULED",
            Stat::Skipped => "SKIPPED",
            Stat::Other(word) => word,
        }
    }

    /// The normalised outcome (see the module docs for the choices made).
    pub fn outcome(&self) -> Outcome {
        match self {
            Stat::Delivered => Outcome::Delivered,
            Stat::Expired => Outcome::Expired,
            Stat::Rejected => Outcome::Rejected,
            Stat::Deleted | Stat::Undeliverable | Stat::Unknown | Stat::Skipped => Outcome::Failed,
            Stat::Accepted | Stat::Enroute | Stat::Buffered | Stat::Scheduled | Stat::Other(_) => {
                Outcome::Intermediate
            }
        }
    }
}

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// Serialised as its word, so JSON shows `"stat": "DELIVRD"`.
impl Serialize for Stat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.word())
    }
}

impl<'de> Deserialize<'de> for Stat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let word = String::deserialize(deserializer)?;
        Ok(Stat::from_word(&word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appendix_b_words_map_to_outcomes() {
        let cases = [
            ("DELIVRD", Outcome::Delivered),
            ("EXPIRED", Outcome::Expired),
            ("DELETED", Outcome::Failed),
            ("UNDELIV", Outcome::Failed),
            ("ACCEPTD", Outcome::Intermediate),
            ("UNKNOWN", Outcome::Failed),
            ("REJECTD", Outcome::Rejected),
            ("ENROUTE", Outcome::Intermediate),
            ("BUFFRED", Outcome::Intermediate),
        ];
        for (word, outcome) in cases {
            let stat = Stat::from_word(word);
            assert_eq!(stat.outcome(), outcome, "{word}");
            assert_eq!(stat.word(), word, "canonical spelling of {word}");
        }
    }

    #[test]
    fn variants_and_case_are_normalised() {
        assert_eq!(Stat::from_word("delivered"), Stat::Delivered);
        assert_eq!(Stat::from_word(" Undeliverable "), Stat::Undeliverable);
        assert_eq!(Stat::from_word("Rejected"), Stat::Rejected);
        assert_eq!(Stat::from_word("buffered"), Stat::Buffered);
    }

    #[test]
    fn unknown_words_are_kept_and_not_final() {
        let stat = Stat::from_word("WEIRD");
        assert_eq!(stat, Stat::Other("WEIRD".into()));
        assert!(!stat.outcome().is_final());
        assert_eq!(stat.to_string(), "WEIRD");
    }

    #[test]
    fn message_state_round_trips_for_every_defined_value() {
        for v in 0..=9u8 {
            let stat = Stat::from_message_state(v).unwrap();
            assert_eq!(stat.message_state(), Some(v));
        }
        assert_eq!(Stat::from_message_state(10), None);
        assert_eq!(Stat::from_message_state(255), None);
    }

    #[test]
    fn finality() {
        assert!(Outcome::Delivered.is_final());
        assert!(Outcome::Failed.is_final());
        assert!(Outcome::Expired.is_final());
        assert!(Outcome::Rejected.is_final());
        assert!(!Outcome::Intermediate.is_final());
    }

    #[test]
    fn serde_uses_the_word() {
        let json = serde_json::to_string(&Stat::Undeliverable).unwrap();
        assert_eq!(json, "\"UNDELIV\"");
        let back: Stat = serde_json::from_str("\"delivrd\"").unwrap();
        assert_eq!(back, Stat::Delivered);
    }
}
