//! Consuming `sms.priority` and `sms.normal`, and settling each envelope once the fate of
//! every message in it is decided.
//!
//! * At most `prefetch` messages are in flight in the engine (default: twice the windows of
//!   all upstreams, the same bound as the segment permits); a new envelope is taken only
//!   while fewer are (an envelope may carry several, so the bound is exceeded by at most one
//!   envelope). The normal subscription's prefetch is `prefetch` envelopes, the priority
//!   one's twice that, so that while the engine is full of priority work the next priority
//!   envelopes are already buffered. Envelopes are taken from the priority subscription
//!   first; after [`PRIORITY_RUN`] priority envelopes in a row one waiting normal envelope
//!   goes next, so a flood of priority traffic slows normal traffic down but never stops it.
//! * Each message becomes [`Work`] with a [`Completion`]; the dispatcher's segment tasks
//!   report to it and the last report comes back here as a [`Settled`]:
//!   [`Outcome::Decided`] → done; [`Outcome::Defer`] → republished with `attempt + 1` to the
//!   retry queue of the next delay (confirmed), then done — or, after `max_attempts`
//!   deliveries, a `failed` status event, then done; [`Outcome::Unpublished`] → undecided.
//!   When every message of an envelope is done or undecided the envelope is settled
//!   ([`envelope`]): acked, or its undecided messages requeued.
//! * A message id already in flight (the broker redelivered its envelope after a lost
//!   connection, or it was published twice) is not started again: the new envelope waits for
//!   the one in flight. A message the tracker already saw decided is done at once.
//! * Nothing is taken while the engine is not ready (no bind up, store down, broker down);
//!   envelopes already buffered wait within the prefetch.
//! * The state of messages in flight survives reconnects: the bus resumes consumption, the
//!   old envelopes' acks fail (the broker redelivers them) and the redelivered copies attach
//!   to the messages in flight.

use std::collections::HashMap;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use semalink_bus::{Delivery, Subscription};
use semalink_protocol::contracts::{DeliveryState, SubmitRequest, Undecodable};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::Link;
use super::envelope::{Envelopes, TaskDone, defer};
use super::settle::{PipelineSettle, Settle};
use crate::config::AmqpConfig;
use crate::correlation::CorrelationStore;
use crate::dispatch::{Completion, DeferLimits, Outcome, Pipeline, Settled, Work};
use crate::ingress::Readiness;
use crate::sink::StatusSink;

/// Priority envelopes taken in a row before a waiting normal one goes next.
pub const PRIORITY_RUN: u32 = 8;
/// How often readiness is looked at again while the engine is not ready.
const NOT_READY_POLL: Duration = Duration::from_millis(50);

/// Which submit queue a delivery came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lane {
    Priority,
    Normal,
}

/// A message in flight: what is needed to defer or fail it, and the envelopes waiting for it.
#[derive(Debug)]
pub(super) struct Pending {
    pub id: Uuid,
    pub lane: Lane,
    pub request: SubmitRequest,
    pub envelopes: Vec<u64>,
}

/// The consumer's state.
pub struct Consumer {
    link: Arc<Link>,
    settle: Arc<dyn Settle>,
    ready: Readiness,
    prefetch: u16,
    limits: DeferLimits,
    work: Option<mpsc::Sender<Work>>,
    settled_tx: mpsc::UnboundedSender<Settled>,
    settled_rx: mpsc::UnboundedReceiver<Settled>,
    pending: HashMap<u64, Pending>,
    by_id: HashMap<Uuid, u64>,
    next_ticket: u64,
    envelopes: Envelopes,
    priority_run: u32,
    tasks: JoinSet<TaskDone>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("prefetch", &self.prefetch)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

/// The prefetch of `config`: its own value, or twice the windows of all upstreams (at least
/// 1, at most `u16::MAX`).
pub fn prefetch(config: &AmqpConfig, windows: usize) -> u16 {
    if config.prefetch > 0 {
        config.prefetch
    } else {
        u16::try_from(windows.saturating_mul(2).max(1)).unwrap_or(u16::MAX)
    }
}

impl Consumer {
    /// A consumer feeding `work` (the dispatcher's queue) from `link`'s queues; it takes
    /// envelopes only while `ready` says so.
    pub fn new<S: CorrelationStore, K: StatusSink>(
        link: Arc<Link>,
        pipeline: Arc<Pipeline<S, K>>,
        work: mpsc::Sender<Work>,
        ready: Readiness,
        prefetch: u16,
    ) -> Consumer {
        let (settled_tx, settled_rx) = mpsc::unbounded_channel();
        let limits = DeferLimits {
            throttle_retries: link.config().throttle_retries,
            no_bind_wait: Duration::from_millis(link.config().no_bind_wait_ms),
        };
        let settle: Arc<dyn Settle> = Arc::new(PipelineSettle(pipeline));
        Consumer {
            link,
            envelopes: Envelopes::new(Arc::clone(&settle)),
            settle,
            ready,
            prefetch,
            limits,
            work: Some(work),
            settled_tx,
            settled_rx,
            pending: HashMap::new(),
            by_id: HashMap::new(),
            next_ticket: 0,
            priority_run: 0,
            tasks: JoinSet::new(),
        }
    }

