//! `loadgen amqp`: publishes the [`super::mix`] as JSON [`SubmitRequest`]s
//! (`contracts::encode`) to the engine's durable submit queues (`sms.normal` / `sms.priority`)
//! through RabbitMQ's default exchange, persistent and with publisher confirms (a nack counts
//! as refused), then optionally consumes `sms.status` until every confirmed message has a final
//! [`StatusEvent`](semalink_protocol::contracts::StatusEvent) or the wait runs out, and reports
//! lost, duplicated and publish → final latency ([`waiter`]).
//!
//! The status queue is consumed with automatic acknowledgement: the load generator is the only
//! reader of it during a run, and events of other runs are counted as foreign and dropped.

pub mod waiter;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::StreamExt;
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, PublisherConfirm,
    options::{
        BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions,
    },
    types::FieldTable,
};
use semalink_protocol::contracts::{self, Priority};
use serde::Serialize;
use tokio::time::Instant;
use uuid::Uuid;

use super::{
    mix::{MixOptions, MixTotals},
    pace::Pacer,
};
use crate::Error;
pub use waiter::{StatusReport, Waiter};

/// AMQP `delivery_mode` 2: the broker writes the message to disk (AMQP 0-9-1 §basic).
const PERSISTENT: u8 = 2;

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
}

impl AmqpOptions {
    /// Defaults for `url`: the engine's queue names, 1000 in flight, a 60 s wait.
    pub fn new(url: impl Into<String>, messages: u64) -> AmqpOptions {
        AmqpOptions {
            url: url.into(),
            messages,
            normal_queue: "sms.normal".into(),
            priority_queue: "sms.priority".into(),
            status_queue: Some("sms.status".into()),
            mix: MixOptions::default(),
            rate: None,
            window: 1000,
            final_wait: Duration::from_secs(60),
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

/// Declares `name` durable (idempotent when it exists with the same arguments).
pub async fn declare_durable(channel: &Channel, name: &str) -> Result<(), Error> {
    channel
        .queue_declare(
            name.into(),
            QueueDeclareOptions::durable(),
            FieldTable::default(),
        )
        .await
        .map_err(amqp_err("queue_declare"))?;
    Ok(())
}

/// Publishes, waits for the confirms and then (with a status queue) for the final states.
pub async fn run(opts: &AmqpOptions) -> Result<AmqpReport, Error> {
    let conn = connect(&opts.url).await?;
    let channel = conn.create_channel().await.map_err(amqp_err("channel"))?;
    let waiter = Arc::new(Mutex::new(Waiter::default()));
    let consumer = match &opts.status_queue {
        Some(queue) => Some(start_status_consumer(&conn, queue, Arc::clone(&waiter)).await?),
        None => None,
    };
    let published = publish(&channel, opts, &waiter).await?;

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
    let _ = conn.close(200, "loadgen done".into()).await;
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
    /// Acked by the broker.
    pub confirmed: u64,
    /// Nacked by the broker.
    pub refused: u64,
    /// What was published.
    pub mix: MixTotals,
    /// Seconds from the first publish to the last confirm.
    pub secs: f64,
}

/// Declares the submit queues, selects confirms on `channel` and publishes `opts.messages`
/// of `opts.mix` (paced by `opts.rate`, at most `opts.window` unconfirmed), booking each in
/// `waiter` before it is sent and again when its confirm arrives.
pub async fn publish(
    channel: &Channel,
    opts: &AmqpOptions,
    waiter: &Mutex<Waiter>,
) -> Result<Published, Error> {
    declare_durable(channel, &opts.normal_queue).await?;
    declare_durable(channel, &opts.priority_queue).await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(amqp_err("confirm_select"))?;
    let pacer = Pacer::new(opts.rate);
    let started = Instant::now();
    let mut totals = MixTotals::default();
    let (mut confirmed, mut refused) = (0, 0);
    let mut in_flight: VecDeque<(Uuid, PublisherConfirm)> = VecDeque::new();
    for i in 0..opts.messages {
        pacer.wait(i).await;
        let g = opts.mix.generate(i);
        totals.add(&g);
        let queue = match g.request.priority {
            Priority::High => &opts.priority_queue,
            Priority::Normal => &opts.normal_queue,
        };
        let payload =
            contracts::encode(&g.request).map_err(|e| Error::Protocol(format!("encode: {e}")))?;
        let id = g.request.message_id;
        lock(waiter).published(id);
        let props = BasicProperties::default()
            .with_delivery_mode(PERSISTENT)
            .with_content_type("application/json".into())
            .with_message_id(id.to_string().into());
        let confirm = channel
            .basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions::default(),
                &payload,
                props,
            )
            .await
            .map_err(amqp_err("publish"))?;
        in_flight.push_back((id, confirm));
        while in_flight.len() >= opts.window.max(1) {
            settle(in_flight.pop_front(), waiter, &mut confirmed, &mut refused).await?;
        }
    }
    while !in_flight.is_empty() {
        settle(in_flight.pop_front(), waiter, &mut confirmed, &mut refused).await?;
    }
    Ok(Published {
        confirmed,
        refused,
        mix: totals,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// Awaits one publisher confirm and books it.
async fn settle(
    next: Option<(Uuid, PublisherConfirm)>,
    waiter: &Mutex<Waiter>,
    confirmed: &mut u64,
    refused: &mut u64,
) -> Result<(), Error> {
    let Some((id, confirm)) = next else {
        return Ok(());
    };
    match confirm.await.map_err(amqp_err("confirm"))? {
        Confirmation::Nack(_) => {
            *refused += 1;
            lock(waiter).refused(id);
        }
        _ => {
            *confirmed += 1;
            lock(waiter).confirmed(id);
        }
    }
    Ok(())
}

/// Declares the status queue and feeds its events to `waiter` on a task of its own.
async fn start_status_consumer(
    conn: &Connection,
    queue: &str,
    waiter: Arc<Mutex<Waiter>>,
) -> Result<tokio::task::JoinHandle<()>, Error> {
    let channel = conn.create_channel().await.map_err(amqp_err("channel"))?;
    declare_durable(&channel, queue).await?;
    let mut consumer = channel
        .basic_consume(
            queue.into(),
            "loadgen".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(amqp_err("basic_consume"))?;
    Ok(tokio::spawn(async move {
        // Keep the channel open for as long as the consumer runs.
        let _channel = channel;
        while let Some(Ok(delivery)) = consumer.next().await {
            lock(&waiter).event(&delivery.data);
        }
    }))
}

/// Locks the waiter (a panic elsewhere does not poison the bookkeeping).
pub fn lock(w: &Mutex<Waiter>) -> std::sync::MutexGuard<'_, Waiter> {
    w.lock().unwrap_or_else(|e| e.into_inner())
}
