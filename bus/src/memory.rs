//! The in-process bus: the same [`Publisher`] and [`Subscription`] over bounded in-process
//! queues, for the embedded mode and the one-process binary.
//!
//! A queue is an `async_channel` of envelopes (many publishers, competing consumers), created
//! on first use with `queue_capacity` envelopes of room; values are moved, never serialised.
//! The publisher batches as over RabbitMQ (its confirm resolves once the envelope is in the
//! queue), so the code above sees the same envelopes and back-pressure. Nothing here survives
//! the process: an envelope that was taken and not settled is gone with it, which is what the
//! embedded mode promises (the HTTP caller or the control plane's outbox holds the record).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::publisher::{BatchConfig, Flush, Message, Payload, Pending, Publisher};
use crate::subscription::Subscription;

/// An in-process queue message: the items of one batch.
pub(crate) struct Envelope<T> {
    pub items: Vec<T>,
    pub redelivered: bool,
}

type Queue<T> = (
    async_channel::Sender<Envelope<T>>,
    async_channel::Receiver<Envelope<T>>,
);

/// A queue of some message type, and how to close it without knowing the type.
struct Slot {
    queue: Box<dyn Any + Send>,
    close: Box<dyn Fn() + Send>,
    stats: Box<dyn Fn() -> crate::QueueStats + Send>,
}

/// The in-process bus. Cheap to clone; clones share the queues.
#[derive(Clone)]
pub struct MemoryBus {
    queues: Arc<Mutex<HashMap<String, Slot>>>,
    capacity: usize,
    batch: BatchConfig,
}

impl std::fmt::Debug for MemoryBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBus")
            .field("capacity", &self.capacity)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl MemoryBus {
    /// Queues of `queue_capacity` envelopes; publishers batching as `batch` says.
    pub fn new(queue_capacity: usize, batch: BatchConfig) -> MemoryBus {
        MemoryBus {
            queues: Arc::default(),
            capacity: queue_capacity.max(1),
            batch,
        }
    }

    fn queue<T: Message>(&self, name: &str) -> Result<Queue<T>> {
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        let entry = queues.entry(name.to_owned()).or_insert_with(|| {
            let (tx, rx) = async_channel::bounded::<Envelope<T>>(self.capacity);
            let closer = tx.clone();
            let counter = rx.clone();
            Slot {
                queue: Box::new((tx, rx)),
                close: Box::new(move || {
                    closer.close();
                }),
                // The bus keeps one receiver itself (the slot's); the rest are subscriptions.
                stats: Box::new(move || crate::QueueStats {
                    messages: counter.len() as u64,
                    consumers: counter.receiver_count().saturating_sub(2) as u64,
                }),
            }
        });
        entry
            .queue
            .downcast_ref::<Queue<T>>()
            .cloned()
            .ok_or_else(|| Error::WrongType(name.to_owned()))
    }

    /// A publisher to `queue` (create it once and clone it: each call starts a batching task).
    pub fn publisher<T: Message>(&self, queue: &str) -> Result<Publisher<T>> {
        self.queue::<T>(queue)?;
        let backend = MemoryFlush {
            bus: self.clone(),
            senders: HashMap::new(),
        };
        Ok(Publisher::start(self.batch, queue, false, backend))
    }

    /// Envelopes waiting in `queue` and its subscriptions; `None` when it was never used.
    pub fn queue_stats(&self, queue: &str) -> Option<crate::QueueStats> {
        let queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        queues.get(queue).map(|slot| (slot.stats)())
    }

    /// Closes `queue` for good: publishing to it fails from now on (its consumer is gone),
    /// subscriptions end once it is empty.
    pub fn close(&self, queue: &str) {
        let queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = queues.get(queue) {
            (slot.close)();
        }
    }

    /// The envelopes of `queue`; several subscriptions of one queue compete for them.
    pub fn subscribe<T: Message>(&self, queue: &str) -> Result<Subscription<T>> {
        let (tx, rx) = self.queue::<T>(queue)?;
        Ok(Subscription::memory(rx, tx))
    }

    /// What a RabbitMQ retry queue does (message TTL, dead-lettered to `to`), in process:
    /// every envelope published to `from` is moved to `to` once `delay` has passed since it
    /// was taken from `from`, until `stop`. Like every in-process queue, envelopes still
    /// waiting when the process ends are gone (the outbox or the HTTP caller has them).
    pub fn forward_delayed<T: Message>(
        &self,
        from: &str,
        to: &str,
        delay: Duration,
        stop: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>> {
        let mut waiting = self.subscribe::<T>(from)?;
        let target = self.publisher::<T>(to)?;
        Ok(tokio::spawn(async move {
            loop {
                let delivery = tokio::select! {
                    d = waiting.recv() => d,
                    _ = stop.cancelled() => None,
                };
                let Some(mut delivery) = delivery else { break };
                let target = target.clone();
                let stop = stop.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = stop.cancelled() => return,
                    }
                    let confirms = futures::future::join_all(
                        delivery
                            .take_items()
                            .into_iter()
                            .filter_map(|item| item.ok())
                            .map(|item| target.publish(item)),
                    )
                    .await;
                    if let Some(Err(error)) = confirms.into_iter().find(|r| r.is_err()) {
                        tracing::warn!(%error, queue = target.queue(), "delayed envelope not moved");
                    }
                    delivery.ack().await;
                });
            }
        }))
    }
}

struct MemoryFlush<T> {
    bus: MemoryBus,
    senders: HashMap<Arc<str>, async_channel::Sender<Envelope<T>>>,
}

impl<T: Message> Flush<T> for MemoryFlush<T> {
    fn flush(&mut self, queue: Arc<str>, items: Vec<Pending<T>>) -> BoxFuture<'static, ()> {
        let sender = match self.senders.get(&queue) {
            Some(s) => Ok(s.clone()),
            None => self.bus.queue::<T>(&queue).map(|(tx, _)| {
                self.senders.insert(Arc::clone(&queue), tx.clone());
                tx
            }),
        };
        Box::pin(async move {
            let mut values = Vec::with_capacity(items.len());
            let mut done = Vec::with_capacity(items.len());
            for p in items {
                if let Payload::Value(v) = p.payload {
                    values.push(v);
                    done.push(p.done);
                }
            }
            let result = match sender {
                Ok(tx) => tx
                    .send(Envelope {
                        items: values,
                        redelivered: false,
                    })
                    .await
                    .map_err(|_| Error::Stopped(queue.to_string())),
                Err(e) => Err(e),
            };
            for d in done {
                let _ = d.send(match &result {
                    Ok(()) => Ok(()),
                    Err(_) => Err(Error::Stopped(queue.to_string())),
                });
            }
        })
    }
}
