//! A throughput probe, not a test (ignored; figures go to the report):
//! `cargo test --release -p semalink-engine --test it -- --ignored --nocapture bind::rate`

use std::time::{Duration, Instant};

use semalink_engine::smpp::{BindType, Pool};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run explicitly in release mode"]
async fn pool_submit_rate() {
    let sim = sim(no_receipts()).await;
    let mut cfg = config(&sim, BindType::Transceiver);
    cfg.window = 100;
    let (pool, _events) = Pool::uniform("rate", cfg, 4).unwrap();
    assert!(pool.wait_up(TIMEOUT).await);
    let total = 200_000;
    let parallel = 400;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..parallel {
        let pool = pool.clone();
        tasks.spawn(async move {
            let req = request("254712345678", "rate probe");
            let mut ok = 0;
            for _ in (t..total).step_by(parallel) {
                ok += usize::from(pool.submit(&req).await.is_ok_and(|o| o.is_ok()));
            }
            ok
        });
    }
    let mut ok = 0;
    while let Some(n) = tasks.join_next().await {
        ok += n.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(ok, total);
    println!(
        "{total} submits over 4 binds (window 100 each): {secs:.2}s, {:.0} submit/s",
        total as f64 / secs
    );
    pool.shutdown(Duration::from_secs(5)).await;
}
