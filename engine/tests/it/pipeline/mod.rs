//! The wired engine ([`Engine::start`]) against the in-process SMSC simulator: HTTP in,
//! status events out of the channel sink.

mod celcom;
mod delivery;
mod faults;
mod ids;
mod limits;
mod operators;
mod reconcile;

use std::{collections::HashMap, time::Duration};

use semalink_engine::{Engine, EngineHandle, config::Config, sink::Published};
use semalink_loadtest::{
    SimConfig, SimHandle, Simulator,
    sim::{Behaviour, config::Account},
};
use semalink_protocol::contracts::{
    Body, DeliveryState, EncodingHint, Priority, RouteHints, StatusEvent, SubmitRequest, VERSION,
};
use time::OffsetDateTime;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::mpsc,
};
use uuid::Uuid;

/// Generous: the machine is shared and slow under parallel builds.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The ingress token of every test engine (`http.token`).
pub const TOKEN: &str = "it-ingress-token-0123456789";

/// Starts a simulator on free ports with the `semalink`/`secret` account.
pub async fn sim(behaviour: Behaviour) -> SimHandle {
    let config = SimConfig {
        smpp_addr: "127.0.0.1:0".parse().unwrap(),
        http_addr: "127.0.0.1:0".parse().unwrap(),
        accounts: vec![Account {
            system_id: "semalink".into(),
            password: "secret".into(),
            max_binds: 8,
        }],
        behaviour,
        ..SimConfig::default()
    };
    Simulator::start(config).await.unwrap()
}

/// An engine config for `sim`; `upstream_extra` adds keys to the upstream table, `route`
/// replaces the default route's rate settings.
pub fn config(sim: &SimHandle, upstream_extra: &str, route: &str) -> Config {
    let text = format!(
        r#"
        [http]
        listen = "127.0.0.1:0"
        token = "{TOKEN}"

        [[upstreams]]
        name = "sim"
        host = "127.0.0.1"
        port = {port}
        system_id = "semalink"
        password = "secret"
        window = 16
        reconnect_min_ms = 50
        reconnect_max_ms = 400
        {upstream_extra}

        [default_route]
        upstream = "sim"
        {route}

        [retry]
        max_attempts = 5
        backoff_min_ms = 20
        backoff_max_ms = 400

        [shutdown]
        deadline_ms = 5000
        "#,
        port = sim.smpp_addr.port(),
    );
    Config::from_toml(&text, std::iter::empty()).unwrap()
}

/// Status events seen so far, per message, in arrival order.
#[derive(Debug, Default)]
pub struct Seen {
    events: HashMap<Uuid, Vec<StatusEvent>>,
    /// The message ids of `sent` events, in arrival order.
    pub sent_order: Vec<Uuid>,
}

impl Seen {
    /// Books one event.
    pub fn record(&mut self, e: StatusEvent) {
        if e.state == DeliveryState::Sent {
            self.sent_order.push(e.message_id);
        }
        self.events.entry(e.message_id).or_default().push(e);
    }

