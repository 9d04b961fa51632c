//! The window: requests written (or queued to write) on one connection, keyed by sequence
//! number, each holding a slot of the session's window semaphore until it is resolved. Every
//! entry is resolved exactly once: by its response, by its timeout, or when the connection
//! ends.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};

use tokio::{
    sync::{OwnedSemaphorePermit, oneshot},
    time::Instant,
};

use super::{
    counters::Counters,
    error::{AmbiguousReason, NotSentReason, SubmitError},
};

/// The answer to a submit: the `submit_sm_resp` (or `generic_nack`) status and message id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitOutcome {
    /// `command_status` (0 = accepted; e.g. 0x58 throttled, 0x14 queue full, 0x0B bad
    /// destination — SMPP 3.4 §5.1.3). The caller decides what a refusal means.
    pub command_status: u32,
    /// The SMSC's message id; `None` when the status is non-zero (§4.4.2) or the SMSC sent
    /// `generic_nack`.
    pub message_id: Option<String>,
    /// The answer's body when the request was a `query_sm`.
    pub query: Option<QueryAnswer>,
}

/// What a `query_sm_resp` says (SMPP 3.4 §4.8.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAnswer {
    /// `message_state` (§5.2.28): 1 ENROUTE, 2 DELIVERED, 3 EXPIRED, 4 DELETED,
    /// 5 UNDELIVERABLE, 6 ACCEPTED, 7 UNKNOWN, 8 REJECTED.
    pub message_state: u8,
    /// `final_date` (absolute time, §7.1.1), empty while not final.
    pub final_date: String,
    /// `error_code`: the network error, 0 if none.
    pub error_code: u8,
}

impl SubmitOutcome {
    /// True for `ESME_ROK`.
    pub fn is_ok(&self) -> bool {
        self.command_status == 0
    }
}

/// What a submit resolves to.
pub type SubmitResult = Result<SubmitOutcome, SubmitError>;

/// One slot of the window. Releases its permit and the occupancy gauge when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
    counters: Arc<Counters>,
}

impl Slot {
    pub(crate) fn new(permit: OwnedSemaphorePermit, counters: Arc<Counters>) -> Slot {
        Counters::inc(&counters.window);
        Slot {
            _permit: permit,
            counters,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.counters
            .window
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A submit waiting for its response.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) reply: oneshot::Sender<SubmitResult>,
    pub(crate) _slot: Slot,
    /// Bytes written on this connection once this PDU is fully out.
    pub(crate) end_offset: u64,
    pub(crate) deadline: Instant,
}

/// Outstanding submits of one connection.
#[derive(Debug, Default)]
pub(crate) struct Window {
    map: HashMap<u32, Pending>,
    /// Deadlines in insertion order (they only grow, the timeout being fixed); answered
    /// entries are skipped lazily.
    deadlines: VecDeque<(Instant, u32)>,
}

impl Window {
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn contains(&self, seq: u32) -> bool {
        self.map.contains_key(&seq)
    }

    pub(crate) fn insert(&mut self, seq: u32, pending: Pending) {
        self.deadlines.push_back((pending.deadline, seq));
        self.map.insert(seq, pending);
    }

    /// Resolves `seq` with its response; false when it is not (or no longer) outstanding.
    pub(crate) fn resolve(&mut self, seq: u32, outcome: SubmitOutcome) -> bool {
        match self.map.remove(&seq) {
            Some(p) => {
                // The submitter may have given up waiting; nothing to do then.
                let _ = p.reply.send(Ok(outcome));
                true
            }
            None => false,
        }
    }

