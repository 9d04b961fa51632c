//! A unit of work for the dispatcher, and the completion handle that tells its source (the
//! RabbitMQ consumer) when the message's fate is decided.
//!
//! A [`Completion`] counts the message's segments down; each segment task reports how it
//! ended ([`SegmentEnd`]). When the last one has reported, the completion sends one
//! [`Settled`] with the message's [`Outcome`] on the source's channel: the source acks,
//! defers (broker-side retry queue) or leaves the delivery for redelivery. HTTP ingress work
//! has no completion: its segments retry in-process until decided, as before.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use semalink_protocol::contracts::SubmitRequest;
use tokio::sync::mpsc;

/// A request and, when its source needs to know, its completion handle.
#[derive(Debug)]
pub struct Work {
    /// The message.
    pub request: SubmitRequest,
    /// Told when every segment has an outcome; `None` for HTTP ingress work.
    pub done: Option<Completion>,
}

impl From<SubmitRequest> for Work {
    fn from(request: SubmitRequest) -> Work {
        Work {
            request,
            done: None,
        }
    }
}

/// How long a segment of a deferrable message keeps retrying in-process before the whole
/// message is handed back to the broker's retry queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeferLimits {
    /// Throttle answers retried in-process.
    pub throttle_retries: u32,
    /// Time spent waiting in-process for a bind.
    pub no_bind_wait: Duration,
}

/// How one segment task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentEnd {
    /// Accepted upstream or failed for good, and its status event was published.
    Decided,
    /// Not decided in-process (throttled, no bind, retries exhausted): retry later.
    Defer(String),
    /// Decided, but the status event could not be published (the sink gave up): the source
    /// must not acknowledge the message.
    Unpublished,
}

/// The whole message's outcome (the strongest of its segments' ends:
/// unpublished > defer > decided).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every segment decided: acknowledge.
    Decided,
    /// At least one segment must be retried later: send the message to the retry queue.
    Defer(String),
    /// A status event was not published: leave the message for redelivery.
    Unpublished,
}

/// A message's settled outcome, sent to its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The source's own number for the message.
    pub ticket: u64,
    /// What to do with it.
    pub outcome: Outcome,
}

/// Counts a message's segments down to its [`Settled`]. Clones share the count.
#[derive(Debug, Clone)]
pub struct Completion {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ticket: u64,
    limits: DeferLimits,
    left: AtomicU32,
    unpublished: AtomicBool,
    defer: Mutex<Option<String>>,
    tx: mpsc::UnboundedSender<Settled>,
}

impl Completion {
    /// A completion that reports `ticket` on `tx`; segments may defer within `limits`.
    pub fn new(ticket: u64, limits: DeferLimits, tx: mpsc::UnboundedSender<Settled>) -> Completion {
        Completion {
            inner: Arc::new(Inner {
                ticket,
                limits,
                left: AtomicU32::new(0),
                unpublished: AtomicBool::new(false),
                defer: Mutex::new(None),
                tx,
            }),
        }
    }

    /// The in-process retry limits of this message's segments.
    pub fn limits(&self) -> DeferLimits {
        self.inner.limits
    }

    /// Expects `segments` reports (call once, before any segment task starts).
    pub fn expect(&self, segments: u32) {
        self.inner.left.store(segments, Ordering::Release);
        if segments == 0 {
            self.settle();
        }
    }

    /// Settles at once with one segment's end (a message that was never split).
    pub fn finish(&self, end: SegmentEnd) {
        self.inner.left.store(1, Ordering::Release);
        self.segment(end);
    }

    /// One segment ended; the last report settles the message.
    pub fn segment(&self, end: SegmentEnd) {
        match end {
            SegmentEnd::Decided => {}
            SegmentEnd::Unpublished => self.inner.unpublished.store(true, Ordering::Release),
            SegmentEnd::Defer(reason) => {
                let mut slot = self.inner.defer.lock().unwrap_or_else(|e| e.into_inner());
                slot.get_or_insert(reason);
            }
        }
        if self.inner.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.settle();
        }
    }

    fn settle(&self) {
        let outcome = if self.inner.unpublished.load(Ordering::Acquire) {
            Outcome::Unpublished
        } else {
            let defer = self
                .inner
                .defer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            match defer {
                Some(reason) => Outcome::Defer(reason),
                None => Outcome::Decided,
            }
        };
        // The source is gone only when the engine stops: the broker redelivers then.
        let _ = self.inner.tx.send(Settled {
            ticket: self.inner.ticket,
            outcome,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> DeferLimits {
        DeferLimits {
            throttle_retries: 1,
            no_bind_wait: Duration::from_millis(10),
        }
    }

    #[test]
    fn the_last_segment_settles_with_the_strongest_end() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let c = Completion::new(7, limits(), tx.clone());
        c.expect(3);
        c.segment(SegmentEnd::Decided);
        c.clone().segment(SegmentEnd::Defer("throttled".into()));
        assert!(rx.try_recv().is_err(), "two of three reported");
        c.segment(SegmentEnd::Decided);
        assert_eq!(
            rx.try_recv().unwrap(),
            Settled {
                ticket: 7,
                outcome: Outcome::Defer("throttled".into())
            }
        );
        let c = Completion::new(8, limits(), tx.clone());
        c.expect(2);
        c.segment(SegmentEnd::Unpublished);
        c.segment(SegmentEnd::Defer("no bind".into()));
        assert_eq!(rx.try_recv().unwrap().outcome, Outcome::Unpublished);
        let c = Completion::new(9, limits(), tx);
        c.finish(SegmentEnd::Decided);
        assert_eq!(rx.try_recv().unwrap().outcome, Outcome::Decided);
    }
}
