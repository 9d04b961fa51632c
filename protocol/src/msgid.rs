//! Message-id canonicalisation: one key for both sides of the same message.
//!
//! The SMSC message id arrives twice: in `submit_sm_resp.message_id` and in the delivery
//! receipt (`id:` or `receipted_message_id`). Upstreams disagree with themselves: hex in one and
//! decimal in the other (documented by Vonage; Kannel's `msg-id-type`, Jasmin's `dlr_msgid`),
//! leading zeros dropped, case changed. [`canonical`] maps an id to a [`CanonicalId`] under a
//! per-upstream [`IdPolicy`] so that both sides produce the same key.
//!
//! Keys are cheap: numeric ids (up to `u128`) and hyphenated UUIDs (Jasmin's ids) become a
//! `u128` with no allocation; anything else becomes one normalised boxed string.
//!
//! Within one policy and side, distinct ids (after the normalisation the policy promises) give
//! distinct keys, so a looser policy never merges two real messages.
//!
//! Radix is never guessed: `10` is a valid hex and a valid decimal id, and reading one upstream's
//! ids sometimes as hex and sometimes as decimal would map different messages to one key. So
//! [`IdPolicy::Auto`] (the default) only ignores case and leading zeros; upstreams that switch
//! radix need [`IdPolicy::HexToDecimal`] or [`IdPolicy::DecimalToHex`] in their config, and
//! [`IdPolicy::infer`] tells which one a known pair of ids needs (for a log hint).

use std::fmt;

use serde::{Deserialize, Serialize};

/// How an upstream's ids relate between `submit_sm_resp` and the receipt (per-upstream config,
/// `snake_case` in TOML/JSON: `"as_is"`, `"case_insensitive"`, `"hex_to_decimal"`, …).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdPolicy {
    /// Byte-for-byte, after trimming surrounding whitespace and NULs.
    AsIs,
    /// Ignore ASCII case and leading zeros (and surrounding whitespace).
    CaseInsensitive,
    /// `submit_sm_resp` sends hex, the receipt decimal (Kannel `msg-id-type` 1, Jasmin
    /// `dlr_msgid` 1). A `0x` prefix on the hex side is ignored.
    HexToDecimal,
    /// `submit_sm_resp` sends decimal, the receipt hex (Kannel `msg-id-type` 2, Jasmin
    /// `dlr_msgid` 2).
    DecimalToHex,
    /// The default: same as [`IdPolicy::CaseInsensitive`] (radix is never guessed; see the
    /// module docs).
    #[default]
    Auto,
}

/// Which PDU the id came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// `submit_sm_resp.message_id`.
    SubmitResp,
    /// The receipt's `id:` field or `receipted_message_id` TLV.
    Receipt,
}

/// A canonical message-id key. Compare, hash or print it (its `Display` form is a stable
/// string key, e.g. for Redis).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CanonicalId {
    /// A numeric id's value (its radix already accounted for).
    Number(u128),
    /// A hyphenated UUID (8-4-4-4-12 hex digits), case ignored.
    Uuid(u128),
    /// Any other id, normalised as the policy says.
    Text(Box<str>),
}

impl fmt::Display for CanonicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CanonicalId::Number(n) => write!(f, "{n}"),
            CanonicalId::Uuid(u) => write!(f, "{}", uuid::Uuid::from_u128(*u).hyphenated()),
            CanonicalId::Text(t) => f.write_str(t),
        }
    }
}

/// The radix a side's ids are read in.
#[derive(Clone, Copy)]
enum Radix {
    Decimal,
    Hex,
}

/// Canonicalises `id`, received on `side`, under `policy`. Never fails: ids that do not fit the
/// policy's expected form fall back to case- and zero-insensitive text.
pub fn canonical(id: &str, side: Side, policy: IdPolicy) -> CanonicalId {
    let id = trim(id);
    let radix = match (policy, side) {
        (IdPolicy::AsIs, _) => return CanonicalId::Text(id.into()),
        (IdPolicy::CaseInsensitive | IdPolicy::Auto, _)
        | (IdPolicy::HexToDecimal, Side::Receipt)
        | (IdPolicy::DecimalToHex, Side::SubmitResp) => Radix::Decimal,
        (IdPolicy::HexToDecimal, Side::SubmitResp) | (IdPolicy::DecimalToHex, Side::Receipt) => {
            Radix::Hex
        }
    };
    let id = match radix {
        Radix::Hex => id
            .strip_prefix("0x")
            .or_else(|| id.strip_prefix("0X"))
            .unwrap_or(id),
        Radix::Decimal => id,
    };
    let id = normalise(id);
    if let Some(u) = parse_uuid(id) {
        return CanonicalId::Uuid(u);
    }
    let number = match radix {
        Radix::Decimal => parse_decimal(id),
        Radix::Hex => parse_hex(id),
    };
    match number {
        Some(n) => CanonicalId::Number(n),
        None => CanonicalId::Text(id.to_ascii_lowercase().into()),
    }
}

