//! The upstream's bind limit across engines: two engines with two binds each fill an account
//! that allows four; a third engine is refused, stays unready and keeps retrying, and takes
//! the binds over once an engine leaves.

use std::time::Duration;

use semalink_engine::Engine;
use semalink_loadtest::sim::Behaviour;

use super::sim_with_limit;
use crate::pipeline::{TIMEOUT, config, get};

const RATE: &str = "rate = 1000.0\nburst = 100";

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_upstream_bind_limit_holds_across_engines() {
    let sim = sim_with_limit(Behaviour::default(), 4).await;
    let a = Engine::start(config(&sim, "binds = 2", RATE))
        .await
        .unwrap();
    let b = Engine::start(config(&sim, "binds = 2", RATE))
        .await
        .unwrap();
    assert!(a.wait_ready(TIMEOUT).await && b.wait_ready(TIMEOUT).await);
    until("four binds", || sim.stats().binds_current == 4).await;

    // A third engine finds the account full: refused, not ready, retrying.
    let c = Engine::start(config(&sim, "binds = 2", RATE))
        .await
        .unwrap();
    until("refused binds", || sim.stats().binds_rejected >= 2).await;
    assert!(!c.is_ready());
    assert_eq!(get(c.local_addr(), "/ready").await.0, 503);
    assert_eq!(sim.stats().binds_current, 4, "the limit held");

    // Engine A leaves (unbinds): C's retries take the freed binds.
    a.shutdown().await;
    assert!(c.wait_ready(TIMEOUT).await, "{:?}", sim.stats());
    until("C holds two binds", || {
        c.pipeline().pools[0].bound_count() == 2
    })
    .await;
    assert_eq!(sim.stats().binds_current, 4);
    assert!(b.is_ready());
    b.shutdown().await;
    c.shutdown().await;
}
