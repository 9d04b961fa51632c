//! `Msisdn::parse` on the forms people type, for the focus countries, and on bad input.

use proptest::prelude::*;
use semalink_protocol::msisdn::{LineType, Msisdn, MsisdnError};

/// (country, expected E.164, national, typed forms to parse with that default country).
const FORMS: &[(&str, &str, &str, &[&str])] = &[
    (
        "KE",
        "+254712345678",
        "712345678",
        &[
            "0712 345 678",
            "712345678",
            "254712345678",
            "00254712345678",
            "000254712345678",
            "+254 712-345-678",
            "(0712) 345.678",
            " +254 (0)712 345678 ",
        ],
    ),
    (
        "NG",
        "+2348031234567",
        "8031234567",
        &[
            "0803 123 4567",
            "8031234567",
            "2348031234567",
            "002348031234567",
            "(0803) 123-4567",
        ],
    ),
    (
        "UG",
        "+256772123456",
        "772123456",
        &[
            "0772 123456",
            "772123456",
            "256772123456",
            "+256 772 123 456",
            "0772.123.456",
        ],
    ),
    (
        "TZ",
        "+255754123456",
        "754123456",
        &[
            "0754 123 456",
            "754123456",
            "255754123456",
            "00255 754 123456",
            "+255-754-123-456",
        ],
    ),
    (
        "ZA",
        "+27821234567",
        "821234567",
        &[
            "082 123 4567",
            "821234567",
            "27821234567",
            "0027821234567",
            "+27 (0)82 123 4567",
        ],
    ),
    (
        "GH",
        "+233244123456",
        "244123456",
        &[
            "024 412 3456",
            "244123456",
            "233244123456",
            "00233244123456",
            "+233 24 412 3456",
        ],
    ),
    (
        "RW",
        "+250788123456",
        "788123456",
        &[
            "0788 123 456",
            "788123456",
            "250788123456",
            "00250788123456",
            "+250 788-123-456",
        ],
    ),
    (
        "ET",
        "+251911234567",
        "911234567",
        &[
            "0911 23 45 67",
            "911234567",
            "251911234567",
            "00251911234567",
            "+251 91 123 4567",
        ],
    ),
];

#[test]
fn typed_forms_parse_to_one_e164_number_per_country() {
    for &(country, e164, national, forms) in FORMS {
        for form in forms {
            let number = Msisdn::parse(form, Some(country))
                .unwrap_or_else(|e| panic!("{form:?} in {country}: {e}"));
            assert_eq!(number.as_str(), e164, "{form:?} in {country}");
            assert_eq!(number.country(), country);
            assert_eq!(number.national(), national);
            assert_eq!(number.line_type(), LineType::Mobile, "{e164}");
        }
        // The international forms need no default country, and another default does not matter.
        let without = Msisdn::parse(&e164[1..], None).unwrap();
        assert_eq!(without.as_str(), e164);
        let other = if country == "KE" { "NG" } else { "KE" };
        assert_eq!(Msisdn::parse(e164, Some(other)).unwrap().as_str(), e164);
        assert_eq!(
            Msisdn::parse(&e164[1..], Some(other)).unwrap().as_str(),
            e164
        );
    }
}

#[test]
fn invalid_inputs_are_rejected_with_the_reason() {
    use MsisdnError::*;
    let err = |input: &str, country: Option<&str>| Msisdn::parse(input, country).unwrap_err();
    assert!(matches!(
        err("0712", Some("KE")),
        TooShort(_) | NotValid { .. }
    ));
    assert!(matches!(err("+2547", None), TooShort(_) | NotValid { .. }));
    assert!(matches!(err("07123456789012345", Some("KE")), TooLong(_)));
    assert!(matches!(err("+2547123456789012345", None), TooLong(_)));
    assert_eq!(err("  ", Some("KE")), Empty);
    assert_eq!(err("+254 712+345678", None), InvalidCharacter('+'));
    assert_eq!(err("0712 34S 678", Some("KE")), InvalidCharacter('S'));
    assert_eq!(err("call me", Some("KE")), InvalidCharacter('c'));
    assert_eq!(err("+", None), Empty);
    assert_eq!(err("0712345678", None), NeedsCountry("0712345678".into()));
    assert_eq!(err("0712345678", Some("ZZZ")), UnknownCountry("ZZZ".into()));
    assert!(matches!(err("+999712345678", None), UnknownCallingCode(_)));
    // A Nigerian national number read as Kenyan: wrong country.
    let wrong = err("0803 123 4567", Some("KE"));
    assert!(
        matches!(&wrong, NotValid { country, .. } if country == "KE"),
        "{wrong}"
    );
    // Kenyan prefix 01 with a digit count the plan does not have.
    assert!(matches!(
        err("+2541123", None),
        TooShort(_) | NotValid { .. }
    ));
}

#[test]
fn errors_read_well() {
    let e = Msisdn::parse("0803 123 4567", Some("KE")).unwrap_err();
    assert_eq!(e.to_string(), "+2548031234567 is not a valid number in KE");
    let e = Msisdn::parse("07x", Some("KE")).unwrap_err();
    assert!(e.to_string().contains("invalid character 'x'"), "{e}");
}

proptest! {
    #[test]
    fn parse_never_panics(input in "\\PC{0,24}", country in "[A-Za-z]{0,3}") {
        let _ = Msisdn::parse(&input, Some(&country));
        let _ = Msisdn::parse(&input, None);
    }

    #[test]
    fn parsed_numbers_round_trip(input in "[+0-9 ()-]{0,18}", country in "(KE|NG|UG|TZ|ZA|GH|RW|ET)") {
        if let Ok(number) = Msisdn::parse(&input, Some(&country)) {
            prop_assert!(number.as_str().starts_with('+'));
            prop_assert!(number.digits().bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(number.digits().len() <= 15);
            prop_assert_eq!(format!("{}{}", number.calling_code(), number.national()), number.digits());
            let again = Msisdn::parse(number.as_str(), None).unwrap();
            prop_assert_eq!(again, number);
        }
    }
}
