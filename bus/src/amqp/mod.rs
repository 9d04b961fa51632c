//! The RabbitMQ bus: one connection, supervised.
//!
//! [`AmqpBus::start`] spawns the supervisor: connect, declare the [`Topology`], open the
//! publishing channel in confirm mode, publish the session to the publishers and consumers,
//! then watch the connection; when it fails, withdraw the session, wait a jittered doubling
//! back-off ([`Backoff`]) and connect again. [`AmqpBus::readiness`] follows the connection.
//! * [`publish`]: the publishers' backend — one envelope per batch, persistent, confirmed,
//!   retried on the next connection until confirmed or the bus stops.
//! * [`consume`]: one task per subscription — its own channel with a prefetch, resumed on
//!   every new connection.

mod consume;
mod publish;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties, Event};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::error::{Error, Result};
use crate::publisher::{BatchConfig, Message, Publisher};
use crate::subscription::Subscription;
use crate::topology::Topology;

/// How to reach the broker and what to declare there.
#[derive(Debug, Clone)]
pub struct AmqpConfig {
    /// `amqp://user:pass@host:5672/%2f` (never logged).
    pub url: String,
    /// The connection name the broker shows.
    pub connection_name: String,
    /// The queues, declared at every connect.
    pub topology: Topology,
    /// How publishers batch.
    pub batch: BatchConfig,
    /// First reconnect delay.
    pub reconnect_min: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
}

impl AmqpConfig {
    /// The defaults for `url`: the default topology, 500 items / 5 ms batches, 200 ms–10 s
    /// reconnects.
    pub fn new(url: impl Into<String>) -> AmqpConfig {
        AmqpConfig {
            url: url.into(),
            connection_name: "semalink".into(),
            topology: Topology::default(),
            batch: BatchConfig::default(),
            reconnect_min: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(10),
        }
    }
}

/// A live connection: its publishing channel and a number telling connections apart.
#[derive(Clone)]
pub(crate) struct Session {
    pub conn: Arc<Connection>,
    pub publish: Channel,
    pub epoch: u64,
}

impl Session {
    pub fn live(&self) -> bool {
        self.conn.status().connected()
    }
}

/// The RabbitMQ bus. Cheap to clone.
#[derive(Clone)]
pub struct AmqpBus {
    inner: Arc<Inner>,
}

struct Inner {
    config: AmqpConfig,
    session: watch::Receiver<Option<Session>>,
    ready: watch::Receiver<bool>,
    stop: CancellationToken,
}

impl std::fmt::Debug for AmqpBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpBus")
            .field("topology", &self.inner.config.topology)
            .field("ready", &*self.inner.ready.borrow())
            .finish_non_exhaustive()
    }
}

impl AmqpBus {
    /// Starts the connection supervisor (inside a tokio runtime). When `stop` is cancelled
    /// the connection is closed and publishes not yet confirmed fail with
    /// [`Error::Stopped`].
    pub fn start(config: AmqpConfig, stop: CancellationToken) -> AmqpBus {
        let (session_tx, session) = watch::channel(None);
        let (ready_tx, ready) = watch::channel(false);
        tokio::spawn(supervise(
            config.clone(),
            session_tx,
            ready_tx,
            stop.clone(),
        ));
        AmqpBus {
            inner: Arc::new(Inner {
                config,
                session,
                ready,
                stop,
            }),
        }
    }

    /// The topology it declares.
    pub fn topology(&self) -> &Topology {
        &self.inner.config.topology
    }

    /// True while connected (topology declared, publishing channel open).
    pub fn readiness(&self) -> watch::Receiver<bool> {
        self.inner.ready.clone()
    }

    /// A confirmed batching publisher to `queue` (create it once and clone it: each call
    /// starts a batching task).
    pub fn publisher<T: Message>(&self, queue: &str) -> Publisher<T> {
        let backend = publish::AmqpFlush::new(self.inner.session.clone(), self.inner.stop.clone());
        Publisher::start(self.inner.config.batch, queue, true, backend)
    }

