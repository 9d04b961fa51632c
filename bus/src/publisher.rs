//! The batching publisher: [`Publisher<T>`] is a cheap, cloneable handle; what it is given
//! goes over a bounded channel to one batching task, which groups items per queue and hands a
//! batch to its backend (RabbitMQ or in-process) when it holds `max_items` or when its oldest
//! item has waited `linger`.
//!
//! * Back-pressure: the channel holds at most `capacity` items and the task keeps at most
//!   `max_in_flight` batches unconfirmed; past that, [`Publisher::send`] waits. Memory is
//!   bounded by `capacity + max_in_flight × max_items` items.
//! * Every item gets a [`Confirm`], a future that resolves when the backend has it for good
//!   (RabbitMQ: the broker's publisher confirm of the envelope carrying it), so a caller can
//!   hand an item over now and wait for its confirm later, or at once with
//!   [`Publisher::publish`].
//! * With `linger` 0 nothing waits for company: a batch is what queued up while the previous
//!   one was being published, so batches grow with the load and latency does not.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use semalink_protocol::contracts::{self, Contract};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::error::{Error, Result};

/// A contract message the bus can carry.
pub trait Message: Contract + Send + Sync + 'static {}
impl<T: Contract + Send + Sync + 'static> Message for T {}

/// How the publisher batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// Items per envelope at most.
    pub max_items: usize,
    /// How long the first item of a batch waits for more.
    pub linger: Duration,
    /// Items waiting to be batched before `send` waits (back-pressure).
    pub capacity: usize,
    /// Batches handed to the backend and not yet confirmed.
    pub max_in_flight: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_items: 500,
            linger: Duration::from_millis(5),
            capacity: 10_000,
            max_in_flight: 32,
        }
    }
}

/// An item on its way: its queue, its payload, and where its confirm goes.
pub(crate) struct Pending<T> {
    pub queue: Arc<str>,
    pub payload: Payload<T>,
    pub done: oneshot::Sender<Result<()>>,
}

/// RabbitMQ wants the JSON (encoded in the sender's task, where an error belongs to its
/// item); the in-process bus the value itself.
pub(crate) enum Payload<T> {
    Json(Vec<u8>),
    Value(T),
}

/// A backend publishing one batch; the future resolves every item's `done`.
pub(crate) trait Flush<T>: Send + 'static {
    fn flush(&mut self, queue: Arc<str>, items: Vec<Pending<T>>) -> BoxFuture<'static, ()>;
}

/// Resolves when the item is confirmed: `Ok` once the backend holds it for good, an error when
/// the bus stopped first.
#[derive(Debug)]
pub struct Confirm(oneshot::Receiver<Result<()>>, Arc<str>);

impl Future for Confirm {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or_else(|_| Err(Error::Stopped(self.1.to_string()))))
    }
}

/// Publishes `T`s to a queue (and, with [`Publisher::to`], to others) through one batching
/// task. Cheap to clone; the task ends when every clone is dropped, after publishing what it
/// holds.
#[derive(Debug)]
pub struct Publisher<T> {
    tx: mpsc::Sender<Pending<T>>,
    queue: Arc<str>,
    encode: bool,
    _t: PhantomData<fn(T)>,
}

impl<T> Clone for Publisher<T> {
    fn clone(&self) -> Self {
        Publisher {
            tx: self.tx.clone(),
            queue: Arc::clone(&self.queue),
            encode: self.encode,
            _t: PhantomData,
        }
    }
}

impl<T: Message> Publisher<T> {
    /// Starts the batching task of `backend`; `encode` says whether it wants JSON.
    pub(crate) fn start<F: Flush<T>>(
        config: BatchConfig,
        queue: &str,
        encode: bool,
        backend: F,
    ) -> Publisher<T> {
        let (tx, rx) = mpsc::channel(config.capacity.max(1));
        tokio::spawn(run(rx, backend, config));
        Publisher {
            tx,
            queue: queue.into(),
            encode,
            _t: PhantomData,
        }
    }

    /// The queue it publishes to.
    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// The same batching task publishing to `queue` (batches are per queue).
    pub fn to(&self, queue: &str) -> Publisher<T> {
        Publisher {
            queue: queue.into(),
            ..self.clone()
        }
    }

