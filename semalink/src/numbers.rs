//! Realistic African mobile numbers for the demo list: Kenyan, Ugandan and Tanzanian numbers
//! spread over their operators roughly by market share, each drawn from one of the operator's
//! own number ranges in the protocol crate's prefix table (`configs/mno_prefixes.tsv`) and kept
//! only when the numbering plan knows it as a mobile number (what a contact import accepts) and the table resolves it
//! back to that operator. Deterministic for a seed, so every demo database has the same list.

use std::collections::HashSet;

use semalink_protocol::mno::{self, MnoId};
use semalink_protocol::msisdn::Msisdn;

/// Operator weights (about their share of subscribers), KE ≈ 50 %, UG ≈ 25 %, TZ ≈ 25 %.
pub const MIX: &[(&str, u32)] = &[
    ("ke-safaricom", 33),
    ("ke-airtel", 14),
    ("ke-telkom", 3),
    ("ug-mtn", 14),
    ("ug-airtel", 10),
    ("ug-lycamobile", 1),
    ("tz-vodacom", 8),
    ("tz-airtel", 7),
    ("tz-yas", 6),
    ("tz-viettel", 3),
];

/// E.164 digits (with the calling code) of a mobile number in these countries.
const DIGITS: usize = 12;

/// An operator and its number ranges.
struct Ranges {
    id: MnoId,
    weight: u32,
    prefixes: Vec<&'static str>,
}

fn ranges() -> Vec<Ranges> {
    MIX.iter()
        .filter_map(|&(id, weight)| {
            let id = MnoId::parse(id).ok()?;
            let prefixes: Vec<_> = mno::rows()
                .filter(|r| r.mno_id() == Some(id) && r.prefix().len() < DIGITS)
                .map(|r| r.prefix())
                .collect();
            (!prefixes.is_empty()).then_some(Ranges {
                id,
                weight,
                prefixes,
            })
        })
        .collect()
}

/// Valid in its country's numbering plan (libphonenumber) as a number that receives SMS:
/// what a contact import accepts as a valid contact.
fn mobile(e164: &str) -> bool {
    Msisdn::parse(e164, None).is_ok_and(|m| m.as_str() == e164 && m.line_type().can_receive_sms())
}

/// `n` distinct E.164 numbers (`+2547…`) with their operator, drawn with `seed`.
pub fn generate(n: usize, seed: u64) -> Vec<(String, MnoId)> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let ranges = ranges();
    let total: u32 = ranges.iter().map(|r| r.weight).sum();
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    if total == 0 {
        return out;
    }
    while out.len() < n {
        let mut pick = rng.u32(0..total);
        let Some(range) = ranges.iter().find(|r| {
            if pick < r.weight {
                return true;
            }
            pick -= r.weight;
            false
        }) else {
            continue;
        };
        let prefix = range.prefixes[rng.usize(0..range.prefixes.len())];
        let mut digits = String::with_capacity(DIGITS);
        digits.push_str(prefix);
        while digits.len() < DIGITS {
            digits.push(char::from(b'0' + rng.u8(0..10)));
        }
        let e164 = format!("+{digits}");
        let resolves = mno::lookup_digits(&digits).and_then(|d| d.mno_id()) == Some(range.id);
        if resolves && mobile(&e164) && seen.insert(digits) {
            out.push((e164, range.id));
        }
    }
    out
}

/// Common first and last names of the region, for the contacts' names.
pub const FIRST_NAMES: &[&str] = &[
    "Wanjiru",
    "Otieno",
    "Achieng",
    "Kamau",
    "Njeri",
    "Mwangi",
    "Akinyi",
    "Kiprop",
    "Chebet",
    "Mutua",
    "Nakato",
    "Okello",
    "Namubiru",
    "Ssemwanga",
    "Atim",
    "Mugisha",
    "Neema",
    "Baraka",
    "Rehema",
    "Juma",
    "Zawadi",
    "Amani",
    "Halima",
    "Saidi",
    "Imani",
    "Faraja",
];

/// See [`FIRST_NAMES`].
pub const LAST_NAMES: &[&str] = &[
    "Kariuki",
    "Odhiambo",
    "Wafula",
    "Njoroge",
    "Kiptoo",
    "Omondi",
    "Mutiso",
    "Wekesa",
    "Nansubuga",
    "Opio",
    "Kato",
    "Byaruhanga",
    "Mbabazi",
    "Mollel",
    "Massawe",
    "Mushi",
    "Kimaro",
    "Mrema",
    "Shirima",
    "Nyerere",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_distinct_valid_and_of_every_operator_of_the_mix() {
        let numbers = generate(2_000, 7);
        assert_eq!(numbers.len(), 2_000);
        let distinct: HashSet<_> = numbers.iter().map(|(n, _)| n).collect();
        assert_eq!(distinct.len(), numbers.len());
        for (n, id) in &numbers {
            assert_eq!(mno::check_destination(n), Ok(()), "{n}");
            assert!(mobile(n), "{n}");
            let digits = n.trim_start_matches('+');
            assert_eq!(
                mno::lookup_digits(digits).and_then(|d| d.mno_id()),
                Some(*id)
            );
        }
        let operators: HashSet<_> = numbers.iter().map(|(_, id)| id.as_str()).collect();
        for (id, weight) in MIX {
            if *weight >= 3 {
                assert!(operators.contains(id), "{id} missing");
            }
        }
        assert_eq!(generate(50, 7), generate(50, 7), "deterministic for a seed");
    }
}
