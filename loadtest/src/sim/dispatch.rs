//! The receipt scheduler: one task holding every receipt not yet due, handing each to the
//! [`Registry`] when its time comes. One task instead of a timer per receipt keeps the cost
//! flat with hundreds of thousands of receipts in flight.

use std::{sync::Arc, time::Duration};

use bytes::BytesMut;
use tokio::{sync::mpsc, time::Instant};
use tokio_util::sync::CancellationToken;

use super::{
    delay::DelayHeap,
    messages::{Messages, Ticket},
    registry::{Kind, Registry},
};

/// A PDU to deliver to a receiver bind of `system_id` at `due`.
#[derive(Debug)]
pub struct Job {
    /// When to send it.
    pub due: Instant,
    /// Receiving system id (`None`: any receiver, for MO).
    pub system_id: Option<Arc<str>>,
    /// Encoded `deliver_sm`, sequence number patched by the session.
    pub pdu: BytesMut,
    /// What it is, for the counters.
    pub kind: Kind,
    /// The message and version a receipt was scheduled for: not sent if the message was
    /// cancelled or replaced meanwhile.
    pub ticket: Option<Ticket>,
}

/// Runs until `cancel` fires or every sender is gone.
pub async fn run(
    mut rx: mpsc::UnboundedReceiver<Job>,
    registry: Arc<Registry>,
    messages: Arc<Messages>,
    cancel: CancellationToken,
) {
    let mut heap = DelayHeap::<Job>::default();
    loop {
        let next = heap
            .next_due()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            _ = cancel.cancelled() => return,
            job = rx.recv() => match job {
                Some(job) => {
                    heap.push(job.due, job);
                    // Take whatever else is queued without going back through select.
                    while let Ok(job) = rx.try_recv() {
                        heap.push(job.due, job);
                    }
                }
                None => return,
            },
            _ = tokio::time::sleep_until(next) => {}
        }
        let now = Instant::now();
        while let Some(job) = heap.pop_due(now) {
            if let Some((id, version)) = &job.ticket
                && !messages.current(id, *version)
            {
                continue;
            }
            registry.route(job.system_id.as_deref(), job.pdu, job.kind);
        }
    }
}
