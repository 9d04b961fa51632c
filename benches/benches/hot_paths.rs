//! Criterion benches of the hot paths. One bench binary (one link step); one module per area.
//! Run with `cargo bench -p semalink-benches`; figures go to `docs/performance.md`.

use criterion::{criterion_group, criterion_main};

#[path = "hot_paths/codec.rs"]
mod codec;
#[path = "hot_paths/dlr.rs"]
mod dlr;
#[path = "hot_paths/encoding.rs"]
mod encoding;
#[path = "hot_paths/engine.rs"]
mod engine;
#[path = "hot_paths/mno.rs"]
mod mno;
#[path = "hot_paths/redis.rs"]
mod redis;

criterion_group!(
    benches,
    encoding::bench,
    dlr::bench,
    mno::bench,
    codec::bench,
    engine::bench,
    redis::bench
);
criterion_main!(benches);
