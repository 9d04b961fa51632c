//! Receipt tests across the module: vendor variants seen in the wild, and property tests
//! (never panics; write → read round trip; field order and key case do not matter).

use proptest::prelude::*;

use super::*;

fn date(s: &str) -> Option<ReceiptDate> {
    Some(ReceiptDate::parse(s).expect("test date"))
}

#[test]
fn standard_appendix_b() {
    let r = parse_text(
        "id:0123456789 sub:001 dlvrd:001 submit date:2301311459 done date:2301311500 \
         stat:DELIVRD err:000 text:Hello from Sema",
    )
    .unwrap();
    assert_eq!(
        r,
        Receipt {
            id: "0123456789".into(),
            submitted: Some(1),
            delivered: Some(1),
            submit_date: date("2301311459"),
            done_date: date("2301311500"),
            stat: Stat::Delivered,
            err: Some("000".into()),
            text: Some("Hello from Sema".into()),
            network_error: None,
            handset: None,
        }
    );
    assert!(r.is_final());
    assert_eq!(r.error_code(), Some(0));
}

#[test]
fn jasmin_uuid_without_sub_dlvrd_text() {
    let r = parse_text(
        "id:5f0c0c3e-8a43-4c1d-9b9e-3a2f1c0d9e8b submit date:2301311459 \
         done date:2301311500 stat:UNDELIV err:034",
    )
    .unwrap();
    assert_eq!(r.id, "5f0c0c3e-8a43-4c1d-9b9e-3a2f1c0d9e8b");
    assert_eq!(
        (r.submitted, r.delivered, r.text.as_deref()),
        (None, None, None)
    );
    assert_eq!(r.outcome(), Outcome::Failed);
    assert_eq!(r.error_code(), Some(34));
}

#[test]
fn capitalised_keys_underscored_dates_and_seconds() {
    let r = parse_text(
        "id:A1B2 sub:001 dlvrd:000 submit_date:230131145907 done_date:230131150002 \
         stat:REJECTD err:0B Text:Your code is 1234",
    )
    .unwrap();
    assert_eq!(r.submit_date.unwrap().second, Some(7));
    assert_eq!(r.done_date.unwrap().second, Some(2));
    assert_eq!(r.stat, Stat::Rejected);
    assert_eq!(r.err.as_deref(), Some("0B"));
    assert_eq!(r.error_code(), None, "err is not decimal");
    assert_eq!(r.text.as_deref(), Some("Your code is 1234"));
}

#[test]
fn reordered_upper_case_extra_whitespace_and_trailing_junk() {
    let r = parse_text(
        "  STAT:expired\r\n  ERR:000   ID :  99 DONE DATE:2301311500  whatever follows\n",
    )
    .unwrap();
    assert_eq!((r.id.as_str(), &r.stat), ("99", &Stat::Expired));
    assert_eq!(r.done_date, date("2301311500"));
    assert_eq!(r.outcome(), Outcome::Expired);
}

#[test]
fn text_containing_keys_stays_text() {
    let r = parse_text("id:1 stat:DELIVRD err:000 text:Your id: 5 stat:x sub:3").unwrap();
    assert_eq!(r.id, "1");
    assert_eq!(r.submitted, None);
    assert_eq!(r.text.as_deref(), Some("Your id: 5 stat:x sub:3"));
}

#[test]
fn intermediate_states_are_not_final() {
    for word in ["ACCEPTD", "ENROUTE", "BUFFRED", "buffered", "NEWWORD"] {
        let r = parse_text(&format!("id:1 stat:{word}")).unwrap();
        assert!(!r.is_final(), "{word}");
    }
    for word in ["DELETED", "UNKNOWN"] {
        let r = parse_text(&format!("id:1 stat:{word}")).unwrap();
        assert_eq!(r.outcome(), Outcome::Failed, "{word}");
    }
}

#[test]
fn malformed_optional_fields_are_dropped() {
    let r = parse_text("id:1 sub:abc dlvrd:-1 submit date:2399999999 stat:DELIVRD").unwrap();
    assert_eq!(
        (r.submitted, r.delivered, r.submit_date),
        (None, None, None)
    );
}

#[test]
fn errors() {
    assert_eq!(parse_text(""), Err(ReceiptError::NotAReceipt));
    assert_eq!(parse_text("STOP"), Err(ReceiptError::NotAReceipt));
    assert_eq!(
        parse_text("id:1 err:000"),
        Err(ReceiptError::MissingField("stat"))
    );
    assert_eq!(
        parse_text("stat:DELIVRD"),
        Err(ReceiptError::MissingField("id"))
    );
    assert_eq!(
        ReceiptError::MissingField("id").to_string(),
        "delivery receipt has no `id` field"
    );
}

#[test]
fn serializes_to_json() {
    let r = parse_text("id:1 stat:DELIVRD done date:2301311500").unwrap();
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["stat"], "DELIVRD");
    assert_eq!(json["done_date"]["minute"], 0);
    let back: Receipt = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
}