    /// The earliest deadline still outstanding.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&(at, seq)) = self.deadlines.front() {
            match self.map.get(&seq) {
                Some(p) if p.deadline == at => return Some(at),
                _ => {
                    self.deadlines.pop_front();
                }
            }
        }
        None
    }

    /// Resolves every entry whose deadline has passed with an ambiguous timeout.
    pub(crate) fn expire(&mut self, now: Instant, counters: &Counters) {
        while let Some(at) = self.next_deadline() {
            if at > now {
                break;
            }
            if let Some((_, seq)) = self.deadlines.pop_front()
                && let Some(p) = self.map.remove(&seq)
            {
                Counters::inc(&counters.timeouts);
                let _ = p
                    .reply
                    .send(Err(SubmitError::Ambiguous(AmbiguousReason::Timeout)));
            }
        }
    }

    /// The connection ended: entries fully written (`end_offset <= flushed`) may have reached
    /// the SMSC (ambiguous); the rest never did (not sent).
    pub(crate) fn fail_all(&mut self, flushed: u64, counters: &Counters) {
        self.deadlines.clear();
        for (_, p) in self.map.drain() {
            let err = if p.end_offset <= flushed {
                Counters::inc(&counters.lost_after_write);
                SubmitError::Ambiguous(AmbiguousReason::ConnectionLost)
            } else {
                Counters::inc(&counters.not_sent);
                SubmitError::NotSent(NotSentReason::ConnectionLost)
            };
            let _ = p.reply.send(Err(err));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::Semaphore;

    use super::*;

    fn pending(
        sem: &Arc<Semaphore>,
        counters: &Arc<Counters>,
        end_offset: u64,
        deadline: Instant,
    ) -> (Pending, oneshot::Receiver<SubmitResult>) {
        let (reply, rx) = oneshot::channel();
        let slot = Slot::new(
            Arc::clone(sem).try_acquire_owned().unwrap(),
            Arc::clone(counters),
        );
        (
            Pending {
                reply,
                _slot: slot,
                end_offset,
                deadline,
            },
            rx,
        )
    }

    #[tokio::test]
    async fn every_entry_is_resolved_once_and_frees_its_slot() {
        let sem = Arc::new(Semaphore::new(4));
        let counters = Arc::new(Counters::default());
        let now = Instant::now();
        let mut w = Window::default();
        let (p1, r1) = pending(&sem, &counters, 10, now + Duration::from_secs(1));
        let (p2, r2) = pending(&sem, &counters, 20, now + Duration::from_secs(2));
        let (p3, r3) = pending(&sem, &counters, 30, now + Duration::from_secs(3));
        let (p4, r4) = pending(&sem, &counters, 40, now + Duration::from_secs(4));
        for (seq, p) in [(1, p1), (2, p2), (3, p3), (4, p4)] {
            w.insert(seq, p);
        }
        assert_eq!(sem.available_permits(), 0);
        assert_eq!(counters.snapshot().window, 4);
        let ok = SubmitOutcome {
            command_status: 0,
            message_id: Some("a".into()),
            query: None,
        };
        assert!(w.resolve(1, ok.clone()));
        assert!(!w.resolve(1, ok.clone()), "resolved once");
        assert_eq!(w.next_deadline(), Some(now + Duration::from_secs(2)));
        w.expire(now + Duration::from_millis(2500), &counters);
        // 3 was fully written, 4 was still in the write buffer.
        w.fail_all(35, &counters);
        assert_eq!(w.len(), 0);
        assert_eq!(r1.await.unwrap(), Ok(ok));
        let err = |e| Err(SubmitError::Ambiguous(e));
        assert_eq!(r2.await.unwrap(), err(AmbiguousReason::Timeout));
        assert_eq!(r3.await.unwrap(), err(AmbiguousReason::ConnectionLost));
        assert_eq!(
            r4.await.unwrap(),
            Err(SubmitError::NotSent(NotSentReason::ConnectionLost))
        );
        assert_eq!(sem.available_permits(), 4);
        let c = counters.snapshot();
        assert_eq!(
            (c.window, c.timeouts, c.lost_after_write, c.not_sent),
            (0, 1, 1, 1)
        );
    }
}
