//! SMPP sessions and pools against the real SMSC simulator (in-process, 127.0.0.1:0), plus a
//! raw TCP fake where the simulator cannot misbehave the way a test needs.

mod inbound;
mod lifecycle;
mod pool;
mod rate;
mod submit;

use std::time::Duration;

use bytes::Bytes;
use semalink_engine::smpp::{
    BindState, BindType, Session, SessionConfig, SessionEvent, SessionId, SubmitRequest,
};
use semalink_loadtest::{
    SimConfig, SimHandle, Simulator,
    sim::{Behaviour, config::Account},
};
use tokio::sync::mpsc;

/// Generous: the machine is shared and slow under parallel builds.
pub const TIMEOUT: Duration = Duration::from_secs(30);

pub const SYSTEM_ID: &str = "semalink";
pub const PASSWORD: &str = "secret";

/// Starts a simulator with the default account (8 binds) and `behaviour`.
pub async fn sim(behaviour: Behaviour) -> SimHandle {
    sim_with(behaviour, 8).await
}

/// Starts a simulator whose account allows `max_binds` concurrent binds.
pub async fn sim_with(behaviour: Behaviour, max_binds: u32) -> SimHandle {
    let config = SimConfig {
        smpp_addr: "127.0.0.1:0".parse().unwrap(),
        http_addr: "127.0.0.1:0".parse().unwrap(),
        accounts: vec![Account {
            system_id: SYSTEM_ID.into(),
            password: PASSWORD.into(),
            max_binds,
        }],
        behaviour,
        ..SimConfig::default()
    };
    Simulator::start(config).await.unwrap()
}

/// Default behaviour without receipts (tests that want them turn them on).
pub fn no_receipts() -> Behaviour {
    let mut b = Behaviour::default();
    b.receipts.enabled = false;
    b
}

/// A session config for `sim` with quick reconnects.
pub fn config(sim: &SimHandle, bind_type: BindType) -> SessionConfig {
    SessionConfig {
        host: "127.0.0.1".into(),
        port: sim.smpp_addr.port(),
        system_id: SYSTEM_ID.into(),
        password: PASSWORD.into(),
        bind_type,
        window: 10,
        response_timeout: Duration::from_secs(10),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(400),
        bind_timeout: Duration::from_secs(5),
        ..SessionConfig::default()
    }
}

pub fn id(index: usize) -> SessionId {
    SessionId {
        upstream: "sim".into(),
        index,
    }
}

/// Starts a session and waits until it is bound.
pub async fn bound(config: SessionConfig) -> (Session, mpsc::Receiver<SessionEvent>) {
    let (session, events) = Session::start(id(0), config).unwrap();
    wait_state(&session, BindState::is_bound).await;
    (session, events)
}

/// Waits (bounded by [`TIMEOUT`]) until the session's state satisfies `pred`.
pub async fn wait_state(session: &Session, pred: impl Fn(&BindState) -> bool) -> BindState {
    let mut watch = session.watch_state();
    tokio::time::timeout(TIMEOUT, watch.wait_for(|s| pred(s)))
        .await
        .unwrap_or_else(|_| panic!("state not reached; now {:?}", session.state()))
        .unwrap()
        .clone()
}

/// Polls `cond` until it holds or [`TIMEOUT`] passes.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let until = tokio::time::Instant::now() + TIMEOUT;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < until,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A plain GSM text submit to `dest`.
pub fn request(dest: &str, text: &str) -> SubmitRequest {
    SubmitRequest {
        source_ton: 5,
        source_addr: "SEMALINK".into(),
        dest_ton: 1,
        dest_npi: 1,
        destination_addr: dest.into(),
        short_message: Bytes::copy_from_slice(text.as_bytes()),
        ..SubmitRequest::default()
    }
}
