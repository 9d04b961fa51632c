//! Pools: readiness, spreading load, and losing binds mid-stream without losing requests.

use std::time::Duration;

use semalink_engine::smpp::{BindType, Pool, SessionEvent, SubmitError};
use semalink_loadtest::SimHandle;

use super::*;

/// Submits `total` messages from `parallel` tasks; returns (ok, not sent, ambiguous).
async fn blast(pool: &Pool, total: usize, parallel: usize) -> (usize, usize, usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..parallel {
        let pool = pool.clone();
        tasks.spawn(async move {
            let mut counts = (0, 0, 0);
            for i in (t..total).step_by(parallel) {
                match pool
                    .submit(&request("254712345678", &format!("n{i}")))
                    .await
                {
                    Ok(outcome) => {
                        assert!(outcome.is_ok(), "{outcome:?}");
                        counts.0 += 1;
                    }
                    Err(e @ SubmitError::NotSent(_)) => {
                        assert!(e.is_retryable());
                        counts.1 += 1;
                    }
                    Err(e @ SubmitError::Ambiguous(_)) => {
                        assert!(e.is_retryable());
                        counts.2 += 1;
                    }
                    Err(e) => panic!("unexpected {e}"),
                }
            }
            counts
        });
    }
    let mut sum = (0, 0, 0);
    while let Some(r) = tokio::time::timeout(TIMEOUT, tasks.join_next())
        .await
        .expect("no hang")
    {
        let c = r.unwrap();
        sum = (sum.0 + c.0, sum.1 + c.1, sum.2 + c.2);
    }
    sum
}

fn two_sim_pool(a: &SimHandle, b: &SimHandle) -> (Pool, tokio::sync::mpsc::Receiver<SessionEvent>) {
    Pool::start(
        "two",
        vec![
            config(a, BindType::Transceiver),
            config(b, BindType::Transceiver),
        ],
    )
    .unwrap()
}

#[tokio::test]
async fn pool_spreads_submits_and_reports_readiness() {
    let mut behaviour = no_receipts();
    behaviour.response_latency = "fixed:2".parse().unwrap();
    let sim = sim(behaviour).await;
    let (pool, mut events) = Pool::uniform("sim", config(&sim, BindType::Transceiver), 3).unwrap();
    assert!(pool.wait_up(TIMEOUT).await);
    eventually("three binds", || pool.bound_count() == 3).await;
    // State changes of every session come out of the merged stream.
    let mut bound_events = 0;
    while bound_events < 3 {
        match tokio::time::timeout(TIMEOUT, events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            SessionEvent::State { state, .. } if state.is_bound() => bound_events += 1,
            _ => {}
        }
    }
    let (ok, not_sent, ambiguous) = blast(&pool, 300, 12).await;
    assert_eq!((ok, not_sent, ambiguous), (300, 0, 0));
    let per_session: Vec<u64> = pool
        .sessions()
        .iter()
        .map(|s| s.counters().submits)
        .collect();
    assert!(
        per_session.iter().all(|n| *n > 0),
        "every bind used: {per_session:?}"
    );
    let total = pool.counters();
    assert_eq!((total.submits, total.bound), (300, 3));
    pool.shutdown(Duration::from_secs(5)).await;
    assert!(!pool.is_up());
    assert_eq!(pool.bound_count(), 0);
}

#[tokio::test]
async fn losing_a_bind_mid_stream_resolves_everything_and_fails_over() {
    let mut behaviour = no_receipts();
    behaviour.response_latency = "fixed:3".parse().unwrap();
    let a = sim(behaviour.clone()).await;
    let b = sim(behaviour).await;
    let (pool, _events) = two_sim_pool(&a, &b);
    eventually("both binds", || pool.bound_count() == 2).await;
    let total = 2_000;
    let run = {
        let pool = pool.clone();
        tokio::spawn(async move { blast(&pool, total, 16).await })
    };
    eventually("traffic on A", || a.stats().submits >= 100).await;
    // A goes away for good: its connection drops with requests in flight.
    a.shutdown();
    let (ok, not_sent, ambiguous) = run.await.unwrap();
    assert_eq!(ok + not_sent + ambiguous, total, "every submit resolved");
    // B stayed up, so whatever A could not send went through B instead of failing.
    assert_eq!(not_sent, 0);
    // Whatever was not in flight on A when it died went through B.
    assert!(
        ok >= total - 2 * 10,
        "ok {ok}, not sent {not_sent}, ambiguous {ambiguous}"
    );
    let seen = (a.stats().submits + b.stats().submits) as usize;
    assert!(
        (ok..=ok + ambiguous).contains(&seen),
        "the SMSCs saw {seen}: every answered one, at most the ambiguous ones besides"
    );
    let after = pool
        .submit(&request("254712345678", "after"))
        .await
        .unwrap();
    assert!(after.is_ok());
    assert!(pool.is_up());
    assert_eq!(pool.bound_count(), 1);
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn random_disconnects_lose_nothing() {
    let mut behaviour = no_receipts();
    behaviour.flow.disconnect_rate = 0.02;
    let sim = sim(behaviour).await;
    let (pool, _events) = Pool::uniform("flaky", config(&sim, BindType::Transceiver), 2).unwrap();
    assert!(pool.wait_up(TIMEOUT).await);
    let mut ok_total = 0;
    let mut sent = 0;
    let total = 1_000;
    // Keep going until the pool has ridden out a few reconnects.
    while sent < total || pool.counters().reconnects < 2 {
        assert!(pool.wait_up(TIMEOUT).await);
        let (ok, not_sent, ambiguous) = blast(&pool, 200, 8).await;
        assert_eq!(ok + not_sent + ambiguous, 200);
        ok_total += ok;
        sent += 200;
        assert!(sent <= 20 * total, "no reconnects seen");
    }
    assert!(ok_total > 0);
    let c = pool.counters();
    assert_eq!(c.responses_total() as usize, ok_total);
    assert!(c.binds >= 3, "{c:?}");
    pool.shutdown(Duration::from_secs(5)).await;
}
