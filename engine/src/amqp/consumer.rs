//! Consuming `sms.priority` and `sms.normal`, and settling each delivery once its message's
//! fate is decided.
//!
//! * At most `prefetch` messages are in flight in the engine (default: twice the windows of
//!   all upstreams, the same bound as the segment permits); a new delivery is taken only when
//!   one of them is settled. Both queues are consumed on one channel; the normal consumer's
//!   prefetch is `prefetch`, the priority consumer's twice that, so that while the engine is
//!   full of priority work the next priority messages are already buffered when a slot frees
//!   up. Deliveries are taken from the priority consumer first; after [`PRIORITY_RUN`]
//!   priority deliveries in a row one waiting normal delivery goes next, so a flood of
//!   priority traffic slows normal traffic down but never stops it.
//! * Each delivery becomes [`Work`] with a [`Completion`]; the dispatcher's segment tasks
//!   report to it and the last report comes back here as a [`Settled`]:
//!   [`Outcome::Decided`] → ack; [`Outcome::Defer`] → republish with `attempt + 1` to the retry
//!   queue of the next delay (confirmed), then ack — or, after `max_attempts` deliveries, a
//!   `failed` status event, then ack; [`Outcome::Unpublished`] → nack with requeue.
//! * A message id already in flight (the broker redelivered it after a lost connection, or it
//!   was published twice) is not started again: the new delivery is settled together with the
//!   one in flight. A message the tracker already saw decided is acked at once.
//! * Nothing is taken while the engine is not ready (no bind up, store down); deliveries
//!   already buffered wait within the prefetch.
//! * The state of messages in flight survives reconnects: their deliveries' acks on the dead
//!   channel fail, and the broker's redeliveries attach to them.

use std::collections::HashMap;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures::StreamExt;
use lapin::Acker;
use lapin::message::Delivery;
use lapin::options::{BasicCancelOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{Connection, Event};
use semalink_protocol::contracts::{self, DeliveryState, SubmitRequest};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::Link;
use super::settle::{PipelineSettle, Settle, ack, requeue};
use crate::config::AmqpConfig;
use crate::correlation::CorrelationStore;
use crate::dispatch::{Completion, DeferLimits, Outcome, Pipeline, Settled, Work};
use crate::ingress::Readiness;
use crate::sink::StatusSink;

/// Priority deliveries taken in a row before a waiting normal one goes next.
pub const PRIORITY_RUN: u32 = 8;
/// How often readiness is looked at again while the engine is not ready.
const NOT_READY_POLL: Duration = Duration::from_millis(50);

/// Which submit queue a delivery came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    Priority,
    Normal,
}

/// Why a session ended.
#[derive(Debug)]
pub enum SessionEnd {
    /// The engine is stopping.
    Stopped,
    /// The connection or channel failed.
    Lost(String),
}

/// A message in flight: what is needed to ack, defer or fail it.
#[derive(Debug)]
struct Pending {
    id: Uuid,
    lane: Lane,
    request: SubmitRequest,
    ackers: Vec<Acker>,
}

