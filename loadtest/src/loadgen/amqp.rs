//! `loadgen amqp`: publishes the [`super::mix`] as JSON [`SubmitRequest`]s to the engine's
//! durable submit queues (`sms.normal` / `sms.priority`) through `semalink-bus`'s batching
//! publisher — batch envelopes of `--batch` requests, persistent, with publisher confirms (a
//! nack is retried by the bus; only a request still unconfirmed when the bus stops counts as
//! refused) — then optionally consumes `sms.status` (bare events or envelopes) until every
//! confirmed message has a final [`StatusEvent`] or the wait runs out, and reports lost,
//! duplicated and publish → final latency ([`waiter`]).
//!
//! The load generator is the only reader of the status queue during a run; events of other
//! runs are counted as foreign and dropped.

pub mod waiter;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::{StreamExt, stream::FuturesUnordered};
use lapin::{Connection, ConnectionProperties};
use semalink_bus::{
    BatchConfig, QueueType, Topology,
    amqp::{AmqpBus, AmqpConfig},
    topology,
};
use semalink_protocol::contracts::{Priority, StatusEvent, SubmitRequest};
use serde::Serialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    mix::{MixOptions, MixTotals},
    pace::Pacer,
};
use crate::Error;
pub use waiter::{StatusReport, Waiter};

/// How long the broker may take to accept the first connection.
const CONNECT_LIMIT: Duration = Duration::from_secs(30);

/// What to publish and where.
#[derive(Debug, Clone)]
pub struct AmqpOptions {
    /// Broker URL, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    pub url: String,
    /// Messages in total.
    pub messages: u64,
    /// Queue of the `normal` lane.
    pub normal_queue: String,
    /// Queue of the `high` lane.
    pub priority_queue: String,
    /// Status queue to wait on; `None` publishes only.
    pub status_queue: Option<String>,
    /// What the messages look like (its `priority_share` splits the lanes).
    pub mix: MixOptions,
    /// Messages per second, or flat out when `None`.
    pub rate: Option<f64>,
    /// Unconfirmed publishes allowed in flight.
    pub window: usize,
    /// How long to wait for final states after the last confirm.
    pub final_wait: Duration,
    /// Submit requests per published envelope (1: bare messages, as older publishers sent).
    pub batch: usize,
    /// The queue type the engine declared (a mismatch is refused by the broker).
    pub queue_type: QueueType,
}

impl AmqpOptions {
    /// Defaults for `url`: the engine's queue names, 1000 in flight, envelopes of 100, a
    /// 60 s wait.
    pub fn new(url: impl Into<String>, messages: u64) -> AmqpOptions {
        AmqpOptions {
            url: url.into(),
            messages,
            normal_queue: topology::NORMAL_QUEUE.into(),
            priority_queue: topology::PRIORITY_QUEUE.into(),
            status_queue: Some(topology::STATUS_QUEUE.into()),
            mix: MixOptions::default(),
            rate: None,
            window: 1000,
            final_wait: Duration::from_secs(60),
            batch: 100,
            queue_type: QueueType::Classic,
        }
    }

    /// The bus of these options: their queue names and type, envelopes of `batch`, at most
    /// `window` requests unconfirmed.
    pub fn bus_config(&self) -> AmqpConfig {
        let batch = self.batch.max(1);
        AmqpConfig {
            connection_name: "semalink-loadgen".into(),
            topology: Topology {
                priority: self.priority_queue.clone(),
                normal: self.normal_queue.clone(),
                status: self
                    .status_queue
                    .clone()
                    .unwrap_or_else(|| topology::STATUS_QUEUE.into()),
                queue_type: self.queue_type,
                ..Topology::default()
            },
            batch: BatchConfig {
                max_items: batch,
                linger: Duration::from_millis(5),
                capacity: self.window.max(1),
                max_in_flight: (self.window / batch).max(1),
            },
            ..AmqpConfig::new(self.url.clone())
        }
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
pub struct AmqpReport {
    /// Messages published.
    pub published: u64,
    /// Acked by the broker (publisher confirms).
    pub confirmed: u64,
    /// Nacked by the broker.
    pub refused: u64,
    /// Published to the priority queue.
    pub to_priority: u64,
    /// Seconds from the first publish to the last confirm.
    pub publish_secs: f64,
    /// Confirmed messages per second.
    pub confirmed_per_sec: f64,
    /// What was published: kinds, lanes and SMS parts expected in total.
    pub mix: MixTotals,
    /// Final states, when a status queue was waited on.
    pub status: Option<StatusReport>,
}

impl AmqpReport {
    /// Whether anything was refused or lost (the exit status of `loadgen amqp`).
    pub fn lost_anything(&self) -> bool {
        self.refused > 0 || self.status.as_ref().is_some_and(|s| s.lost > 0)
    }
}

/// Maps a lapin error to [`Error::Protocol`] naming the operation.
pub fn amqp_err(what: &str) -> impl FnOnce(lapin::Error) -> Error + '_ {
    move |e| Error::Protocol(format!("amqp {what}: {e}"))
}

/// Connects to the broker (on the current tokio runtime).
pub async fn connect(url: &str) -> Result<Connection, Error> {
    Connection::connect(url, ConnectionProperties::default())
        .await
        .map_err(amqp_err("connect"))
}

/// Declares `name` durable with no arguments (a classic queue; idempotent when it exists
/// with the same arguments).
pub async fn declare_durable(channel: &lapin::Channel, name: &str) -> Result<(), Error> {
    topology::declare_queue(channel, name, Default::default())
        .await
        .map_err(|e| Error::Protocol(e.to_string()))
}

/// Starts the bus of `opts` and waits until it is connected (its topology declared).
pub async fn start_bus(opts: &AmqpOptions, stop: &CancellationToken) -> Result<AmqpBus, Error> {
    let bus = AmqpBus::start(opts.bus_config(), stop.clone());
    let mut ready = bus.readiness();
    match tokio::time::timeout(CONNECT_LIMIT, ready.wait_for(|r| *r)).await {
        Ok(Ok(_)) => Ok(bus),
        _ => Err(Error::Protocol(format!(
            "amqp: no connection to {} within {CONNECT_LIMIT:?}",
            redact(&opts.url)
        ))),
    }
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…{}", &url[..s], &url[at..]),
        _ => url.to_owned(),
    }
}

