//! The engine's per-message hot path: route (operator lookup + route table), throttle check,
//! segmentation, correlation insert and receipt match, per-message tracking, and all of it
//! together for one single-part message.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use semalink_engine::config::Config;
use semalink_engine::correlation::{CorrelationKey, MemoryStore, ReceiptMatch, SegmentKey};
use semalink_engine::routing::Router;
use semalink_engine::throttle::Throttle;
use semalink_engine::tracker::Tracker;
use semalink_protocol::dlr::{Receipt, Stat};
use semalink_protocol::msgid::{IdPolicy, Side, canonical};
use semalink_protocol::segment::{SegmentOptions, split};
use uuid::Uuid;

/// Rates far above what one core can offer, so the throttle admits every call and the bench
/// measures its cost, not its waiting.
const CONFIG: &str = r#"
    [http]
    listen = "127.0.0.1:0"
    [[upstreams]]
    name = "sim"
    host = "127.0.0.1"
    port = 2775
    system_id = "semalink"
    password = "secret"
    tps_cap = 1e12
    [[routes]]
    mno = "ke-safaricom"
    upstream = "sim"
    rate = 1e12
    burst = 1000000
    adaptive = true
    [[routes]]
    country = "NG"
    upstream = "sim"
    rate = 1e12
    burst = 1000000
    [default_route]
    upstream = "sim"
    rate = 1e12
    burst = 1000000
"#;

const NUMBERS: &[&str] = &[
    "+254712345678",
    "+254733123456",
    "+2348031234567",
    "+256772123456",
    "+27821234567",
    "+254202222222",
];

const TEXT: &str = "Your Sema Link verification code is 482913. It expires in 10 minutes.";

pub fn bench(c: &mut Criterion) {
    let config = Config::from_toml(CONFIG, Vec::new()).unwrap();
    let router = Router::new(&config).unwrap();
    let throttle = Throttle::new(&config, &router);
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(1));

    g.bench_function("route", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % NUMBERS.len();
            black_box(router.route(black_box(NUMBERS[i])))
        })
    });
    let route = router.route("+254712345678").route;
    g.bench_function("throttle_try_acquire", |b| {
        b.iter(|| black_box(throttle.try_acquire(black_box(route))))
    });
    let opts = SegmentOptions::default();
    g.bench_function("segment_single_gsm7", |b| {
        b.iter(|| black_box(split(black_box(TEXT), 1, &opts).unwrap()))
    });

    let store = MemoryStore::new(Duration::from_secs(3600), Duration::from_secs(600));
    g.bench_function("correlate_insert_then_match", |b| {
        let mut n: u64 = 1_000_000_000;
        b.iter(|| {
            n += 1;
            let resp_id = n.to_string();
            let now = Instant::now();
            let key = CorrelationKey {
                upstream: 0,
                id: canonical(&resp_id, Side::SubmitResp, IdPolicy::Auto),
            };
            let target = SegmentKey {
                message_id: Uuid::from_u128(u128::from(n)),
                segment: 1,
                segments: 1,
            };
            black_box(store.insert_at(key, target, now));
            let receipt = Receipt::new(resp_id, Stat::Delivered);
            let key = CorrelationKey {
                upstream: 0,
                id: canonical(&receipt.id, Side::Receipt, IdPolicy::Auto),
            };
            match store.park_at(key, receipt, now) {
                ReceiptMatch::Matched { target, .. } => black_box(target),
                ReceiptMatch::Parked => unreachable!("inserted just before"),
            };
        })
    });

    let tracker = Tracker::new(Duration::from_secs(3600));
    g.bench_function("track_begin_sent_delivered", |b| {
        let mut n: u128 = 0;
        let receipt = Receipt::new("1", Stat::Delivered);
        b.iter(|| {
            n += 1;
            let id = Uuid::from_u128(n);
            tracker.begin(id, 1);
            black_box(tracker.sent(id, 1, "sim", "1"));
            black_box(tracker.receipt(id, 1, "sim", &receipt));
        })
    });

    let store = MemoryStore::new(Duration::from_secs(3600), Duration::from_secs(600));
    let tracker = Tracker::new(Duration::from_secs(3600));
    g.bench_function("pipeline_one_message", |b| {
        let mut n: u64 = 5_000_000_000;
        let mut i = 0;
        b.iter(|| {
            n += 1;
            i = (i + 1) % NUMBERS.len();
            let id = Uuid::from_u128(u128::from(n));
            let routed = router.route(black_box(NUMBERS[i]));
            throttle.try_acquire(routed.route).unwrap();
            let parts = split(black_box(TEXT), n as u16, &opts).unwrap();
            tracker.begin(id, parts.segments.len() as u16);
            let smsc_id = n.to_string();
            let now = Instant::now();
            let key = CorrelationKey {
                upstream: 0,
                id: canonical(&smsc_id, Side::SubmitResp, IdPolicy::Auto),
            };
            let target = SegmentKey {
                message_id: id,
                segment: 1,
                segments: 1,
            };
            store.insert_at(key.clone(), target, now);
            black_box(tracker.sent(id, 1, "sim", &smsc_id));
            let receipt = Receipt::new(smsc_id, Stat::Delivered);
            if let ReceiptMatch::Matched { target, receipt } = store.park_at(key, receipt, now) {
                black_box(tracker.receipt(target.message_id, target.segment, "sim", &receipt));
            }
        })
    });
    g.finish();
}