/// The consumer's state, kept across connections.
pub struct Consumer {
    link: Arc<Link>,
    settle: Arc<dyn Settle>,
    ready: Readiness,
    /// The consuming channel of the current connection (acks go over it; dropping it would
    /// close it and requeue every unacknowledged delivery).
    channel: Option<lapin::Channel>,
    prefetch: u16,
    limits: DeferLimits,
    work: Option<mpsc::Sender<Work>>,
    settled_tx: mpsc::UnboundedSender<Settled>,
    settled_rx: mpsc::UnboundedReceiver<Settled>,
    pending: HashMap<u64, Pending>,
    by_id: HashMap<Uuid, u64>,
    next_ticket: u64,
    priority_run: u32,
    deferring: JoinSet<()>,
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
    /// deliveries only while `ready` says so.
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
        Consumer {
            link,
            settle: Arc::new(PipelineSettle(pipeline)),
            ready,
            channel: None,
            prefetch,
            limits,
            work: Some(work),
            settled_tx,
            settled_rx,
            pending: HashMap::new(),
            by_id: HashMap::new(),
            next_ticket: 0,
            priority_run: 0,
            deferring: JoinSet::new(),
        }
    }

    /// Consumes on `conn` until it fails ([`SessionEnd::Lost`]) or `cancel` is cancelled
    /// ([`SessionEnd::Stopped`]: the consumers are cancelled, the dispatcher's queue closed).
    pub async fn session(&mut self, conn: &Connection, cancel: &CancellationToken) -> SessionEnd {
        let lost = |what: &str, e: lapin::Error| SessionEnd::Lost(format!("{what}: {e}"));
        self.channel = None;
        let channel = match conn.create_channel().await {
            Ok(c) => c,
            Err(e) => return lost("channel", e),
        };
        let topology = self.link.topology();
        let mut streams = Vec::new();
        // The priority consumer first, so it is not behind a full normal prefetch at start.
        let queues = [
            (&topology.priority, self.prefetch.saturating_mul(2)),
            (&topology.normal, self.prefetch),
        ];
        for (queue, prefetch) in queues {
            // Applies to the consumers created after it on this channel.
            if let Err(e) = channel
                .basic_qos(prefetch, BasicQosOptions { global: false })
                .await
            {
                return lost("basic.qos", e);
            }
            match channel
                .basic_consume(
                    queue.as_str().into(),
                    "".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
            {
                Ok(c) => streams.push(c),
                Err(e) => return lost("basic.consume", e),
            }
        }
        let (Some(mut normal), Some(mut priority)) = (streams.pop(), streams.pop()) else {
            return SessionEnd::Lost("consumers missing".into());
        };
        self.channel = Some(channel.clone());
        let mut events = conn.events_listener();
        loop {
            let ready = self.work.is_some()
                && self.pending.len() < usize::from(self.prefetch)
                && (self.ready)();
            let prefer_normal = self.priority_run >= PRIORITY_RUN;
            tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    for c in [&priority, &normal] {
                        let _ = channel.basic_cancel(c.tag(), BasicCancelOptions::default()).await;
                    }
                    self.work = None;
                    return SessionEnd::Stopped;
                }
                Some(s) = self.settled_rx.recv() => self.settled(s).await,
                Some(_) = self.deferring.join_next(), if !self.deferring.is_empty() => {}
                Some(event) = events.next() => {
                    if let Event::Error(e) = event {
                        self.channel = None;
                        return lost("connection", e);
                    }
                }
                (lane, item) = next(&mut priority, &mut normal, prefer_normal), if ready => {
                    match item {
                        Some(Ok(delivery)) => self.delivered(lane, delivery).await,
                        Some(Err(e)) => {
                            self.channel = None;
                            return lost("consumer", e);
                        }
                        None => {
                            self.channel = None;
                            return SessionEnd::Lost("the broker cancelled a consumer".into());
                        }
                    }
                }
                _ = tokio::time::sleep(NOT_READY_POLL), if !ready => {}
            }
        }
    }

    /// Counts an `amqp_total` event.
    pub fn count(&self, event: &str) {
        self.settle.count(event);
    }

    /// After [`SessionEnd::Stopped`]: settles messages as their segments finish, until none
    /// is in flight or `stop` is cancelled; what is left unacknowledged is redelivered by the
    /// broker.
    pub async fn drain(&mut self, stop: &CancellationToken) {
        self.work = None;
        while !(self.pending.is_empty() && self.deferring.is_empty()) {
            tokio::select! {
                Some(s) = self.settled_rx.recv() => self.settled(s).await,
                Some(_) = self.deferring.join_next(), if !self.deferring.is_empty() => {}
                _ = stop.cancelled() => break,
            }
        }
        self.channel = None;
        if !self.pending.is_empty() {
            tracing::warn!(
                in_flight = self.pending.len(),
                "stopping with messages in flight; the broker redelivers them"
            );
        }
    }

    /// A new delivery: start it, attach it to the same message in flight, or ack it when its
    /// message was decided before.
    async fn delivered(&mut self, lane: Lane, delivery: Delivery) {
        match lane {
            Lane::Priority => self.priority_run += 1,
            Lane::Normal => self.priority_run = 0,
        }
        let request = match contracts::decode_submit(&delivery.data) {
            Ok(r) => r,
            Err(e) => return self.undecodable(delivery, e.to_string()).await,
        };
        let id = request.message_id;
        if let Some(p) = self.by_id.get(&id).and_then(|t| self.pending.get_mut(t)) {
            self.settle.count("redelivered");
            tracing::debug!(message_id = %id, "a copy of a message in flight; settled with it");
            p.ackers.push(delivery.acker);
            return;
        }
        if !self.settle.claim(id) {
            self.settle.count("already_decided");
            tracing::debug!(message_id = %id, "message decided before; acked");
            ack(&delivery.acker, &*self.settle).await;
            return;
        }
        self.settle.count("delivered");
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let done = Completion::new(ticket, self.limits, self.settled_tx.clone());
        let Some(work) = &self.work else {
            return requeue(&delivery.acker, &*self.settle).await;
        };
        self.pending.insert(
            ticket,
            Pending {
                id,
                lane,
                request: request.clone(),
                ackers: vec![delivery.acker],
            },
        );
        self.by_id.insert(id, ticket);
        let work = work.clone();
        if work
            .send(Work {
                request,
                done: Some(done),
            })
            .await
            .is_err()
            && let Some(p) = self.forget(ticket)
        {
            for a in &p.ackers {
                requeue(a, &*self.settle).await;
            }
        }
    }

    /// A body that is not a valid submit request: rejected with a status event when its id
    /// is readable (then acked), else logged and dropped — it can never succeed.
    async fn undecodable(&mut self, delivery: Delivery, reason: String) {
        self.settle.count("undecodable");
        let id = serde_json::from_slice::<serde_json::Value>(&delivery.data)
            .ok()
            .and_then(|v| v.get("message_id")?.as_str()?.parse::<Uuid>().ok());
        match id {
            Some(id) if self.settle.claim(id) => {
                tracing::warn!(message_id = %id, %reason, "invalid submit request rejected");
                if self.settle.fail(id, DeliveryState::Rejected, reason).await {
                    ack(&delivery.acker, &*self.settle).await;
                } else {
                    requeue(&delivery.acker, &*self.settle).await;
                }
            }
            Some(_) => ack(&delivery.acker, &*self.settle).await,
            None => {
                tracing::error!(%reason, "submit request without a readable message_id dropped");
                ack(&delivery.acker, &*self.settle).await;
            }
        }
    }

    fn forget(&mut self, ticket: u64) -> Option<Pending> {
        let p = self.pending.remove(&ticket)?;
        self.by_id.remove(&p.id);
        Some(p)
    }

    /// A message's outcome is known: ack, defer or requeue its deliveries.
    async fn settled(&mut self, s: Settled) {
        let Some(p) = self.forget(s.ticket) else {
            return;
        };
        match s.outcome {
            Outcome::Decided => {
                for a in &p.ackers {
                    ack(a, &*self.settle).await;
                }
            }
            Outcome::Unpublished => {
                for a in &p.ackers {
                    requeue(a, &*self.settle).await;
                }
            }
            Outcome::Defer(reason) => {
                let link = Arc::clone(&self.link);
                let settle = Arc::clone(&self.settle);
                self.deferring
                    .spawn(async move { defer(&link, &*settle, p, reason).await });
            }
        }
    }
}

