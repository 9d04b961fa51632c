//! Numbers and operators: `Msisdn::parse` (libphonenumber parsing + validation) and the
//! longest-prefix operator lookup that routing does for every message.

use std::hint::black_box;

use criterion::Criterion;
use semalink_protocol::mno;
use semalink_protocol::msisdn::Msisdn;

/// A mix of focus-country numbers, so the lookup does not always walk the same trie path.
const NUMBERS: &[&str] = &[
    "+254712345678",
    "+254733123456",
    "+2348031234567",
    "+256772123456",
    "+255754123456",
    "+27821234567",
    "+233244123456",
    "+250788123456",
    "+251911234567",
    "+254202222222",
];

pub fn bench(c: &mut Criterion) {
    let parsed: Vec<Msisdn> = NUMBERS.iter().map(|n| n.parse().unwrap()).collect();
    c.bench_function("mno/lookup", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % parsed.len();
            black_box(mno::lookup(black_box(&parsed[i])))
        })
    });
    c.bench_function("mno/lookup_digits", |b| {
        b.iter(|| black_box(mno::lookup_digits(black_box("2348031234567"))))
    });
    c.bench_function("mno/msisdn_parse_e164", |b| {
        b.iter(|| black_box(Msisdn::parse(black_box("+254712345678"), None)))
    });
    c.bench_function("mno/msisdn_parse_national", |b| {
        b.iter(|| black_box(Msisdn::parse(black_box("0712 345 678"), Some("KE"))))
    });
    c.bench_function("mno/msisdn_parse_invalid", |b| {
        b.iter(|| black_box(Msisdn::parse(black_box("0803 123 4567"), Some("KE"))))
    });
}