    /// Hands `item` over, waiting while the publisher is full; the returned [`Confirm`]
    /// resolves on the backend's confirm.
    pub async fn send(&self, item: T) -> Result<Confirm> {
        let payload = if self.encode {
            Payload::Json(contracts::encode(&item)?)
        } else {
            Payload::Value(item)
        };
        let (done, confirmed) = oneshot::channel();
        let pending = Pending {
            queue: Arc::clone(&self.queue),
            payload,
            done,
        };
        self.tx
            .send(pending)
            .await
            .map_err(|_| Error::Stopped(self.queue.to_string()))?;
        Ok(Confirm(confirmed, Arc::clone(&self.queue)))
    }

    /// [`send`](Self::send), then waits for the confirm.
    pub async fn publish(&self, item: T) -> Result<()> {
        self.send(item).await?.await
    }
}

/// One queue's batch being filled.
struct Filling<T> {
    queue: Arc<str>,
    since: Instant,
    items: Vec<Pending<T>>,
}

async fn run<T: Send + 'static, F: Flush<T>>(
    mut rx: mpsc::Receiver<Pending<T>>,
    mut backend: F,
    config: BatchConfig,
) {
    let max_items = config.max_items.max(1);
    let max_in_flight = config.max_in_flight.max(1);
    let mut filling: Vec<Filling<T>> = Vec::new();
    let mut in_flight = FuturesUnordered::new();
    let mut open = true;
    loop {
        if !open && filling.is_empty() && in_flight.is_empty() {
            return;
        }
        let room = in_flight.len() < max_in_flight;
        let due = filling.iter().map(|f| f.since + config.linger).min();
        tokio::select! {
            biased;
            Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
            item = rx.recv(), if open && room => match item {
                Some(p) => {
                    let at = match filling.iter().position(|f| f.queue == p.queue) {
                        Some(at) => at,
                        None => {
                            filling.push(Filling {
                                queue: Arc::clone(&p.queue),
                                since: Instant::now(),
                                items: Vec::with_capacity(max_items.min(1024)),
                            });
                            filling.len() - 1
                        }
                    };
                    filling[at].items.push(p);
                    if filling[at].items.len() >= max_items {
                        let f = filling.swap_remove(at);
                        in_flight.push(backend.flush(f.queue, f.items));
                    }
                }
                None => {
                    open = false;
                    for f in filling.drain(..) {
                        in_flight.push(backend.flush(f.queue, f.items));
                    }
                }
            },
            _ = sleep_until(due), if room && due.is_some() => {
                let now = Instant::now();
                let mut i = 0;
                while i < filling.len() && in_flight.len() < max_in_flight {
                    if filling[i].since + config.linger <= now {
                        let f = filling.swap_remove(i);
                        in_flight.push(backend.flush(f.queue, f.items));
                    } else {
                        i += 1;
                    }
                }
            }
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use semalink_protocol::contracts::{InboundMessage, VERSION};

    use super::*;

    /// Records batch sizes per queue and confirms at once.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<(String, usize)>>>);

    impl Flush<InboundMessage> for Recorder {
        fn flush(
            &mut self,
            queue: Arc<str>,
            items: Vec<Pending<InboundMessage>>,
        ) -> BoxFuture<'static, ()> {
            self.0
                .lock()
                .unwrap()
                .push((queue.to_string(), items.len()));
            Box::pin(async move {
                for p in items {
                    let _ = p.done.send(Ok(()));
                }
            })
        }
    }

    fn message() -> InboundMessage {
        InboundMessage {
            version: VERSION,
            id: uuid::Uuid::from_u128(1),
            from: "254712345678".into(),
            to: "20880".into(),
            text: "hi".into(),
            received_at: time::OffsetDateTime::UNIX_EPOCH,
            upstream: "sim".into(),
            segments: 1,
        }
    }

    #[tokio::test]
    async fn batches_close_at_max_items_or_after_the_linger_per_queue() {
        let rec = Recorder::default();
        let config = BatchConfig {
            max_items: 3,
            linger: Duration::from_millis(20),
            ..BatchConfig::default()
        };
        let p = Publisher::start(config, "a", false, rec.clone());
        let b = p.to("b");
        let mut confirms = Vec::new();
        for _ in 0..4 {
            confirms.push(p.send(message()).await.unwrap());
        }
        confirms.push(b.send(message()).await.unwrap());
        for c in confirms {
            c.await.unwrap();
        }
        let mut seen = rec.0.lock().unwrap().clone();
        seen.sort();
        assert_eq!(seen, [("a".into(), 1), ("a".into(), 3), ("b".into(), 1)]);
    }
}
