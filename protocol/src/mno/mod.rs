//! Operator (MNO) lookup: which country and which mobile network a number belongs to.
//!
//! Longest-prefix match over `configs/mno_prefixes.tsv`, generated from libphonenumber's
//! carrier data for every African calling code by `scripts/gen_mno_prefixes.py`. Every African
//! number resolves at least to its country; operator-level rows exist where libphonenumber has
//! them (all of KE, NG, UG, TZ, RW, GH, ZA and ET among them). Numbers ported between operators
//! keep their original prefix, so the operator is the number range's, not necessarily the
//! subscriber's current one; only an HLR/MNP lookup can tell that.
//!
//! The routing layer keys routes and token buckets on [`MnoId`] (e.g. `ke-safaricom`).

mod table;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::msisdn::Msisdn;
use table::{Row, TABLE};

/// A known operator's stable route key, `<country>-<operator>` in lowercase (`ke-safaricom`).
///
/// Only ids present in the table exist: [`MnoId::parse`] rejects anything else, so a route
/// configured for a misspelt operator fails at start-up rather than never matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MnoId(&'static str);

/// An id that is not in the operator table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operator id {0:?}: expected one of the table's ids, such as ke-safaricom")]
pub struct UnknownMnoId(pub String);

impl MnoId {
    /// The id of a known operator, case-insensitively.
    pub fn parse(id: &str) -> Result<MnoId, UnknownMnoId> {
        let wanted = id.trim().to_ascii_lowercase();
        TABLE
            .operators
            .binary_search_by_key(&wanted.as_str(), |o| o.id.0)
            .map(|i| TABLE.operators[i].id)
            .map_err(|_| UnknownMnoId(id.to_owned()))
    }

    /// The id as text, e.g. `ke-safaricom`.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The operator this id names.
    pub fn operator(self) -> &'static Operator {
        let index = TABLE
            .operators
            .binary_search_by_key(&self.0, |o| o.id.0)
            .expect("an MnoId only exists for a table operator");
        &TABLE.operators[index]
    }
}

impl fmt::Display for MnoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl FromStr for MnoId {
    type Err = UnknownMnoId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MnoId::parse(s)
    }
}

impl Serialize for MnoId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for MnoId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        MnoId::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A mobile network operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    /// Route key, e.g. `ke-safaricom`.
    pub id: MnoId,
    /// Display name, normalised across libphonenumber's spellings, e.g. `Safaricom`.
    pub name: &'static str,
    /// ISO 3166-1 alpha-2 country the operator serves under this id, e.g. `KE`.
    pub country: &'static str,
}

/// What a number's longest matching prefix resolves to: always a country, and an operator
/// where the table knows one (`None` for countries or ranges without operator-level data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Destination {
    prefix: &'static str,
    country: &'static str,
    operator: Option<&'static Operator>,
}

impl Destination {
    /// The matching table prefix (E.164 digits without `+`), e.g. `25471`.
    pub fn prefix(&self) -> &'static str {
        self.prefix
    }

    /// ISO 3166-1 alpha-2 country, e.g. `KE`.
    pub fn country(&self) -> &'static str {
        self.country
    }

    /// The operator, if the table has operator-level data for this prefix.
    pub fn operator(&self) -> Option<&'static Operator> {
        self.operator
    }

    /// Shorthand for the operator's id.
    pub fn mno_id(&self) -> Option<MnoId> {
        self.operator.map(|o| o.id)
    }

    fn from_row(row: &'static Row) -> Destination {
        Destination {
            prefix: row.prefix,
            country: row.country,
            operator: row.operator.map(|i| &TABLE.operators[usize::from(i)]),
        }
    }
}

/// Resolves a number's country and operator; `None` outside the table (non-African numbers).
pub fn lookup(number: &Msisdn) -> Option<Destination> {
    let mut found = lookup_digits(number.digits())?;
    // A calling code shared by several countries (+262 RE/YT, +212 MA/EH, +290 SH/TA) has one
    // country-only row; there the number's own numbering-plan country is the precise one.
    if found.operator.is_none() {
        found.country = number.country();
    }
    Some(found)
}

/// Like [`lookup`] for raw E.164 digits, with or without `+`. Returns `None` for input that is
/// not 1 to 15 ASCII digits or matches no prefix. Never allocates.
pub fn lookup_digits(digits: &str) -> Option<Destination> {
    let table: &'static table::Table = &TABLE;
    table.longest_prefix(digits).map(Destination::from_row)
}

