//! The `semalink-sms` binary: every subcommand, usage and exit codes.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_semalink-sms"))
        .args(args)
        .output()
        .expect("run semalink-sms")
}

fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

#[test]
fn number_prints_e164_country_and_operator() {
    let out = json(&run(&["number", "+254712345678"]));
    assert_eq!(
        out,
        serde_json::json!({
            "e164": "+254712345678",
            "country": "KE",
            "calling_code": "254",
            "national": "712345678",
            "line_type": "mobile",
            "mno": "Safaricom",
            "mno_id": "ke-safaricom",
            "prefix": "25471",
        })
    );
}

#[test]
fn number_takes_a_default_country() {
    for args in [
        &["number", "0803 123 4567", "--country", "NG"][..],
        &["number", "--country=ng", "0803-123-4567"],
    ] {
        let out = json(&run(args));
        assert_eq!(out["e164"], "+2348031234567", "{args:?}");
        assert_eq!(out["mno_id"], "ng-mtn");
    }
    // A fixed line: no operator, explicitly null.
    let out = json(&run(&["number", "020 2222222", "--country", "KE"]));
    assert_eq!(out["line_type"], "fixed_line");
    assert!(out["mno"].is_null() && out["mno_id"].is_null());
}

#[test]
fn unparseable_number_exits_2_with_a_message() {
    let out = run(&["number", "0712345678"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("national number"), "{stderr}");

    let out = run(&["number", "0803 123 4567", "--country", "KE"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("not a valid number in KE"), "{stderr}");
}

#[test]
fn bad_usage_prints_usage_and_exits_2() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["number"],
        &["number", "+254712345678", "--bogus"],
        &["number", "+254712345678", "--country"],
        &["number", "+254712345678", "extra"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("Usage:"), "{args:?}: {stderr}");
    }
}

#[test]
fn help_prints_usage() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("semalink-sms number")
    );
}

#[test]
fn analyze_reports_encoding_units_and_segments() {
    let out = json(&run(&["analyze", "Hello {world}"]));
    assert_eq!(out["encoding"], "gsm7");
    // '{' and '}' are extension characters: two septets each.
    assert_eq!(out["units"], 15);
    assert_eq!(out["segments"], 1);

    let long = "a".repeat(161);
    let out = json(&run(&["analyze", &long]));
    assert_eq!(out["segments"], 2);
    assert_eq!(out["per_segment"], 153);

    let out = json(&run(&["analyze", "It’s done"]));
    assert_eq!(out["encoding"], "ucs2");
    assert_eq!(out["non_gsm"][0]["char"], "’");
}

#[test]
fn analyze_can_transliterate_look_alikes() {
    let out = json(&run(&["analyze", "It’s done", "--transliterate"]));
    assert_eq!(out["encoding"], "gsm7");
    assert_eq!(out["units"], 9);
}

#[test]
fn dlr_prints_the_receipt_and_its_outcome() {
    let text = "id:0A1B2C sub:001 dlvrd:001 submit date:2611260910 done date:2611260911 stat:DELIVRD err:000 text:Hello";
    let out = json(&run(&["dlr", text]));
    assert_eq!(out["outcome"], "delivered");
    assert_eq!(out["is_final"], true);
    assert_eq!(out["receipt"]["id"], "0A1B2C");

    let out = json(&run(&["dlr", "id:77 stat:ENROUTE"]));
    assert_eq!(out["outcome"], "intermediate");
    assert_eq!(out["is_final"], false);
}

#[test]
fn unparseable_receipt_exits_2() {
    let out = run(&["dlr", "hello there"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!out.stderr.is_empty());
}