impl IdPolicy {
    /// Which policy makes a known `submit_sm_resp` id and receipt id of the same message match:
    /// case/zero-insensitive first, then hex→decimal, then decimal→hex. `None` if none does.
    /// Ambiguous pairs (e.g. `10` and `10`) answer the least surprising policy.
    pub fn infer(resp_id: &str, receipt_id: &str) -> Option<IdPolicy> {
        [
            IdPolicy::CaseInsensitive,
            IdPolicy::HexToDecimal,
            IdPolicy::DecimalToHex,
        ]
        .into_iter()
        .find(|&p| {
            canonical(resp_id, Side::SubmitResp, p) == canonical(receipt_id, Side::Receipt, p)
        })
    }
}

/// Surrounding whitespace and NULs (C-octet strings) never belong to an id.
fn trim(id: &str) -> &str {
    id.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\0')
}

/// Trims and strips leading zeros until neither changes anything (`"0 07"` → `"7"`), so that
/// normalising a normalised id is a no-op; an all-zero id keeps one `"0"`.
fn normalise(mut s: &str) -> &str {
    loop {
        let trimmed = trim(s);
        let stripped = trimmed.trim_start_matches('0');
        let next = if stripped.is_empty() && !trimmed.is_empty() {
            "0"
        } else {
            stripped
        };
        if next == s {
            return s;
        }
        s = next;
    }
}

fn parse_decimal(s: &str) -> Option<u128> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u128, |acc, b| {
        let d = (b as char).to_digit(10)?;
        acc.checked_mul(10)?.checked_add(u128::from(d))
    })
}

fn parse_hex(s: &str) -> Option<u128> {
    if s.is_empty() || s.len() > 32 {
        return None;
    }
    s.bytes().try_fold(0u128, |acc, b| {
        Some(acc << 4 | u128::from((b as char).to_digit(16)?))
    })
}

