//! Delivery receipts and message-id keys: every `deliver_sm` receipt the engine receives is
//! parsed and its id canonicalised before the correlation lookup, so both sit on the hot path.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use semalink_protocol::dlr::{DeliverSmParts, from_deliver_sm, parse_text};
use semalink_protocol::msgid::{IdPolicy, Side, canonical};

const STANDARD: &str = "id:1234567890 sub:001 dlvrd:001 submit date:2311260500 \
    done date:2311260501 stat:DELIVRD err:000 text:Your code is 482913";
const JASMIN: &str = "id:5f0c0c3e-8a43-4c1d-9b9e-3a2f1c0d9e8b submit date:231126050012 \
    done date:231126050109 stat:UNDELIV err:034";
const VARIANT: &str = "  ID : 00A1B2C3 Submit_Date:231126050012 DONE_DATE:231126050109 \
    Stat:delivered Err:000 Text:Hello there, this is trailing text";

pub fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("dlr");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_standard", |b| {
        b.iter(|| parse_text(black_box(STANDARD)))
    });
    g.bench_function("parse_jasmin_uuid", |b| {
        b.iter(|| parse_text(black_box(JASMIN)))
    });
    g.bench_function("parse_vendor_variant", |b| {
        b.iter(|| parse_text(black_box(VARIANT)))
    });
    let parts = DeliverSmParts {
        short_message: Some(STANDARD.as_bytes()),
        receipted_message_id: Some(b"1234567890\0"),
        message_state: Some(2),
        network_error_code: Some(&[3, 0, 0]),
    };
    g.bench_function("from_deliver_sm_tlvs", |b| {
        b.iter(|| from_deliver_sm(black_box(&parts)))
    });
    let receipt = parse_text(STANDARD).unwrap();
    g.bench_function("to_text", |b| b.iter(|| black_box(&receipt).to_text()));
    g.bench_function("canonical_decimal", |b| {
        b.iter(|| canonical(black_box("0001234567890"), Side::Receipt, IdPolicy::Auto))
    });
    g.bench_function("canonical_hex_to_decimal", |b| {
        b.iter(|| {
            canonical(
                black_box("0x0000499602D2"),
                Side::SubmitResp,
                IdPolicy::HexToDecimal,
            )
        })
    });
    g.bench_function("canonical_uuid", |b| {
        b.iter(|| {
            canonical(
                black_box("5F0C0C3E-8A43-4C1D-9B9E-3A2F1C0D9E8B"),
                Side::Receipt,
                IdPolicy::Auto,
            )
        })
    });
    g.bench_function("canonical_text", |b| {
        b.iter(|| canonical(black_box("MSG-00A1-XYZ"), Side::Receipt, IdPolicy::Auto))
    });
    g.finish();
}