/// Sends a deferred message to the retry queue of its next delay, or fails it after the last
/// attempt; acks its deliveries once that is confirmed, else requeues them.
async fn defer(link: &Link, settle: &dyn Settle, p: Pending, reason: String) {
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
        let retry_queue = AmqpConfig::retry_queue(queue, delay);
        let mut request = p.request;
        request.attempt = tries;
        tracing::debug!(message_id = %p.id, tries, ?delay, %reason, "deferred to the retry queue");
        match contracts::encode(&request) {
            Ok(body) => {
                let id = p.id.to_string();
                let ok = link.publisher().publish(&retry_queue, &body, &id).await;
                settle.count("deferred");
                ok.is_ok()
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a deferred request");
                false
            }
        }
    };
    for a in &p.ackers {
        if done {
            ack(a, settle).await;
        } else {
            requeue(a, settle).await;
        }
    }
}

/// The next delivery of either consumer, priority first unless `prefer_normal`.
async fn next(
    priority: &mut lapin::Consumer,
    normal: &mut lapin::Consumer,
    prefer_normal: bool,
) -> (Lane, Option<lapin::Result<Delivery>>) {
    poll_fn(|cx| {
        let order = if prefer_normal {
            [Lane::Normal, Lane::Priority]
        } else {
            [Lane::Priority, Lane::Normal]
        };
        for lane in order {
            let stream = match lane {
                Lane::Priority => &mut *priority,
                Lane::Normal => &mut *normal,
            };
            if let Poll::Ready(item) = stream.poll_next_unpin(cx) {
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
