//! Shared helpers: start a simulator, connect and bind with rusmppc, poll the counters.

use std::{future::Future, str::FromStr, time::Duration};

use futures::{Stream, StreamExt};
use rusmpp::{
    Command,
    pdus::{BindReceiver, BindTransceiver, BindTransmitter, SubmitSm},
    types::{COctetString, OctetString},
    values::{EsmClass, InterfaceVersion, RegisteredDelivery},
};
use rusmppc::{Client, ConnectionBuilder, Event};
use semalink_loadtest::{
    SimConfig, SimHandle, Simulator,
    sim::{Behaviour, StatsSnapshot},
};
use tokio::net::TcpStream;

/// Generous: the machine is shared and slow under parallel builds.
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub const SYSTEM_ID: &str = "semalink";
pub const PASSWORD: &str = "secret";

/// Starts a simulator on loopback port 0 with `behaviour`.
pub async fn start(behaviour: Behaviour) -> SimHandle {
    let config = SimConfig {
        smpp_addr: "127.0.0.1:0".parse().unwrap(),
        http_addr: "127.0.0.1:0".parse().unwrap(),
        behaviour,
        ..SimConfig::default()
    };
    Simulator::start(config).await.unwrap()
}

/// A behaviour with receipts sent at once.
pub fn quick() -> Behaviour {
    let mut b = Behaviour::default();
    b.receipts.delay = "fixed:0".parse().unwrap();
    b
}

pub type Events = Box<dyn Stream<Item = Event> + Unpin + Send>;

/// Connects rusmppc (no bind yet).
pub async fn connect(sim: &SimHandle) -> (Client, Events) {
    let stream = TcpStream::connect(sim.smpp_addr).await.unwrap();
    let (client, events) = ConnectionBuilder::new()
        .disable_interface_version_check()
        .no_enquire_link_interval()
        .response_timeout(Duration::from_secs(10))
        .connected(stream);
    (client, Box::new(events))
}

fn cstr<const MIN: usize, const MAX: usize>(s: &str) -> COctetString<MIN, MAX> {
    COctetString::from_str(s).unwrap()
}

pub fn transmitter(system_id: &str, password: &str) -> BindTransmitter {
    BindTransmitter::builder()
        .system_id(cstr(system_id))
        .password(cstr(password))
        .interface_version(InterfaceVersion::Smpp3_4)
        .build()
}

pub fn receiver(system_id: &str, password: &str) -> BindReceiver {
    BindReceiver::builder()
        .system_id(cstr(system_id))
        .password(cstr(password))
        .interface_version(InterfaceVersion::Smpp3_4)
        .build()
}

pub fn transceiver(system_id: &str, password: &str) -> BindTransceiver {
    BindTransceiver::builder()
        .system_id(cstr(system_id))
        .password(cstr(password))
        .interface_version(InterfaceVersion::Smpp3_4)
        .build()
}

/// A connected transceiver bound with the default account.
pub async fn trx(sim: &SimHandle) -> (Client, Events) {
    let (client, events) = connect(sim).await;
    client
        .bind_transceiver(transceiver(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    (client, events)
}

/// A `submit_sm` asking for a receipt.
pub fn sms(dest: &str, text: &str) -> SubmitSm {
    SubmitSm::builder()
        .source_addr(cstr("SEMALINK"))
        .destination_addr(cstr(dest))
        .esm_class(EsmClass::from(0x00))
        .registered_delivery(RegisteredDelivery::request_all())
        .short_message(OctetString::from_str(text).unwrap())
        .build()
}

/// Polls the counters until `cond` holds (panics after [`TIMEOUT`]).
pub async fn wait_stats(
    sim: &SimHandle,
    what: &str,
    cond: impl Fn(&StatsSnapshot) -> bool,
) -> StatsSnapshot {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let s = sim.stats();
        if cond(&s) {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {s:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The next incoming command, answering nothing (panics after [`TIMEOUT`]).
pub async fn next_incoming(events: &mut Events) -> Command {
    match within(events.next()).await {
        Some(Event::Incoming(c)) => c,
        Some(Event::Error(e)) => panic!("client error: {e}"),
        None => panic!("event stream ended"),
    }
}

/// Awaits `f` with [`TIMEOUT`].
pub async fn within<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(TIMEOUT, f).await.expect("timed out")
}