/// Publishes, waits for the confirms and then (with a status queue) for the final states.
pub async fn run(opts: &AmqpOptions) -> Result<AmqpReport, Error> {
    let stop = CancellationToken::new();
    let _stop = stop.clone().drop_guard();
    let bus = start_bus(opts, &stop).await?;
    let waiter = Arc::new(Mutex::new(Waiter::default()));
    let consumer = opts
        .status_queue
        .as_ref()
        .map(|queue| start_status_consumer(&bus, queue, Arc::clone(&waiter)));
    let published = publish_on(&bus, opts, &waiter).await?;

    let status = match consumer {
        Some(task) => {
            let until = Instant::now() + opts.final_wait;
            while !lock(&waiter).all_final() && Instant::now() < until {
                if task.is_finished() {
                    return Err(Error::Protocol("status consumer stopped".into()));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            task.abort();
            Some(lock(&waiter).report())
        }
        None => None,
    };
    Ok(AmqpReport {
        published: opts.messages,
        confirmed: published.confirmed,
        refused: published.refused,
        to_priority: published.mix.priority,
        publish_secs: published.secs,
        confirmed_per_sec: published.confirmed as f64 / published.secs.max(1e-9),
        mix: published.mix,
        status,
    })
}

/// What [`publish`] did.
#[derive(Debug, Clone)]
pub struct Published {
    /// Confirmed by the broker.
    pub confirmed: u64,
    /// Not confirmed (the bus stopped first).
    pub refused: u64,
    /// What was published.
    pub mix: MixTotals,
    /// Seconds from the first publish to the last confirm.
    pub secs: f64,
}

/// [`publish_on`] a bus of its own, stopped afterwards.
pub async fn publish(opts: &AmqpOptions, waiter: &Mutex<Waiter>) -> Result<Published, Error> {
    let stop = CancellationToken::new();
    let _stop = stop.clone().drop_guard();
    let bus = start_bus(opts, &stop).await?;
    publish_on(&bus, opts, waiter).await
}

/// Publishes `opts.messages` of `opts.mix` through `bus` (paced by `opts.rate`, in envelopes
/// of `opts.batch`, at most `opts.window` unconfirmed), booking each in `waiter` before it is
/// sent and again when its confirm arrives.
pub async fn publish_on(
    bus: &AmqpBus,
    opts: &AmqpOptions,
    waiter: &Mutex<Waiter>,
) -> Result<Published, Error> {
    let normal = bus.publisher::<SubmitRequest>(&opts.normal_queue);
    let priority = normal.to(&opts.priority_queue);
    let pacer = Pacer::new(opts.rate);
    let started = Instant::now();
    let mut totals = MixTotals::default();
    let (mut confirmed, mut refused) = (0, 0);
    let mut in_flight = FuturesUnordered::new();
    let mut settle = |(id, ok): (Uuid, bool)| {
        if ok {
            confirmed += 1;
            lock(waiter).confirmed(id);
        } else {
            refused += 1;
            lock(waiter).refused(id);
        }
    };
    for i in 0..opts.messages {
        pacer.wait(i).await;
        let g = opts.mix.generate(i);
        totals.add(&g);
        let publisher = match g.request.priority {
            Priority::High => &priority,
            Priority::Normal => &normal,
        };
        let id = g.request.message_id;
        lock(waiter).published(id);
        let confirm = publisher
            .send(g.request)
            .await
            .map_err(|e| Error::Protocol(format!("publish: {e}")))?;
        in_flight.push(async move { (id, confirm.await.is_ok()) });
        while in_flight.len() >= opts.window.max(1) {
            if let Some(done) = in_flight.next().await {
                settle(done);
            }
        }
    }
    while let Some(done) = in_flight.next().await {
        settle(done);
    }
    Ok(Published {
        confirmed,
        refused,
        mix: totals,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// Feeds the status queue's events (bare or batched) to `waiter` on a task of its own,
/// acking each envelope once applied.
fn start_status_consumer(
    bus: &AmqpBus,
    queue: &str,
    waiter: Arc<Mutex<Waiter>>,
) -> tokio::task::JoinHandle<()> {
    let mut sub = bus.subscribe::<StatusEvent>(queue, 64);
    tokio::spawn(async move {
        while let Some(d) = sub.recv().await {
            {
                let mut w = lock(&waiter);
                for item in d.items() {
                    match item {
                        Ok(ev) => w.apply(ev),
                        Err(_) => w.unreadable(),
                    }
                }
            }
            d.ack().await;
        }
    })
}

/// Locks the waiter (a panic elsewhere does not poison the bookkeeping).
pub fn lock(w: &Mutex<Waiter>) -> std::sync::MutexGuard<'_, Waiter> {
    w.lock().unwrap_or_else(|e| e.into_inner())
}