    /// Every event of `id`, in order.
    pub fn all(&self, id: Uuid) -> &[StatusEvent] {
        self.events.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The message's final event, if seen.
    pub fn final_state(&self, id: Uuid) -> Option<&StatusEvent> {
        self.all(id).iter().find(|e| e.state.is_final())
    }

    /// The states seen for `id`, in order.
    pub fn states(&self, id: Uuid) -> Vec<DeliveryState> {
        self.all(id).iter().map(|e| e.state).collect()
    }

    /// Reads `rx` (keeping what `status` says is a status event) until every id in `ids` has a
    /// final event; panics after [`TIMEOUT`].
    pub async fn until_final<T>(
        &mut self,
        ids: &[Uuid],
        rx: &mut mpsc::Receiver<T>,
        status: impl Fn(T) -> Option<StatusEvent>,
    ) {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        while !ids.iter().all(|id| self.final_state(*id).is_some()) {
            let missing = ids
                .iter()
                .filter(|id| self.final_state(**id).is_none())
                .count();
            let item = tokio::time::timeout_at(deadline, rx.recv())
                .await
                .unwrap_or_else(|_| panic!("{missing} of {} messages not final", ids.len()))
                .expect("event stream closed");
            if let Some(e) = status(item) {
                self.record(e);
            }
        }
    }
}

/// A running engine with its event stream.
pub struct Running {
    pub engine: EngineHandle,
    pub events: mpsc::Receiver<Published>,
    /// Every status event seen so far.
    pub seen: Seen,
}

/// Starts the engine and waits until its binds are up.
pub async fn engine(config: Config) -> Running {
    let mut engine = Engine::start(config).await.unwrap();
    assert!(engine.wait_ready(TIMEOUT).await, "binds never came up");
    let events = engine.take_events().unwrap();
    Running {
        engine,
        events,
        seen: Seen::default(),
    }
}

/// A valid request to `destination` with `text`.
pub fn request(destination: &str, text: &str) -> SubmitRequest {
    SubmitRequest {
        version: VERSION,
        message_id: Uuid::now_v7(),
        account_id: Uuid::from_u128(1),
        destination: destination.into(),
        sender: "SEMALINK".into(),
        body: Body::Text(text.into()),
        encoding: EncodingHint::Auto,
        priority: Priority::Normal,
        route: RouteHints::default(),
        expires_at: None,
        client_reference: None,
        attempt: 0,
        created_at: OffsetDateTime::now_utc(),
    }
}

impl Running {
    /// POSTs `requests` as a batch to `/v1/messages`; returns the status code and JSON body.
    pub async fn post(&self, requests: &[SubmitRequest]) -> (u16, serde_json::Value) {
        let body = serde_json::to_vec(requests).unwrap();
        post(self.engine.local_addr(), "/v1/messages", &body).await
    }

    /// POSTs and asserts every message was accepted.
    pub async fn submit(&self, requests: &[SubmitRequest]) {
        for chunk in requests.chunks(500) {
            let (status, body) = self.post(chunk).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["accepted"], chunk.len(), "{body}");
            assert_eq!(body["rejected"], 0, "{body}");
        }
    }

    /// Reads events until every id in `ids` has a final event; panics after [`TIMEOUT`].
    pub async fn until_final(&mut self, ids: &[Uuid]) {
        let status = |item| match item {
            Published::Status(e) => Some(e),
            Published::Inbound(_) => None,
        };
        self.seen.until_final(ids, &mut self.events, status).await;
    }

    /// The message's final event, if seen.
    pub fn final_state(&self, id: Uuid) -> Option<&StatusEvent> {
        self.seen.final_state(id)
    }

    /// The states seen for `id`, in order.
    pub fn states(&self, id: Uuid) -> Vec<DeliveryState> {
        self.seen.states(id)
    }

    /// Asserts every id ended delivered, with exactly one final event each.
    pub fn assert_all_delivered(&self, ids: &[Uuid]) {
        for id in ids {
            let states = self.states(*id);
            let finals = states.iter().filter(|s| s.is_final()).count();
            assert_eq!(finals, 1, "{id}: {states:?}");
            assert_eq!(
                self.final_state(*id).map(|e| e.state),
                Some(DeliveryState::Delivered),
                "{id}: {states:?}"
            );
        }
    }
}

/// A minimal HTTP/1.1 POST with the test token (the engine's own server, no client library
/// needed).
pub async fn post(addr: std::net::SocketAddr, path: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).unwrap();
    let status = text[9..12].parse().unwrap();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    // The body may be chunked: take the JSON between the first '{' and the last '}'.
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) => serde_json::from_str(&body[a..=b]).unwrap(),
        _ => serde_json::Value::Null,
    };
    (status, json)
}

/// A GET with the test token, returning the status code and body text.
pub async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned());
    (status, body.unwrap_or_default())
}
