//! The engine in RabbitMQ mode against the shared broker on 127.0.0.1:5672 and the in-process
//! SMSC simulator. Every test uses its own queue names (random suffix) and deletes the queues
//! it created; connection loss is simulated with a TCP proxy in front of the broker that the
//! test cuts and restores, never by touching the shared broker.

mod delivery;
mod faults;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use semalink_engine::config::{AmqpConfig, Config, Secret};
use semalink_engine::{Engine, EngineHandle};
use semalink_loadtest::SimHandle;
use semalink_protocol::contracts::{self, StatusEvent, SubmitRequest};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::pipeline::{Seen, TIMEOUT};

/// The shared broker.
pub const BROKER: &str = "127.0.0.1:5672";

fn url(addr: &str) -> String {
    format!("amqp://guest:guest@{addr}/%2f")
}

/// The retry delays tests may configure (so [`in_queues`] knows every retry queue to delete).
pub const TEST_DELAYS_MS: [u64; 3] = [50, 200, 300];

/// Fresh queue names.
fn names() -> AmqpConfig {
    let tag = format!("it-{:08x}", fastrand::u32(..));
    AmqpConfig {
        url: Secret::new(url(BROKER)),
        priority_queue: format!("{tag}.priority"),
        normal_queue: format!("{tag}.normal"),
        status_queue: format!("{tag}.status"),
        inbound_queue: format!("{tag}.inbound"),
        retry_delays_ms: vec![200],
        reconnect_min_ms: 50,
        reconnect_max_ms: 500,
        ..AmqpConfig::default()
    }
}

/// `base` (a simulator config of the pipeline tests) in RabbitMQ mode with `amqp`.
pub fn with_amqp(mut base: Config, amqp: &AmqpConfig) -> Config {
    base.amqp = Some(amqp.clone());
    base
}

/// Starts the engine and waits until its binds are up and it is connected.
pub async fn start(config: Config) -> EngineHandle {
    let engine = Engine::start(config).await.unwrap();
    assert!(engine.wait_ready(TIMEOUT).await, "never ready");
    engine
}

/// A test's own connection to the broker: publishes submit requests, reads status events,
/// inspects and finally deletes the test's queues.
pub struct Broker {
    conn: Connection,
    channel: Channel,
    names: AmqpConfig,
    status: mpsc::Receiver<StatusEvent>,
    /// Every status event read so far.
    pub seen: Seen,
}

impl Broker {
    /// Connects, declares the submit and status queues (as `loadgen amqp` does) and starts
    /// reading the status queue.
    pub async fn new(names: &AmqpConfig) -> Broker {
        let conn = Connection::connect(&url(BROKER), ConnectionProperties::default())
            .await
            .expect("the shared RabbitMQ on 127.0.0.1:5672");
        let channel = conn.create_channel().await.unwrap();
        for q in [
            &names.priority_queue,
            &names.normal_queue,
            &names.status_queue,
        ] {
            declare(&channel, q).await;
        }
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        let (reader, mut consumer) = consume(&conn, &names.status_queue).await;
        let (tx, status) = mpsc::channel(65_536);
        tokio::spawn(async move {
            let _reader = reader;
            while let Some(Ok(d)) = consumer.next().await {
                let events = contracts::decode_batch::<StatusEvent>(&d.data).expect("an envelope");
                for event in events {
                    if tx.send(event.expect("a valid status event")).await.is_err() {
                        return;
                    }
                }
            }
        });
        Broker {
            conn,
            channel,
            names: names.clone(),
            status,
            seen: Seen::default(),
        }
    }

    /// Publishes `request` (persistent, confirmed) to `queue`.
    pub async fn publish_to(&self, queue: &str, request: &SubmitRequest) {
        self.publish_raw(queue, &contracts::encode(request).unwrap())
            .await;
    }

    /// Publishes `body` (persistent, confirmed) to `queue`.
    pub async fn publish_raw(&self, queue: &str, body: &[u8]) {
        let confirm = self
            .channel
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                body,
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap();
        assert!(confirm.await.unwrap().is_ack());
    }