/// Whether SMS can be sent to `e164` (`+` then digits) as far as the numbering data knows:
/// valid in its country's numbering plan (libphonenumber), or in the range of an operator of
/// the prefix table — which is newer than libphonenumber's data for some ranges (Safaricom
/// Ethiopia's +251 70). `Err` says why not, or which form to write it in.
pub fn check_destination(e164: &str) -> Result<(), String> {
    match Msisdn::parse(e164, None) {
        Ok(number) if number.as_str() == e164 => Ok(()),
        Ok(number) => Err(format!("write it as {}", number.as_str())),
        Err(_)
            if lookup_digits(e164.trim_start_matches('+'))
                .is_some_and(|d| d.operator().is_some()) =>
        {
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Every operator in the table, sorted by id.
pub fn operators() -> &'static [Operator] {
    &TABLE.operators
}

/// Every row of the table, in file (prefix) order.
pub fn rows() -> impl Iterator<Item = Destination> {
    let table: &'static table::Table = &TABLE;
    table.rows.iter().map(Destination::from_row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(digits: &str) -> Option<&'static str> {
        lookup_digits(digits)
            .and_then(|d| d.operator())
            .map(|o| o.name)
    }

    #[test]
    fn destinations_need_the_plan_or_an_operator_range() {
        assert_eq!(check_destination("+254712345678"), Ok(()));
        // Newer than libphonenumber's metadata: known from the operator table.
        assert_eq!(check_destination("+251700024004"), Ok(()));
        assert!(check_destination("+999123456789").is_err());
        assert!(check_destination("+2540712345678").is_err());
    }

    #[test]
    fn embedded_table_parses_and_covers_the_focus_countries() {
        let table = table::Table::parse(table::SOURCE).unwrap();
        assert!(table.rows.len() > 1000, "{} rows", table.rows.len());
        for country in ["KE", "NG", "UG", "TZ", "RW", "GH", "ZA", "ET"] {
            let with_operator = rows()
                .filter(|d| d.country() == country && d.operator().is_some())
                .count();
            assert!(
                with_operator >= 3,
                "{country}: {with_operator} operator rows"
            );
        }
    }

    #[test]
    fn malformed_tables_are_rejected() {
        for bad in [
            "254\tKE\t\n",
            "25x\tKE\t\t\n",
            "0254\tKE\t\t\n",
            "254\tke\t\t\n",
            "254\tKE\tug-mtn\tMTN\n",
            "254\tKE\tke-mtn\t\n",
            "254\tKE\t\t\n254\tKE\t\t\n",
        ] {
            assert!(table::Table::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn longest_prefix_wins() {
        // 25474 is Safaricom, 254744 a smaller operator inside it.
        assert_eq!(name("254740000000"), Some("Safaricom"));
        assert_eq!(name("254744000000"), Some("Homeland Media"));
        let d = lookup_digits("+254744000000").unwrap();
        assert_eq!(d.prefix(), "254744");
        assert_eq!(d.mno_id().unwrap().as_str(), "ke-homeland-media");
    }

    #[test]
    fn country_only_rows_have_no_operator() {
        let d = lookup_digits("254202222222").unwrap();
        assert_eq!((d.country(), d.prefix(), d.operator()), ("KE", "254", None));
        assert_eq!(lookup_digits("14155550100"), None);
        assert_eq!(lookup_digits("+2547x"), None);
        assert_eq!(lookup_digits(""), None);
        assert_eq!(lookup_digits("2547123456789012"), None);
    }

    #[test]
    fn mno_ids_are_validated() {
        let id = MnoId::parse("KE-Safaricom").unwrap();
        assert_eq!(id.as_str(), "ke-safaricom");
        assert_eq!(id.operator().name, "Safaricom");
        assert_eq!(id.operator().country, "KE");
        assert!(MnoId::parse("ke-safaricon").is_err());
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"ke-safaricom\"");
        assert_eq!(
            serde_json::from_str::<MnoId>("\"ke-safaricom\"").unwrap(),
            id
        );
        assert!(serde_json::from_str::<MnoId>("\"xx-nope\"").is_err());
        assert!(operators().windows(2).all(|w| w[0].id < w[1].id));
    }
}
