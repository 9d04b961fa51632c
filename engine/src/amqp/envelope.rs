//! The envelopes being settled: each waits until every message in it is done (decided, or
//! deferred to a retry queue) or undecided, then it is settled on a task of its own — acked,
//! or its undecided messages requeued (`Delivery::requeue`: republished as a smaller envelope,
//! then acked; all undecided → the envelope itself is requeued). An envelope marked
//! [`Envelopes::keep_unsettled`] is dropped unsettled: the broker redelivers it when the
//! channel closes.
//!
//! [`defer`] is here too: it ends with the messages' envelopes learning their outcome.

use std::collections::HashMap;
use std::sync::Arc;

use semalink_bus::Delivery;
use semalink_protocol::contracts::{DeliveryState, SubmitRequest};
use tokio::task::JoinSet;

use super::Link;
use super::consumer::{Lane, Pending};
use super::settle::Settle;
use crate::config::AmqpConfig;

/// What a consumer task reports when it ends.
#[derive(Debug)]
pub(super) enum TaskDone {
    /// An envelope was settled.
    Settled,
    /// A deferred message: its envelopes learn it is done (`undecided` `None`) or must come
    /// back (the retry publish failed).
    Deferred {
        envelopes: Vec<u64>,
        undecided: Option<Box<SubmitRequest>>,
    },
}

struct Open {
    delivery: Delivery<SubmitRequest>,
    left: usize,
    undecided: Vec<SubmitRequest>,
    unsettled: bool,
}

/// The envelopes not settled yet, by number.
pub(super) struct Envelopes {
    settle: Arc<dyn Settle>,
    open: HashMap<u64, Open>,
    next: u64,
}

impl Envelopes {
    pub fn new(settle: Arc<dyn Settle>) -> Envelopes {
        Envelopes {
            settle,
            open: HashMap::new(),
            next: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Starts waiting for the messages of `delivery` (settled at once when it has none).
    pub fn open(
        &mut self,
        delivery: Delivery<SubmitRequest>,
        tasks: &mut JoinSet<TaskDone>,
    ) -> u64 {
        let n = self.next;
        self.next += 1;
        let left = delivery.len();
        self.open.insert(
            n,
            Open {
                delivery,
                left,
                undecided: Vec::new(),
                unsettled: false,
            },
        );
        if left == 0 {
            self.finish(n, tasks);
        }
        n
    }

    /// Leaves envelope `n` unsettled when it is done.
    pub fn keep_unsettled(&mut self, n: u64) {
        if let Some(o) = self.open.get_mut(&n) {
            o.unsettled = true;
        }
    }

    /// One message of envelope `n` has its outcome: done, or `undecided` (to come back).
    pub fn done(
        &mut self,
        n: u64,
        undecided: Option<SubmitRequest>,
        tasks: &mut JoinSet<TaskDone>,
    ) {
        let Some(o) = self.open.get_mut(&n) else {
            return;
        };
        o.undecided.extend(undecided);
        o.left = o.left.saturating_sub(1);
        if o.left == 0 {
            self.finish(n, tasks);
        }
    }

    fn finish(&mut self, n: u64, tasks: &mut JoinSet<TaskDone>) {
        let Some(o) = self.open.remove(&n) else {
            return;
        };
        if o.unsettled {
            tracing::debug!("envelope left for the broker to redeliver");
            return;
        }
        let settle = Arc::clone(&self.settle);
        tasks.spawn(async move {
            let requeued = !o.undecided.is_empty();
            let ok = o.delivery.requeue(o.undecided).await;
            match (ok, requeued) {
                (true, false) => settle.count("acked"),
                (true, true) => settle.count("requeued"),
                // Its channel is gone: the broker redelivers it.
                (false, _) => tracing::debug!("settling on a closed channel skipped"),
            }
            TaskDone::Settled
        });
    }
}

/// Sends a deferred message to the retry queue of its next delay, or fails it after the last
/// attempt; its envelopes learn it is done once that is confirmed, else that it is undecided.
pub(super) async fn defer(
    link: &Link,
    settle: &dyn Settle,
    p: Pending,
    reason: String,
) -> TaskDone {
    let config = link.config();
    let tries = p.request.attempt.saturating_add(1);
    let done = if tries >= config.max_attempts {
        settle.count("gave_up");
        tracing::warn!(message_id = %p.id, tries, %reason, "giving up");
        let text = format!("not sent after {tries} attempts: {reason}");
        settle.fail(p.id, DeliveryState::Failed, text).await
    } else {
        let delay = config.retry_delay(tries);
        let topology = link.topology();
        let queue = match p.lane {
            Lane::Priority => &topology.priority,
            Lane::Normal => &topology.normal,
        };
        let retry = link.submits().to(&AmqpConfig::retry_queue(queue, delay));
        let mut request = p.request.clone();
        request.attempt = tries;
        tracing::debug!(message_id = %p.id, tries, ?delay, %reason, "deferred to the retry queue");
        let ok = retry.publish(request).await;
        settle.count("deferred");
        ok.is_ok()
    };
    TaskDone::Deferred {
        envelopes: p.envelopes,
        undecided: (!done).then(|| Box::new(p.request)),
    }
}
