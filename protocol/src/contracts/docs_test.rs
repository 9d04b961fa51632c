//! Keeps `docs/contracts.md` honest: every ```json block there must be preceded by a marker
//! `<!-- example: Type[; invalid: field …| ; unsupported | ; missing-version] -->`, and must
//! decode (or fail) exactly as the marker says. Valid examples must also survive
//! encode → decode unchanged.

use super::*;

const DOC: &str = include_str!("../../../docs/contracts.md");

/// What an example is expected to do.
#[derive(Debug, PartialEq)]
enum Expect {
    Valid,
    Invalid(Vec<String>),
    Unsupported,
    MissingVersion,
}

/// The `(type, expectation, json)` of every example, in document order.
fn examples() -> Vec<(String, Expect, String)> {
    let mut out = Vec::new();
    let mut marker: Option<&str> = None;
    let mut lines = DOC.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        if let Some(m) = line
            .strip_prefix("<!-- example:")
            .and_then(|m| m.strip_suffix("-->"))
        {
            marker = Some(m.trim());
        } else if line == "```json" {
            let json: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            let m = marker
                .take()
                .expect("every json block in docs/contracts.md needs a marker");
            let (ty, rest) = m.split_once(';').unwrap_or((m, ""));
            let rest = rest.trim();
            let expect = if rest.is_empty() {
                Expect::Valid
            } else if rest == "unsupported" {
                Expect::Unsupported
            } else if rest == "missing-version" {
                Expect::MissingVersion
            } else {
                let fields = rest.strip_prefix("invalid:").expect("unknown marker");
                Expect::Invalid(fields.split_whitespace().map(str::to_owned).collect())
            };
            out.push((ty.trim().to_owned(), expect, json.join("\n")));
        } else if !line.is_empty() && line.starts_with("```") {
            assert!(marker.is_none(), "marker before a non-json block: {line}");
        }
    }
    out
}

fn check<T: Contract + PartialEq + std::fmt::Debug>(expect: &Expect, json: &str) {
    let result = decode::<T>(json.as_bytes());
    match (expect, result) {
        (Expect::Valid, Ok(message)) => {
            let again: T = decode(&encode(&message).unwrap()).unwrap();
            assert_eq!(again, message, "round trip of {json}");
        }
        (Expect::Invalid(fields), Err(ContractError::Invalid { errors, .. })) => {
            let found: Vec<&str> = errors.0.iter().map(|e| e.field).collect();
            assert_eq!(found, *fields, "invalid fields of {json}");
        }
        (Expect::Unsupported, Err(ContractError::UnsupportedVersion { found, .. })) => {
            assert_ne!(found, VERSION.to_string());
        }
        (Expect::MissingVersion, Err(ContractError::MissingVersion { contract })) => {
            assert_eq!(contract, T::NAME);
        }
        (expect, result) => panic!("{json}\nexpected {expect:?}, got {result:?}"),
    }
}

/// A `Batch<T>` example: valid means every element is a valid `T` and the envelope survives
/// encode → decode; `unsupported` / `missing-version` are about the envelope itself.
fn check_batch<T: Contract + PartialEq + std::fmt::Debug>(expect: &Expect, json: &str) {
    let result = decode_batch::<T>(json.as_bytes());
    match (expect, result) {
        (Expect::Valid, Ok(items)) => {
            let messages: Vec<T> = items
                .into_iter()
                .map(|i| i.unwrap_or_else(|e| panic!("{json}: {:?}", e.error)))
                .collect();
            assert!(messages.len() >= 2, "a batch example of one: {json}");
            let again: Vec<T> = decode_batch(&encode_batch(&messages).unwrap())
                .unwrap()
                .into_iter()
                .map(Result::unwrap)
                .collect();
            assert_eq!(again, messages, "round trip of {json}");
        }
        (Expect::Unsupported, Err(ContractError::UnsupportedVersion { contract, .. })) => {
            assert_eq!(contract, BATCH);
        }
        (Expect::MissingVersion, Err(ContractError::MissingVersion { contract })) => {
            assert_eq!(contract, BATCH);
        }
        (expect, result) => panic!("{json}\nexpected {expect:?}, got {result:?}"),
    }
}

#[test]
fn every_json_example_in_the_doc_behaves_as_marked() {
    let examples = examples();
    assert!(
        examples.len() >= 8,
        "found only {} examples",
        examples.len()
    );
    for (ty, expect, json) in &examples {
        match ty.as_str() {
            "SubmitRequest" => check::<SubmitRequest>(expect, json),
            "StatusEvent" => check::<StatusEvent>(expect, json),
            "InboundMessage" => check::<InboundMessage>(expect, json),
            "Batch<SubmitRequest>" => check_batch::<SubmitRequest>(expect, json),
            "Batch<StatusEvent>" => check_batch::<StatusEvent>(expect, json),
            "Batch<InboundMessage>" => check_batch::<InboundMessage>(expect, json),
            other => panic!("unknown contract {other} in docs/contracts.md"),
        }
    }
    for ty in [
        "SubmitRequest",
        "StatusEvent",
        "InboundMessage",
        "Batch<SubmitRequest>",
        "Batch<StatusEvent>",
    ] {
        assert!(
            examples
                .iter()
                .any(|(t, e, _)| t == ty && *e == Expect::Valid),
            "no valid {ty} example"
        );
    }
}

#[test]
fn decode_errors_are_specific() {
    let err = decode_submit(b"not json").unwrap_err();
    assert!(
        matches!(
            err,
            ContractError::Malformed {
                contract: "SubmitRequest",
                ..
            }
        ),
        "{err}"
    );
    let err = decode_status(br#"{"version": "1"}"#).unwrap_err();
    assert!(
        matches!(err, ContractError::UnsupportedVersion { .. }),
        "{err}"
    );
    let err = decode_inbound(br#"{"version": 1, "id": "nope"}"#).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("InboundMessage: malformed JSON"),
        "{err}"
    );
    let err = decode_submit(br#"{"version": 3}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "SubmitRequest: unsupported version 3 (this build reads version 1)"
    );
}