    /// Consumes until `cancel` (then the subscriptions are cancelled and the dispatcher's
    /// queue closed) and settles what is in flight until nothing is or the link's stop token
    /// is cancelled; what is left unacknowledged is redelivered by the broker.
    pub async fn run(mut self, cancel: CancellationToken) {
        let topology = self.link.topology().clone();
        let bus = self.link.bus().clone();
        let subscriptions = bus
            .subscribe::<SubmitRequest>(&topology.priority, self.prefetch.saturating_mul(2))
            .and_then(|p| Ok((p, bus.subscribe(&topology.normal, self.prefetch)?)));
        let (mut priority, mut normal) = match subscriptions {
            Ok(s) => s,
            Err(e) => return tracing::error!(error = %e, "cannot consume the submit queues"),
        };
        loop {
            let ready = self.work.is_some()
                && self.pending.len() < usize::from(self.prefetch)
                && (self.ready)();
            let prefer_normal = self.priority_run >= PRIORITY_RUN;
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                Some(s) = self.settled_rx.recv() => self.settled(s),
                Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    if let Ok(done) = done {
                        self.task_done(done);
                    }
                }
                (lane, d) = next(&mut priority, &mut normal, prefer_normal), if ready => {
                    match d {
                        Some(d) => self.delivered(lane, d).await,
                        None => break,
                    }
                }
                _ = tokio::time::sleep(NOT_READY_POLL), if !ready => {}
            }
        }
        priority.cancel();
        normal.cancel();
        self.drain().await;
    }

    /// Counts an `amqp_total` event.
    pub fn count(&self, event: &str) {
        self.settle.count(event);
    }

    /// Settles messages as their segments finish, until none is in flight or the link stops.
    async fn drain(&mut self) {
        self.work = None;
        let stop = self.link.stop().clone();
        while !(self.pending.is_empty() && self.envelopes.is_empty() && self.tasks.is_empty()) {
            tokio::select! {
                Some(s) = self.settled_rx.recv() => self.settled(s),
                Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    if let Ok(done) = done {
                        self.task_done(done);
                    }
                }
                _ = stop.cancelled() => break,
            }
        }
        if !self.pending.is_empty() {
            tracing::warn!(
                in_flight = self.pending.len(),
                "stopping with messages in flight; the broker redelivers them"
            );
        }
    }

    /// A new envelope: start its messages, attach them to the same messages in flight, or mark
    /// them done when they were decided before.
    async fn delivered(&mut self, lane: Lane, mut delivery: Delivery<SubmitRequest>) {
        match lane {
            Lane::Priority => self.priority_run += 1,
            Lane::Normal => self.priority_run = 0,
        }
        let items = delivery.take_items();
        let env = self.envelopes.open(delivery, &mut self.tasks);
        for item in items {
            match item {
                Ok(request) => self.start(env, lane, request).await,
                Err(u) => self.undecodable(env, u).await,
            }
        }
    }

    async fn start(&mut self, env: u64, lane: Lane, request: SubmitRequest) {
        let id = request.message_id;
        if let Some(p) = self.by_id.get(&id).and_then(|t| self.pending.get_mut(t)) {
            self.settle.count("redelivered");
            tracing::debug!(message_id = %id, "a copy of a message in flight; settled with it");
            p.envelopes.push(env);
            return;
        }
        if !self.settle.claim(id) {
            self.settle.count("already_decided");
            tracing::debug!(message_id = %id, "message decided before; done");
            return self.envelopes.done(env, None, &mut self.tasks);
        }
        self.settle.count("delivered");
        let Some(work) = self.work.clone() else {
            return self.envelopes.done(env, Some(request), &mut self.tasks);
        };
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let done = Completion::new(ticket, self.limits, self.settled_tx.clone());
        let pending = Pending {
            id,
            lane,
            request: request.clone(),
            envelopes: vec![env],
        };
        self.pending.insert(ticket, pending);
        self.by_id.insert(id, ticket);
        let item = Work {
            request,
            done: Some(done),
        };
        if work.send(item).await.is_err()
            && let Some(p) = self.forget(ticket)
        {
            for e in p.envelopes {
                self.envelopes
                    .done(e, Some(p.request.clone()), &mut self.tasks);
            }
        }
    }

    /// An element that is not a valid submit request: rejected with a status event when its
    /// id is readable, else logged and dropped — it can never succeed. When the event cannot
    /// be published (the engine is stopping) the envelope is left unsettled for the broker to
    /// redeliver.
    async fn undecodable(&mut self, env: u64, u: Undecodable) {
        self.settle.count("undecodable");
        let reason = u.error.to_string();
        let id = serde_json::from_slice::<serde_json::Value>(&u.json)
            .ok()
            .and_then(|v| v.get("message_id")?.as_str()?.parse::<Uuid>().ok());
        match id {
            Some(id) if self.settle.claim(id) => {
                tracing::warn!(message_id = %id, %reason, "invalid submit request rejected");
                if !self.settle.fail(id, DeliveryState::Rejected, reason).await {
                    self.envelopes.keep_unsettled(env);
                }
            }
            Some(_) => {}
            None => {
                tracing::error!(%reason, "submit request without a readable message_id dropped");
            }
        }
        self.envelopes.done(env, None, &mut self.tasks);
    }

    fn forget(&mut self, ticket: u64) -> Option<Pending> {
        let p = self.pending.remove(&ticket)?;
        self.by_id.remove(&p.id);
        Some(p)
    }

    /// A message's outcome is known: its envelopes learn it, or it is deferred first.
    fn settled(&mut self, s: Settled) {
        let Some(p) = self.forget(s.ticket) else {
            return;
        };
        match s.outcome {
            Outcome::Decided => {
                for e in p.envelopes {
                    self.envelopes.done(e, None, &mut self.tasks);
                }
            }
            Outcome::Unpublished => {
                for e in &p.envelopes {
                    self.envelopes
                        .done(*e, Some(p.request.clone()), &mut self.tasks);
                }
            }
            Outcome::Defer(reason) => {
                let link = Arc::clone(&self.link);
                let settle = Arc::clone(&self.settle);
                self.tasks
                    .spawn(async move { defer(&link, &*settle, p, reason).await });
            }
        }
    }

    fn task_done(&mut self, done: TaskDone) {
        if let TaskDone::Deferred {
            envelopes,
            undecided,
        } = done
        {
            for e in envelopes {
                let undecided = undecided.as_deref().cloned();
                self.envelopes.done(e, undecided, &mut self.tasks);
            }
        }
    }
}

/// The next envelope of either subscription, priority first unless `prefer_normal`.
async fn next(
    priority: &mut Subscription<SubmitRequest>,
    normal: &mut Subscription<SubmitRequest>,
    prefer_normal: bool,
) -> (Lane, Option<Delivery<SubmitRequest>>) {
    poll_fn(|cx| {
        let order = if prefer_normal {
            [Lane::Normal, Lane::Priority]
        } else {
            [Lane::Priority, Lane::Normal]
        };
        for lane in order {
            let sub = match lane {
                Lane::Priority => &mut *priority,
                Lane::Normal => &mut *normal,
            };
            if let Poll::Ready(item) = sub.poll_recv(cx) {
                return Poll::Ready((lane, item));
            }
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefetch_follows_the_windows_unless_configured() {
        let mut c = AmqpConfig::default();
        assert_eq!(prefetch(&c, 4 * 64), 512);
        assert_eq!(prefetch(&c, 0), 1, "never 0 (no limit)");
        assert_eq!(prefetch(&c, 1_000_000), u16::MAX);
        c.prefetch = 7;
        assert_eq!(prefetch(&c, 4 * 64), 7);
    }
}