fn stat_strategy() -> impl Strategy<Value = Stat> {
    (0u8..=9)
        .prop_map(|v| Stat::from_message_state(v).unwrap())
        .boxed()
        .prop_union(Just(Stat::Buffered).boxed())
}

fn date_strategy() -> impl Strategy<Value = ReceiptDate> {
    (
        2000u16..2100,
        1u8..=12,
        1u8..=28,
        0u8..24,
        0u8..60,
        proptest::option::of(0u8..60),
    )
        .prop_map(|(year, month, day, hour, minute, second)| ReceiptDate {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
}

prop_compose! {
    fn receipt_strategy()(
        id in "[A-Za-z0-9._-]{1,40}",
        submitted in proptest::option::of(0u32..2000),
        delivered in proptest::option::of(0u32..2000),
        submit_date in proptest::option::of(date_strategy()),
        done_date in proptest::option::of(date_strategy()),
        stat in stat_strategy(),
        err in proptest::option::of("[0-9A-Za-z]{1,5}"),
        text in proptest::option::of("[A-Za-z0-9 :.,!é€]{0,30}"),
    ) -> Receipt {
        let text = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        Receipt { id, submitted, delivered, submit_date, done_date, stat, err, text, network_error: None, handset: None }
    }
}

/// Receipt-ish noise: keys, colons, values, odd whitespace (including a non-ASCII space).
const NOISE: &str = "((id|sub|dlvrd|submit date|done_date|stat|err|text|Text|status)? ?:? ?[0-9A-Za-z:é\\u{a0}]{0,12}[ \\t\\r\\n]{0,2}){0,4}";
const TOKEN: &str = "[0-9A-Za-z:é\\u{a0}]{0,8}";

/// Random ASCII case, as vendors do to keys.
fn recase(s: &str, flips: &[bool]) -> String {
    s.chars()
        .zip(flips.iter().cycle())
        .map(|(c, &up)| {
            if up {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

proptest! {
    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let _ = parse_text(&s);
    }

    #[test]
    fn receipt_like_noise_reparses_after_formatting(
        noise in proptest::collection::vec(NOISE, 3),
        id in TOKEN,
        stat in TOKEN,
        swap in any::<bool>(),
    ) {
        // The fuzz target's invariant: whatever parses, formats to text that parses back to
        // the same id and state.
        let (x, y) = (format!("id:{id}"), format!("stat:{stat}"));
        let (x, y) = if swap { (y, x) } else { (x, y) };
        let s = format!("{} {x} {} {y} {}", noise[0], noise[1], noise[2]);
        if let Ok(r) = parse_text(&s) {
            let again = parse_text(&r.to_text()).unwrap();
            prop_assert_eq!((again.id, again.stat), (r.id, r.stat));
        }
    }

    #[test]
    fn from_deliver_sm_never_panics(
        sm in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
        rid in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..70)),
        state in proptest::option::of(any::<u8>()),
        nec in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..5)),
    ) {
        let parts = DeliverSmParts {
            short_message: sm.as_deref(),
            receipted_message_id: rid.as_deref(),
            message_state: state,
            network_error_code: nec.as_deref(),
        };
        if let Ok(r) = from_deliver_sm(&parts) {
            prop_assert!(!r.id.is_empty());
            let _ = parse_text(&r.to_text());
        }
    }

    #[test]
    fn format_then_parse_round_trips(r in receipt_strategy()) {
        prop_assert_eq!(parse_text(&r.to_text()).unwrap(), r);
    }

    #[test]
    fn field_order_and_key_case_do_not_matter(
        r in receipt_strategy(),
        order in Just((0..7).collect::<Vec<usize>>()).prop_shuffle(),
        flips in proptest::collection::vec(any::<bool>(), 1..8),
    ) {
        let mut parts: Vec<String> = vec![format!("{}:{}", recase("id", &flips), r.id)];
        parts.push(format!("{}:{}", recase("stat", &flips), r.stat));
        if let Some(n) = r.submitted { parts.push(format!("{}:{n:03}", recase("sub", &flips))); }
        if let Some(n) = r.delivered { parts.push(format!("{}:{n:03}", recase("dlvrd", &flips))); }
        if let Some(d) = r.submit_date { parts.push(format!("{}:{d}", recase("submit date", &flips))); }
        if let Some(d) = r.done_date { parts.push(format!("{}:{d}", recase("done_date", &flips))); }
        if let Some(e) = &r.err { parts.push(format!("{}:{e}", recase("err", &flips))); }
        let mut shuffled: Vec<&String> = order.iter().filter_map(|&i| parts.get(i)).collect();
        shuffled.extend(parts.iter().skip(7));
        let mut text = shuffled.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("  ");
        if let Some(t) = &r.text {
            text.push_str(&format!(" {}:{t}", recase("text", &flips)));
        }
        prop_assert_eq!(parse_text(&text).unwrap(), r);
    }
}