    /// A passive declare of `queue` on a channel of its own (a failed passive declare closes
    /// its channel): messages ready and consumers. `None` when disconnected or unknown.
    pub async fn queue_stats(&self, queue: &str) -> Result<Option<crate::QueueStats>> {
        let Some(session) = self.inner.session.borrow().clone() else {
            return Ok(None);
        };
        let channel = session
            .conn
            .create_channel()
            .await
            .map_err(Error::amqp("channel"))?;
        let options = lapin::options::QueueDeclareOptions {
            passive: true,
            ..lapin::options::QueueDeclareOptions::default()
        };
        let declared = channel
            .queue_declare(queue.into(), options, lapin::types::FieldTable::default())
            .await;
        let stats = declared.ok().map(|q| crate::QueueStats {
            messages: u64::from(q.message_count()),
            consumers: u64::from(q.consumer_count()),
        });
        if channel.status().connected() {
            let _ = channel.close(200, "stats read".into()).await;
        }
        Ok(stats)
    }

    /// Consumes `queue` with `prefetch` unacknowledged envelopes at most, resuming on every
    /// new connection until the subscription is dropped or cancelled or the bus stops.
    pub fn subscribe<T: Message>(&self, queue: &str, prefetch: u16) -> Subscription<T> {
        // Room for the whole prefetch: the broker never sends more than that unacknowledged,
        // and a consumer polling several subscriptions must see every delivery the broker
        // already sent (a priority queue must not look empty while its next delivery is
        // still being handed over).
        let (tx, rx) = mpsc::channel(usize::from(prefetch.max(1)));
        let cancel = self.inner.stop.child_token();
        let requeue = self.publisher(queue);
        tokio::spawn(consume::run(consume::Consume {
            session: self.inner.session.clone(),
            queue: queue.to_owned(),
            prefetch: prefetch.max(1),
            tx,
            requeue,
            cancel: cancel.clone(),
            backoff: Backoff::new(
                self.inner.config.reconnect_min,
                self.inner.config.reconnect_max,
            ),
        }));
        Subscription::amqp(rx, cancel.drop_guard())
    }
}

/// Opens a connection, declares the topology, puts a publishing channel in confirm mode.
async fn open(config: &AmqpConfig) -> Result<(Connection, Channel)> {
    let props = ConnectionProperties::default()
        .with_connection_name(config.connection_name.as_str().into());
    let conn = Connection::connect(&config.url, props)
        .await
        .map_err(Error::amqp("connect"))?;
    let channel = conn
        .create_channel()
        .await
        .map_err(Error::amqp("channel"))?;
    config.topology.declare(&channel).await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(Error::amqp("confirm.select"))?;
    Ok((conn, channel))
}

async fn supervise(
    config: AmqpConfig,
    session: watch::Sender<Option<Session>>,
    ready: watch::Sender<bool>,
    stop: CancellationToken,
) {
    let mut backoff = Backoff::new(config.reconnect_min, config.reconnect_max);
    let mut epoch = 0;
    loop {
        match open(&config).await {
            Ok((conn, publish)) => {
                tracing::info!(name = %config.connection_name, "connected to RabbitMQ");
                backoff.reset();
                epoch += 1;
                let conn = Arc::new(conn);
                let mut events = conn.events_listener();
                session.send_replace(Some(Session {
                    conn: Arc::clone(&conn),
                    publish,
                    epoch,
                }));
                ready.send_replace(true);
                let lost = loop {
                    tokio::select! {
                        _ = stop.cancelled() => break None,
                        event = events.next() => match event {
                            Some(Event::Error(e)) => break Some(e.to_string()),
                            Some(_) => {}
                            None => break Some("connection closed".to_owned()),
                        },
                    }
                };
                ready.send_replace(false);
                session.send_replace(None);
                match lost {
                    None => {
                        let _ = conn.close(200, "stopping".into()).await;
                        return;
                    }
                    Some(reason) => {
                        tracing::warn!(%reason, "RabbitMQ connection lost; reconnecting");
                        let _ = conn.close(320, "reconnecting".into()).await;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "RabbitMQ not reachable"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_wait()) => {}
            _ = stop.cancelled() => return,
        }
    }
}
