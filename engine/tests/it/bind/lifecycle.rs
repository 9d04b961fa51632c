//! Bind life cycle: each bind type, refused credentials with retries, recovery, the SMSC's
//! unbind, keep-alive, and graceful shutdown.

use std::time::Duration;

use semalink_engine::smpp::{BindError, BindState, BindType, NotSentReason, Session, SubmitError};

use super::*;

#[tokio::test]
async fn binds_as_each_type_and_unbinds_on_shutdown() {
    let sim = sim(no_receipts()).await;
    for bind_type in [
        BindType::Transmitter,
        BindType::Receiver,
        BindType::Transceiver,
    ] {
        let (session, _events) = bound(config(&sim, bind_type)).await;
        assert_eq!(session.counters().bound, 1);
        session.shutdown(Duration::from_secs(5)).await;
        assert_eq!(session.state(), BindState::Stopped);
        assert_eq!(session.counters().bound, 0);
    }
    let stats = sim.stats();
    assert_eq!(
        (
            stats.binds_transmitter,
            stats.binds_receiver,
            stats.binds_transceiver
        ),
        (1, 1, 1)
    );
    eventually("three unbinds at the simulator", || {
        sim.stats().unbinds_received == 3
    })
    .await;
}

#[tokio::test]
async fn refused_credentials_are_reported_and_retried_with_backoff() {
    let sim = sim(no_receipts()).await;
    for (system_id, password, status) in [("semalink", "wrong", 0x0E), ("nobody", "secret", 0x0F)] {
        let mut cfg = config(&sim, BindType::Transceiver);
        cfg.system_id = system_id.into();
        cfg.password = password.into();
        let (session, _events) = Session::start(id(0), cfg).unwrap();
        let state = wait_state(&session, |s| matches!(s, BindState::Failed(_))).await;
        let BindState::Failed(error) = state else {
            unreachable!()
        };
        assert_eq!(error, BindError::Refused { status });
        assert!(error.is_credentials());
        assert!(error.to_string().contains("ESME_RINV"), "{error}");
        // It keeps trying (never crashes, never binds).
        eventually("repeated bind attempts", || {
            session.counters().bind_failures >= 3
        })
        .await;
        assert!(!session.is_bound());
        let err = session
            .submit(&request("254712345678", "hi"))
            .await
            .unwrap_err();
        assert_eq!(err, SubmitError::NotSent(NotSentReason::BindDown));
        session.shutdown(Duration::from_secs(1)).await;
    }
    assert!(sim.stats().binds_rejected >= 6);
}

/// The simulator's accounts are fixed at start, so "fixing" the refusal is done with
/// `max_binds`: the second bind gets `ESME_RBINDFAIL` until the first one leaves.
#[tokio::test]
async fn a_refused_bind_binds_once_the_smsc_accepts_it() {
    let sim = sim_with(no_receipts(), 1).await;
    let (first, _e1) = bound(config(&sim, BindType::Transceiver)).await;
    let (second, _e2) = Session::start(id(1), config(&sim, BindType::Transceiver)).unwrap();
    let state = wait_state(&second, |s| matches!(s, BindState::Failed(_))).await;
    assert_eq!(
        state,
        BindState::Failed(BindError::Refused { status: 0x0D })
    );
    eventually("retries", || second.counters().bind_failures >= 2).await;
    first.shutdown(Duration::from_secs(5)).await;
    wait_state(&second, BindState::is_bound).await;
    second.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn smsc_unbind_is_answered_and_the_session_rebinds() {
    let mut behaviour = no_receipts();
    behaviour.flow.disconnect_every_secs = 1;
    behaviour.flow.unbind_before_disconnect = true;
    let sim = sim(behaviour).await;
    let (session, _events) = bound(config(&sim, BindType::Transceiver)).await;
    eventually("a reconnect after the SMSC's unbind", || {
        let c = session.counters();
        c.reconnects >= 1 && c.binds >= 2
    })
    .await;
    wait_state(&session, BindState::is_bound).await;
    let outcome = session
        .submit(&request("254712345678", "after"))
        .await
        .unwrap();
    assert!(outcome.is_ok());
    session.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn idle_link_sends_enquire_link_and_stays_bound() {
    let sim = sim(no_receipts()).await;
    let mut cfg = config(&sim, BindType::Transceiver);
    cfg.enquire_link_interval = Duration::from_millis(100);
    let (session, _events) = bound(cfg).await;
    eventually("enquire_links at the simulator", || {
        sim.stats().enquire_links >= 3
    })
    .await;
    assert!(session.is_bound());
    assert_eq!(session.counters().reconnects, 0);
    session.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn graceful_shutdown_drains_the_window_then_unbinds() {
    let mut behaviour = no_receipts();
    behaviour.response_latency = "fixed:300".parse().unwrap();
    let sim = sim(behaviour).await;
    let mut cfg = config(&sim, BindType::Transceiver);
    cfg.window = 4;
    let (session, mut events) = bound(cfg).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..4 {
        let s = session.clone();
        tasks.spawn(async move { s.submit(&request("254712345678", &format!("m{i}"))).await });
    }
    eventually("a full window", || session.outstanding() == 4).await;
    session.shutdown(Duration::from_secs(20)).await;
    let mut ok = 0;
    while let Some(result) = tasks.join_next().await {
        assert!(result.unwrap().unwrap().is_ok());
        ok += 1;
    }
    assert_eq!(ok, 4, "every in-flight submit answered before the unbind");
    assert_eq!(session.state(), BindState::Stopped);
    eventually("unbind at the simulator", || {
        sim.stats().unbinds_received == 1
    })
    .await;
    let err = session
        .submit(&request("254712345678", "late"))
        .await
        .unwrap_err();
    assert_eq!(err, SubmitError::NotSent(NotSentReason::ShuttingDown));
    let mut states = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let SessionEvent::State { state, .. } = event {
            states.push(state);
        }
    }
    assert_eq!(
        states[states.len() - 3..],
        [BindState::Bound, BindState::Draining, BindState::Stopped]
    );
}

#[tokio::test]
async fn an_unanswered_bind_times_out_and_is_retried() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let cfg = SessionConfig {
        host: "127.0.0.1".into(),
        port,
        system_id: "x".into(),
        bind_timeout: Duration::from_millis(200),
        reconnect_min: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(100),
        ..SessionConfig::default()
    };
    let (session, _events) = Session::start(id(0), cfg).unwrap();
    let state = wait_state(&session, |s| matches!(s, BindState::Failed(_))).await;
    assert_eq!(state, BindState::Failed(BindError::Timeout));
    eventually("retries", || session.counters().bind_failures >= 2).await;
    session.shutdown(Duration::from_millis(100)).await;
    accepted.abort();
}

#[tokio::test]
async fn an_unanswered_enquire_link_drops_the_connection_and_rebinds() {
    let mut behaviour = no_receipts();
    behaviour.flow.silent = true;
    let sim = sim(behaviour).await;
    let mut cfg = config(&sim, BindType::Transceiver);
    cfg.enquire_link_interval = Duration::from_millis(100);
    cfg.response_timeout = Duration::from_millis(200);
    let (session, _events) = bound(cfg).await;
    eventually("a reconnect after a dead link", || {
        let c = session.counters();
        c.reconnects >= 1 && c.binds >= 2
    })
    .await;
    session.shutdown(Duration::from_millis(100)).await;
}
