//! Plain atomic counters per session, read by the engine's metrics module (which owns the
//! Prometheus names); this layer stays free of any metrics crate.

use std::{
    collections::BTreeMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};

/// Live counters of one session. Shared as `Arc<Counters>`.
#[derive(Debug, Default)]
pub struct Counters {
    pub(crate) submits: AtomicU64,
    pub(crate) responses: Mutex<BTreeMap<u32, u64>>,
    pub(crate) timeouts: AtomicU64,
    pub(crate) lost_after_write: AtomicU64,
    pub(crate) not_sent: AtomicU64,
    pub(crate) window: AtomicU64,
    pub(crate) bound: AtomicU64,
    pub(crate) binds: AtomicU64,
    pub(crate) bind_failures: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    pub(crate) delivers: AtomicU64,
    pub(crate) enquire_links_sent: AtomicU64,
    pub(crate) generic_nacks_sent: AtomicU64,
}

impl Counters {
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn response(&self, status: u32) {
        let mut map = self.responses.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(status).or_default() += 1;
    }

    /// A copy of the current values.
    pub fn snapshot(&self) -> CountersSnapshot {
        let get = |c: &AtomicU64| c.load(Relaxed);
        CountersSnapshot {
            submits: get(&self.submits),
            responses: self
                .responses
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            timeouts: get(&self.timeouts),
            lost_after_write: get(&self.lost_after_write),
            not_sent: get(&self.not_sent),
            window: get(&self.window),
            bound: get(&self.bound),
            binds: get(&self.binds),
            bind_failures: get(&self.bind_failures),
            reconnects: get(&self.reconnects),
            delivers: get(&self.delivers),
            enquire_links_sent: get(&self.enquire_links_sent),
            generic_nacks_sent: get(&self.generic_nacks_sent),
        }
    }
}

/// Counter values at one moment; [`add`](Self::add) sums sessions into a pool total.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountersSnapshot {
    /// `submit_sm` written.
    pub submits: u64,
    /// `submit_sm_resp` (and `generic_nack` answering a submit) by `command_status`.
    pub responses: BTreeMap<u32, u64>,
    /// Submits that got no response in time.
    pub timeouts: u64,
    /// Submits written but unanswered when the connection dropped.
    pub lost_after_write: u64,
    /// Submits refused before writing (bind down, shutting down, dropped before the write).
    pub not_sent: u64,
    /// Gauge: requests holding a window slot now (queued or awaiting a response).
    pub window: u64,
    /// Gauge: 1 when bound (a pool sum is the number of bound sessions).
    pub bound: u64,
    /// Successful binds.
    pub binds: u64,
    /// Failed bind attempts (connect errors, refusals, timeouts).
    pub bind_failures: u64,
    /// Bound connections lost (and so reconnected).
    pub reconnects: u64,
    /// `deliver_sm` received.
    pub delivers: u64,
    /// `enquire_link` sent.
    pub enquire_links_sent: u64,
    /// `generic_nack` sent for malformed PDUs.
    pub generic_nacks_sent: u64,
}

impl CountersSnapshot {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &CountersSnapshot) {
        for (status, n) in &other.responses {
            *self.responses.entry(*status).or_default() += n;
        }
        self.submits += other.submits;
        self.timeouts += other.timeouts;
        self.lost_after_write += other.lost_after_write;
        self.not_sent += other.not_sent;
        self.window += other.window;
        self.bound += other.bound;
        self.binds += other.binds;
        self.bind_failures += other.bind_failures;
        self.reconnects += other.reconnects;
        self.delivers += other.delivers;
        self.enquire_links_sent += other.enquire_links_sent;
        self.generic_nacks_sent += other.generic_nacks_sent;
    }

    /// All responses, whatever the status.
    pub fn responses_total(&self) -> u64 {
        self.responses.values().sum()
    }
}