/// A hyphenated UUID (`8-4-4-4-12` hex digits, any case) as its 128-bit value. The first group
/// may be shorter, because [`normalise`] has already dropped its leading zeros.
fn parse_uuid(s: &str) -> Option<u128> {
    let b = s.as_bytes();
    let first = b.iter().take(9).position(|&c| c == b'-')?;
    if b.len() != first + 28 || [5, 10, 15].iter().any(|&k| b[first + k] != b'-') {
        return None;
    }
    let hyphen = |i: usize| i >= first && (i - first).is_multiple_of(5) && i - first <= 15;
    b.iter().enumerate().try_fold(0u128, |acc, (i, &c)| {
        if hyphen(i) {
            Some(acc)
        } else {
            Some(acc << 4 | u128::from((c as char).to_digit(16)?))
        }
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use IdPolicy::*;
    use Side::*;

    #[test]
    fn case_and_leading_zeros() {
        for p in [CaseInsensitive, Auto] {
            assert_eq!(
                canonical(" 000123\0", SubmitResp, p),
                CanonicalId::Number(123)
            );
            assert_eq!(canonical("123", Receipt, p), CanonicalId::Number(123));
            assert_eq!(
                canonical("00AbC", SubmitResp, p),
                canonical("abc", Receipt, p)
            );
            assert_eq!(canonical("000", Receipt, p), CanonicalId::Number(0));
        }
    }

    #[test]
    fn as_is_only_trims() {
        assert_eq!(
            canonical(" Ab0\0", SubmitResp, AsIs),
            CanonicalId::Text("Ab0".into())
        );
        assert_ne!(
            canonical("0A", SubmitResp, AsIs),
            canonical("a", Receipt, AsIs)
        );
    }

    #[test]
    fn radix_conversions() {
        assert_eq!(
            canonical("0x00FF", SubmitResp, HexToDecimal),
            canonical("255", Receipt, HexToDecimal)
        );
        assert_eq!(
            canonical("255", SubmitResp, DecimalToHex),
            canonical("ff", Receipt, DecimalToHex)
        );
        // Non-numeric ids still match themselves, case-insensitively.
        assert_eq!(
            canonical("msg-X", SubmitResp, HexToDecimal),
            canonical("MSG-x", Receipt, HexToDecimal)
        );
    }

    #[test]
    fn uuids_pack_and_print() {
        let id = "5F0C0C3E-8a43-4c1d-9b9e-3a2f1c0d9e8b";
        let key = canonical(id, SubmitResp, Auto);
        assert!(matches!(key, CanonicalId::Uuid(_)));
        assert_eq!(key, canonical(&id.to_lowercase(), Receipt, HexToDecimal));
        assert_eq!(key.to_string(), id.to_lowercase());
        assert!(matches!(
            canonical("5f0c0c3e-8a43-4c1d-9b9e-3a2f1c0d9e8g", Receipt, Auto),
            CanonicalId::Text(_)
        ));
        assert!(matches!(
            canonical("5f0c0c3e-8a43-4c1d-9b9e-3a2f1c0d9-8b", Receipt, Auto),
            CanonicalId::Text(_)
        ));
        // Leading zeros of the first group are dropped like any other id's.
        let zero = canonical("000c0c3e-8a43-4c1d-9b9e-3a2f1c0d9e8b", SubmitResp, Auto);
        assert_eq!(
            zero,
            canonical("c0c3e-8a43-4c1d-9b9e-3a2f1c0d9e8b", Receipt, Auto)
        );
        assert_eq!(zero.to_string(), "000c0c3e-8a43-4c1d-9b9e-3a2f1c0d9e8b");
    }

    #[test]
    fn overflow_falls_back_to_text() {
        let big = "1".repeat(40);
        assert_eq!(
            canonical(&big, Receipt, Auto),
            CanonicalId::Text(big.clone().into())
        );
        assert!(matches!(
            canonical(&"f".repeat(33), SubmitResp, HexToDecimal),
            CanonicalId::Text(_)
        ));
        let max = u128::MAX.to_string();
        assert_eq!(
            canonical(&max, Receipt, Auto),
            CanonicalId::Number(u128::MAX)
        );
    }

    #[test]
    fn infer_names_the_needed_policy() {
        assert_eq!(IdPolicy::infer("0A1b", "a1B"), Some(CaseInsensitive));
        assert_eq!(IdPolicy::infer("1A", "26"), Some(HexToDecimal));
        assert_eq!(IdPolicy::infer("26", "1a"), Some(DecimalToHex));
        assert_eq!(IdPolicy::infer("1", "2"), None);
    }

    #[test]
    fn policy_serde_names() {
        assert_eq!(
            serde_json::to_string(&HexToDecimal).unwrap(),
            "\"hex_to_decimal\""
        );
        let p: IdPolicy = serde_json::from_str("\"case_insensitive\"").unwrap();
        assert_eq!(p, CaseInsensitive);
        assert_eq!(IdPolicy::default(), Auto);
    }

    fn vary(s: &str, zeros: usize, flips: &[bool]) -> String {
        let cased: String = s
            .chars()
            .zip(flips.iter().cycle())
            .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c })
            .collect();
        format!("{}{cased}", "0".repeat(zeros))
    }

    proptest! {
        #[test]
        fn hex_resp_matches_decimal_receipt(
            n in any::<u128>(), z1 in 0usize..4, z2 in 0usize..4,
            flips in proptest::collection::vec(any::<bool>(), 1..8), prefix in any::<bool>(),
        ) {
            let hex = format!("{}{}", if prefix { "0x" } else { "" }, vary(&format!("{n:x}"), z1, &flips));
            let dec = vary(&n.to_string(), z2, &flips);
            prop_assert_eq!(canonical(&hex, SubmitResp, HexToDecimal), CanonicalId::Number(n));
            prop_assert_eq!(canonical(&dec, Receipt, HexToDecimal), CanonicalId::Number(n));
            prop_assert_eq!(canonical(&dec, SubmitResp, DecimalToHex), canonical(&hex, Receipt, DecimalToHex));
        }

        #[test]
        fn same_radix_variants_match(n in any::<u64>(), z in 0usize..4, flips in proptest::collection::vec(any::<bool>(), 1..8)) {
            for s in [format!("{n}"), format!("{n:x}")] {
                prop_assert_eq!(canonical(&vary(&s, z, &flips), Receipt, Auto), canonical(&s, SubmitResp, Auto));
            }
        }

        #[test]
        fn distinct_ids_give_distinct_keys(a in any::<u128>(), b in any::<u128>()) {
            prop_assume!(a != b);
            for p in [CaseInsensitive, HexToDecimal, DecimalToHex] {
                for side in [SubmitResp, Receipt] {
                    for (x, y) in [(format!("{a}"), format!("{b}")), (format!("{a:x}"), format!("{b:x}"))] {
                        prop_assert_ne!(canonical(&x, side, p), canonical(&y, side, p));
                    }
                }
            }
        }

        #[test]
        fn never_panics(s in any::<String>()) {
            for p in [AsIs, CaseInsensitive, HexToDecimal, DecimalToHex, Auto] {
                for side in [SubmitResp, Receipt] {
                    let _ = canonical(&s, side, p);
                }
            }
            // Where ids are read as decimal, the printed key canonicalises to itself.
            for (p, side) in [(AsIs, Receipt), (Auto, SubmitResp), (HexToDecimal, Receipt), (DecimalToHex, SubmitResp)] {
                let key = canonical(&s, side, p);
                prop_assert_eq!(&canonical(&key.to_string(), side, p), &key);
            }
        }
    }
}
