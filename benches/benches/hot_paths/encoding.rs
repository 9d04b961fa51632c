//! Benches of message analysis (run for every composed message and every price quote) and of
//! segmentation (run for every message the engine submits).

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput};
use semalink_protocol::analysis::analyze;
use semalink_protocol::segment::{Reassembler, SegmentOptions, split};

const SHORT_GSM: &str = "Your code is 482913. It expires in 10 minutes. Do not share it.";

fn long_gsm() -> String {
    "Dear customer, your loan of KES 5,000 is due on 30/11. Pay via M-PESA paybill 123456 {acc}. "
        .repeat(6)
}

fn long_ucs2() -> String {
    "Habari! Ofa maalum ya wiki hii 🎉 – punguzo la 20% kwa wateja wote’ ".repeat(5)
}

/// Registers the `encoding/*` benches.
pub fn bench(c: &mut Criterion) {
    let long = long_gsm();
    let ucs2 = long_ucs2();
    let mut g = c.benchmark_group("encoding");
    for (name, text) in [
        ("analyze_short_gsm", SHORT_GSM),
        ("analyze_long_gsm", long.as_str()),
        ("analyze_ucs2", ucs2.as_str()),
    ] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| b.iter(|| analyze(black_box(text))));
    }
    let opts = SegmentOptions::default();
    for (name, text) in [
        ("segment_short_gsm", SHORT_GSM),
        ("segment_long_gsm", long.as_str()),
        ("segment_ucs2", ucs2.as_str()),
    ] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| split(black_box(text), black_box(42), &opts).unwrap())
        });
    }
    let parts = split(&long, 7, &opts).unwrap().segments;
    g.throughput(Throughput::Elements(parts.len() as u64));
    g.bench_function("reassemble_long_gsm", |b| {
        b.iter_batched(
            || Reassembler::new(64),
            |mut r| {
                let mut out = None;
                for p in &parts {
                    out = r
                        .accept("254700000001", &p.short_message, p.udhi, p.data_coding)
                        .unwrap();
                }
                out
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}
