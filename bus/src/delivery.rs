//! [`Delivery<T>`]: one received envelope — its items, and settling it once.
//!
//! The broker acknowledges whole queue messages, so an envelope is settled once, when every
//! item in it has its outcome: [`Delivery::ack`] when all are decided, or
//! [`Delivery::requeue`] with the items still undecided. Those are republished (confirmed) as
//! a smaller envelope to the same queue before the original is acked, so only they come
//! back; when every item is undecided the envelope itself is requeued. If the connection
//! dies before that, the broker redelivers the whole envelope and the consumer recognises
//! the items it already decided by its own key (the bus never decides what a duplicate is).

use semalink_protocol::contracts::BatchItem;

use crate::memory::Envelope;
use crate::publisher::{Message, Publisher};

/// How a delivery is settled.
pub(crate) enum Settler<T> {
    Amqp {
        acker: lapin::Acker,
        /// Keeps the consuming channel open until this delivery is settled (closing it
        /// would requeue every unacknowledged delivery on it).
        _channel: lapin::Channel,
        requeue: Publisher<T>,
    },
    Memory {
        queue: async_channel::Sender<Envelope<T>>,
    },
}

/// One envelope taken from a [`Subscription`](crate::Subscription).
pub struct Delivery<T> {
    items: Vec<BatchItem<T>>,
    count: usize,
    redelivered: bool,
    settler: Settler<T>,
}

impl<T> std::fmt::Debug for Delivery<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("items", &self.count)
            .field("redelivered", &self.redelivered)
            .finish_non_exhaustive()
    }
}

impl<T: Message> Delivery<T> {
    pub(crate) fn new(items: Vec<BatchItem<T>>, redelivered: bool, settler: Settler<T>) -> Self {
        Delivery {
            count: items.len(),
            items,
            redelivered,
            settler,
        }
    }

    /// The items (a bare message is a batch of one; unreadable elements are `Err`).
    pub fn items(&self) -> &[BatchItem<T>] {
        &self.items
    }

    /// Takes the items out (the delivery can still be settled).
    pub fn take_items(&mut self) -> Vec<BatchItem<T>> {
        std::mem::take(&mut self.items)
    }

    /// How many items the envelope carried.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it carried none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether the broker delivered it before (to this or another consumer).
    pub fn redelivered(&self) -> bool {
        self.redelivered
    }

    /// Every item has its outcome: the envelope is done. False when its channel is gone (the
    /// broker redelivers it; the consumer de-duplicates).
    pub async fn ack(self) -> bool {
        match self.settler {
            Settler::Amqp { acker, .. } => {
                matches!(
                    acker.ack(lapin::options::BasicAckOptions::default()).await,
                    Ok(true)
                )
            }
            Settler::Memory { .. } => true,
        }
    }

    /// `undecided` (a subset of the items) must come back later: they are published again to
    /// the queue and the envelope is acked; all of them → the envelope itself is requeued; none
    /// → [`ack`](Self::ack). False when that could not be done (the broker redelivers the
    /// whole envelope).
    pub async fn requeue(self, undecided: Vec<T>) -> bool {
        if undecided.is_empty() {
            return self.ack().await;
        }
        match self.settler {
            Settler::Amqp { acker, requeue, .. } => {
                let requeue_all = lapin::options::BasicNackOptions {
                    multiple: false,
                    requeue: true,
                };
                if undecided.len() >= self.count {
                    return matches!(acker.nack(requeue_all).await, Ok(true));
                }
                let mut confirms = Vec::with_capacity(undecided.len());
                for item in undecided {
                    match requeue.send(item).await {
                        Ok(c) => confirms.push(c),
                        Err(_) => return matches!(acker.nack(requeue_all).await, Ok(true)),
                    }
                }
                let confirmed = futures::future::join_all(confirms)
                    .await
                    .into_iter()
                    .all(|c| c.is_ok());
                if confirmed {
                    matches!(
                        acker.ack(lapin::options::BasicAckOptions::default()).await,
                        Ok(true)
                    )
                } else {
                    matches!(acker.nack(requeue_all).await, Ok(true))
                }
            }
            Settler::Memory { queue } => {
                let envelope = Envelope {
                    items: undecided,
                    redelivered: true,
                };
                // Never wait for room here: the caller is usually the queue's only consumer,
                // the one that makes room, so a full queue (publishers keep it full under
                // load) would wait for ever — the embedded status consumer deadlocked so
                // with the engine behind it. Like a nack, the envelope goes back as soon as
                // there is room, without holding the consumer.
                match queue.try_send(envelope) {
                    Ok(()) => true,
                    Err(async_channel::TrySendError::Closed(_)) => false,
                    Err(async_channel::TrySendError::Full(envelope)) => {
                        tokio::spawn(async move {
                            let _ = queue.send(envelope).await;
                        });
                        true
                    }
                }
            }
        }
    }
}