    /// Publishes to the normal queue.
    pub async fn publish(&self, request: &SubmitRequest) {
        self.publish_to(&self.names.normal_queue, request).await;
    }

    /// `(ready messages, consumers)` of `queue`.
    pub async fn counts(&self, queue: &str) -> (u32, u32) {
        let q = self
            .channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        (q.message_count(), q.consumer_count())
    }

    /// Polls `queue` until `f(ready, consumers)`; panics after [`TIMEOUT`].
    pub async fn until_counts(&self, queue: &str, f: impl Fn(u32, u32) -> bool) -> (u32, u32) {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let (ready, consumers) = self.counts(queue).await;
            if f(ready, consumers) {
                return (ready, consumers);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{queue}: {ready} ready, {consumers} consumers"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Reads status events until every id has a final one; panics after [`TIMEOUT`].
    pub async fn until_final(&mut self, ids: &[Uuid]) {
        self.seen.until_final(ids, &mut self.status, Some).await;
    }
}

/// Runs `test` with fresh queue names, then deletes every queue of those names (the engine's
/// retry queues included), also when the test panicked.
pub async fn in_queues<F, Fut>(test: F)
where
    F: FnOnce(AmqpConfig) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let names = names();
    let result = tokio::spawn(test(names.clone())).await;
    let conn = Connection::connect(&url(BROKER), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let mut queues = vec![
        names.priority_queue.clone(),
        names.normal_queue.clone(),
        names.status_queue.clone(),
        names.inbound_queue.clone(),
    ];
    for q in [&names.priority_queue, &names.normal_queue] {
        for d in TEST_DELAYS_MS {
            queues.push(AmqpConfig::retry_queue(q, Duration::from_millis(d)));
        }
    }
    for q in queues {
        let _ = channel
            .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    let _ = conn.close(200, "test done".into()).await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A channel consuming `queue` with automatic acknowledgement (keep the channel open while
/// reading).
pub async fn consume(conn: &Connection, queue: &str) -> (Channel, lapin::Consumer) {
    let channel = conn.create_channel().await.unwrap();
    let options = BasicConsumeOptions {
        no_ack: true,
        ..BasicConsumeOptions::default()
    };
    let consumer = channel
        .basic_consume(queue.into(), "".into(), options, FieldTable::default())
        .await
        .unwrap();
    (channel, consumer)
}

async fn declare(channel: &Channel, queue: &str) {
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions::durable(),
            FieldTable::default(),
        )
        .await
        .unwrap();
}

/// A TCP proxy in front of the shared broker: [`Proxy::cut`] drops every connection and
/// refuses new ones until [`Proxy::restore`].
pub struct Proxy {
    /// Where the engine connects.
    pub addr: SocketAddr,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<JoinSet<()>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free port.
    pub async fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let open = Arc::new(AtomicBool::new(true));
        let links = Arc::new(Mutex::new(JoinSet::new()));
        let accept = tokio::spawn({
            let open = Arc::clone(&open);
            let links = Arc::clone(&links);
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !open.load(Ordering::SeqCst) {
                        continue; // dropped: connection refused in effect
                    }
                    let Ok(mut upstream) = TcpStream::connect(BROKER).await else {
                        continue;
                    };
                    links.lock().await.spawn(async move {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    });
                }
            }
        });
        Proxy {
            addr,
            open,
            links,
            accept,
        }
    }

    /// The URL through the proxy.
    pub fn url(&self) -> Secret {
        Secret::new(url(&self.addr.to_string()))
    }

    /// Drops every proxied connection (both sides see the TCP connection close) and refuses
    /// new ones.
    pub async fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.links.lock().await.abort_all();
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Whether `sim` has seen at least `n` submits (polled until [`TIMEOUT`]).
pub async fn until_submits(sim: &SimHandle, n: u64) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while sim.stats().submits < n {
        assert!(tokio::time::Instant::now() < deadline, "{:?}", sim.stats());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
