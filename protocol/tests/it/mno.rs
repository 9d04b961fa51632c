//! Operator lookup against the embedded prefix table.

use proptest::prelude::*;
use semalink_protocol::mno::{self, MnoId};
use semalink_protocol::msisdn::Msisdn;

#[test]
fn known_operators_resolve() {
    for (number, country, operator, id) in [
        ("+254712345678", "KE", "Safaricom", "ke-safaricom"),
        ("+254733123456", "KE", "Airtel", "ke-airtel"),
        ("+254771123456", "KE", "Telkom", "ke-telkom"),
        ("+2348031234567", "NG", "MTN", "ng-mtn"),
        ("+2348051234567", "NG", "Glo", "ng-glo"),
        ("+2348091234567", "NG", "9mobile", "ng-9mobile"),
        ("+2348021234567", "NG", "Airtel", "ng-airtel"),
        ("+256772123456", "UG", "MTN", "ug-mtn"),
        ("+256752123456", "UG", "Airtel", "ug-airtel"),
        ("+255754123456", "TZ", "Vodacom", "tz-vodacom"),
        ("+27821234567", "ZA", "Vodacom", "za-vodacom"),
        ("+27831234567", "ZA", "MTN", "za-mtn"),
        ("+233244123456", "GH", "MTN", "gh-mtn"),
        ("+250788123456", "RW", "MTN", "rw-mtn"),
        ("+250731234567", "RW", "Airtel", "rw-airtel"),
        ("+251911234567", "ET", "Ethio Telecom", "et-ethio-telecom"),
    ] {
        let msisdn = Msisdn::parse(number, None).unwrap();
        let found = mno::lookup(&msisdn).unwrap_or_else(|| panic!("{number}: no row"));
        let op = found
            .operator()
            .unwrap_or_else(|| panic!("{number}: no operator"));
        assert_eq!(
            (found.country(), op.name, op.id.as_str()),
            (country, operator, id),
            "{number}"
        );
        assert_eq!(found.mno_id(), Some(MnoId::parse(id).unwrap()));
        assert!(msisdn.digits().starts_with(found.prefix()));
        assert_eq!(mno::lookup_digits(msisdn.digits()), Some(found));
    }
}

#[test]
fn every_african_calling_code_resolves_to_a_country() {
    let codes = [
        "20", "27", "211", "212", "213", "216", "218", "220", "221", "222", "223", "224", "225",
        "226", "227", "228", "229", "230", "231", "232", "233", "234", "235", "236", "237", "238",
        "239", "240", "241", "242", "243", "244", "245", "246", "247", "248", "249", "250", "251",
        "252", "253", "254", "255", "256", "257", "258", "260", "261", "262", "263", "264", "265",
        "266", "267", "268", "269", "290", "291",
    ];
    for code in codes {
        let row = mno::lookup_digits(code).unwrap_or_else(|| panic!("+{code}: no row"));
        assert_eq!(row.prefix(), code);
        assert_eq!(
            row.operator(),
            None,
            "+{code}: the bare code is country-only"
        );
    }
    // Outside Africa: no row at all.
    for digits in ["14155550100", "447911123456", "33612345678", "297560000"] {
        assert_eq!(mno::lookup_digits(digits), None, "{digits}");
    }
}

#[test]
fn countries_without_operator_data_resolve_to_country_only() {
    // Tristan da Cunha (+290 8...) has a country row and no operator rows.
    let row = mno::lookup_digits("2908123").unwrap();
    assert_eq!((row.country(), row.operator()), ("TA", None));
    // A Kenyan fixed line: the country, no operator.
    let nairobi = Msisdn::parse("020 2222222", Some("KE")).unwrap();
    let row = mno::lookup(&nairobi).unwrap();
    assert_eq!((row.country(), row.mno_id()), ("KE", None));
    // A Mayotte fixed line under +262 (shared with Reunion): the number's own country.
    let mamoudzou = Msisdn::parse("+262 269 60 12 34", None).unwrap();
    assert_eq!(mamoudzou.country(), "YT");
    let row = mno::lookup(&mamoudzou).unwrap();
    assert_eq!(
        (row.country(), row.prefix(), row.mno_id()),
        ("YT", "262", None)
    );
    assert_eq!(
        mno::lookup_digits(mamoudzou.digits()).unwrap().country(),
        "RE"
    );
}

#[test]
fn table_is_larger_than_the_old_one_and_ids_are_consistent() {
    assert!(mno::rows().count() > 1000);
    for op in mno::operators() {
        assert!(
            op.id
                .as_str()
                .starts_with(&format!("{}-", op.country.to_ascii_lowercase()))
        );
        assert_eq!(MnoId::parse(op.id.as_str()).unwrap().operator(), op);
    }
    for row in mno::rows() {
        if let Some(op) = row.operator() {
            assert_eq!(op.country, row.country(), "{}", row.prefix());
        }
    }
}

/// The longest table prefix of `digits`, by brute force over all rows.
fn brute_force(digits: &str) -> Option<&'static str> {
    mno::rows()
        .map(|r| r.prefix())
        .filter(|p| digits.starts_with(p))
        .max_by_key(|p| p.len())
}

proptest! {
    #[test]
    fn lookup_never_panics(input in "\\PC{0,20}") {
        let _ = mno::lookup_digits(&input);
    }

    #[test]
    fn longest_prefix_wins(pick in 0usize..1200, suffix in "[0-9]{0,8}") {
        let rows: Vec<_> = mno::rows().collect();
        let prefix = rows[pick % rows.len()].prefix();
        // E.164 numbers have at most 15 digits; longer input matches nothing.
        let digits: String = format!("{prefix}{suffix}").chars().take(15).collect();
        let found = mno::lookup_digits(&digits).map(|r| r.prefix());
        prop_assert_eq!(found, brute_force(&digits));
        prop_assert!(found.unwrap().len() >= prefix.len());
    }

    #[test]
    fn any_digits_match_brute_force(digits in "2[0-9]{0,12}") {
        prop_assert_eq!(mno::lookup_digits(&digits).map(|r| r.prefix()), brute_force(&digits));
    }

    #[test]
    fn more_than_15_digits_match_nothing(digits in "254[0-9]{13,20}") {
        prop_assert_eq!(mno::lookup_digits(&digits), None);
    }
}
