//! [`Subscription<T>`]: the envelopes of one queue, from RabbitMQ (through the consumer task
//! of [`crate::amqp`], which reconnects and resumes on its own) or from an in-process queue.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc;
use tokio_util::sync::DropGuard;

use crate::delivery::{Delivery, Settler};
use crate::memory::Envelope;
use crate::publisher::Message;

/// The deliveries of one queue. Dropping it (or [`cancel`](Self::cancel)) stops consuming;
/// deliveries already taken can still be settled.
pub struct Subscription<T> {
    inner: Inner<T>,
}

enum Inner<T> {
    Amqp {
        rx: mpsc::Receiver<Delivery<T>>,
        stop: Option<DropGuard>,
    },
    Memory {
        // The receiver is not `Unpin` (it may hold a listener); pinned once here.
        rx: Pin<Box<async_channel::Receiver<Envelope<T>>>>,
        queue: async_channel::Sender<Envelope<T>>,
        cancelled: bool,
    },
}

impl<T> std::fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

impl<T: Message> Subscription<T> {
    pub(crate) fn amqp(rx: mpsc::Receiver<Delivery<T>>, stop: DropGuard) -> Self {
        Subscription {
            inner: Inner::Amqp {
                rx,
                stop: Some(stop),
            },
        }
    }

    pub(crate) fn memory(
        rx: async_channel::Receiver<Envelope<T>>,
        queue: async_channel::Sender<Envelope<T>>,
    ) -> Self {
        Subscription {
            inner: Inner::Memory {
                rx: Box::pin(rx),
                queue,
                cancelled: false,
            },
        }
    }

    /// The next delivery; `None` once cancelled (RabbitMQ: after the deliveries the broker
    /// had already sent) or when the bus stopped.
    pub async fn recv(&mut self) -> Option<Delivery<T>> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery (for consumers choosing between several subscriptions).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Delivery<T>>> {
        match &mut self.inner {
            Inner::Amqp { rx, .. } => rx.poll_recv(cx),
            Inner::Memory {
                rx,
                queue,
                cancelled,
            } => {
                if *cancelled {
                    return Poll::Ready(None);
                }
                rx.as_mut().poll_next(cx).map(|e| {
                    e.map(|e| {
                        let items = e.items.into_iter().map(Ok).collect();
                        let settler = Settler::Memory {
                            queue: queue.clone(),
                        };
                        Delivery::new(items, e.redelivered, settler)
                    })
                })
            }
        }
    }

    /// Stops consuming: RabbitMQ cancels the consumer (unacknowledged deliveries stay with
    /// this client until settled or the connection closes); no new deliveries after those
    /// already received.
    pub fn cancel(&mut self) {
        match &mut self.inner {
            Inner::Amqp { stop, .. } => drop(stop.take()),
            Inner::Memory { cancelled, .. } => *cancelled = true,
        }
    }
}
