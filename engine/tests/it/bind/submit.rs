//! Submits on one session: message ids, window back-pressure, response statuses, timeouts.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use semalink_engine::smpp::{AmbiguousReason, BindType, SubmitError};

use super::*;

#[tokio::test]
async fn submit_returns_the_smsc_message_id() {
    let sim = sim(no_receipts()).await;
    let (session, _events) = bound(config(&sim, BindType::Transmitter)).await;
    let outcome = session
        .submit(&request("254712345678", "hello"))
        .await
        .unwrap();
    assert!(outcome.is_ok(), "{outcome:?}");
    let id = outcome.message_id.expect("a message id");
    assert!(!id.is_empty());
    let again = session
        .submit(&request("254712345678", "hello 2"))
        .await
        .unwrap();
    assert_ne!(again.message_id.unwrap(), id, "ids are distinct");
    assert_eq!(sim.stats().submits, 2);
    let counters = session.counters();
    assert_eq!(counters.submits, 2);
    assert_eq!(counters.responses.get(&0), Some(&2));
    assert_eq!(counters.window, 0);
    session.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn refusals_come_back_as_outcomes_with_their_status() {
    let mut behaviour = no_receipts();
    behaviour.flow.invdstadr_rate = 1.0;
    let sim = sim(behaviour).await;
    let (session, _events) = bound(config(&sim, BindType::Transceiver)).await;
    let outcome = session.submit(&request("254712345678", "x")).await.unwrap();
    assert_eq!(outcome.command_status, 0x0B, "ESME_RINVDSTADR");
    assert_eq!(outcome.message_id, None);
    let invalid = request(&"9".repeat(25), "x");
    assert!(matches!(
        session.submit(&invalid).await,
        Err(SubmitError::Invalid(_))
    ));
    session.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_full_window_holds_submits_back_until_responses_free_it() {
    let mut behaviour = no_receipts();
    behaviour.response_latency = "fixed:5".parse().unwrap();
    let sim = sim(behaviour).await;
    let mut cfg = config(&sim, BindType::Transceiver);
    cfg.window = 4;
    let (session, _events) = bound(cfg).await;
    let peak = Arc::new(AtomicUsize::new(0));
    let total = 200;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let s = session.clone();
        let peak = Arc::clone(&peak);
        tasks.spawn(async move {
            let r = s
                .submit(&request("254712345678", &format!("msg {i}")))
                .await;
            peak.fetch_max(s.counters().window as usize, Ordering::Relaxed);
            r
        });
    }
    let mut ok = 0;
    let watcher = {
        let s = session.clone();
        let peak = Arc::clone(&peak);
        tokio::spawn(async move {
            loop {
                peak.fetch_max(s.outstanding(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    while let Some(r) = tokio::time::timeout(TIMEOUT, tasks.join_next())
        .await
        .unwrap()
    {
        assert!(r.unwrap().unwrap().is_ok());
        ok += 1;
    }
    watcher.abort();
    assert_eq!(ok, total);
    let peak = peak.load(Ordering::Relaxed);
    assert!(peak <= 4, "window of 4 exceeded: {peak}");
    assert!(peak >= 2, "the window was never used concurrently: {peak}");
    assert_eq!(sim.stats().submits, total as u64);
    assert_eq!(session.counters().window, 0);
    session.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn silent_smsc_gives_an_ambiguous_timeout() {
    let mut behaviour = no_receipts();
    behaviour.flow.silent = true;
    let sim = sim(behaviour).await;
    let mut cfg = config(&sim, BindType::Transceiver);
    cfg.response_timeout = Duration::from_millis(300);
    cfg.enquire_link_interval = Duration::from_secs(600);
    let (session, _events) = bound(cfg).await;
    let err = session
        .submit(&request("254712345678", "void"))
        .await
        .unwrap_err();
    assert_eq!(err, SubmitError::Ambiguous(AmbiguousReason::Timeout));
    assert!(err.is_retryable() && !err.is_not_sent());
    let counters = session.counters();
    assert_eq!((counters.timeouts, counters.window), (1, 0));
    assert_eq!(sim.stats().unanswered, 1);
    session.shutdown(Duration::from_millis(100)).await;
}
