//! The Redis correlation store on the machine's Redis (127.0.0.1:6379, or `SEMALINK_BENCH_REDIS`):
//! one insert (mapping + message record + parked hand-back, one Lua script) and one receipt
//! match (one Lua script) per element, a batch at a time — 1,000 concurrent pairs on the one
//! multiplexed connection (pipelined on the socket), and the same pairs one after the other
//! (round-trip bound). Skipped, with a note, when Redis does not answer.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use semalink_engine::config::{RedisConfig, Secret};
use semalink_engine::correlation::{
    CorrelationKey, CorrelationStore, ReceiptMatch, RedisStore, SegmentKey,
};
use semalink_protocol::dlr::{Receipt, Stat};
use semalink_protocol::msgid::CanonicalId;
use tokio::runtime::Runtime;
use uuid::Uuid;

const BATCH: u64 = 1_000;

async fn insert_then_match(store: &RedisStore, n: u64) {
    let key = CorrelationKey {
        upstream: 0,
        id: CanonicalId::Number(u128::from(n)),
    };
    let target = SegmentKey {
        message_id: Uuid::from_u128(u128::from(n)),
        segment: 1,
        segments: 1,
    };
    black_box(store.insert(key.clone(), target).await.unwrap());
    match store
        .park_receipt(key, Receipt::new(n.to_string(), Stat::Delivered))
        .await
        .unwrap()
    {
        ReceiptMatch::Matched { target, .. } => black_box(target),
        ReceiptMatch::Parked => unreachable!("inserted just before"),
    };
}

pub fn bench(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let url =
        std::env::var("SEMALINK_BENCH_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let config = RedisConfig {
        url: Secret::new(url),
        key_prefix: format!("sl-bench-{:x}:", Uuid::now_v7().as_u128() as u64),
        // Short: the bench's keys expire on their own, nothing is left behind.
        mapping_ttl_secs: 120,
    };
    let store = rt.block_on(async {
        let store = RedisStore::new(&config, Duration::from_secs(60)).unwrap();
        store.probe().await.then_some(store)
    });
    let Some(store) = store else {
        eprintln!("redis bench skipped: no Redis at the configured URL");
        return;
    };
    let store = std::sync::Arc::new(store);
    let mut g = c.benchmark_group("redis");
    g.throughput(Throughput::Elements(BATCH));
    g.sample_size(20);
    let mut n: u64 = 1 << 40;
    g.bench_function("correlate_insert_then_match_x1000_concurrent", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut tasks = tokio::task::JoinSet::new();
                for _ in 0..BATCH {
                    n += 1;
                    let (store, n) = (std::sync::Arc::clone(&store), n);
                    tasks.spawn(async move { insert_then_match(&store, n).await });
                }
                while let Some(done) = tasks.join_next().await {
                    done.unwrap();
                }
            })
        })
    });
    g.bench_function("correlate_insert_then_match_x1000_sequential", |b| {
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..BATCH {
                    n += 1;
                    insert_then_match(&store, n).await;
                }
            })
        })
    });
    g.finish();
}
