//! Correlation of responses and receipts across every connection of a run: which accepted
//! messages reached a final state, which receipts were duplicates, and the latencies.
//! Readers collect a batch of events locally and apply it under one lock.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};

use hdrhistogram::Histogram;

/// Final receipt states, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Final {
    /// `DELIVRD`.
    Delivered,
    /// `UNDELIV`, `REJECTD`, `DELETED`, `UNKNOWN`.
    Failed,
    /// `EXPIRED`.
    Expired,
}

impl Final {
    /// Classifies a `stat:` word; `None` for intermediate states (ENROUTE, ACCEPTD, BUFFRED).
    pub fn from_stat(stat: &[u8]) -> Option<Final> {
        match stat {
            b"DELIVRD" => Some(Final::Delivered),
            b"EXPIRED" => Some(Final::Expired),
            b"ENROUTE" | b"ACCEPTD" | b"BUFFRED" => None,
            _ => Some(Final::Failed),
        }
    }
}

/// One observation from a reader.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// `submit_sm_resp` ESME_ROK with this (canonical) id at `at_us`.
    Accepted { id: u64, at_us: u64 },
    /// A receipt for `id` at `at_us`; `state` is `None` for an intermediate one.
    Receipt {
        id: u64,
        state: Option<Final>,
        at_us: u64,
    },
}

#[derive(Debug, Default, Clone, Copy)]
struct Entry {
    accepted_us: Option<u64>,
    final_state: Option<Final>,
    final_us: u64,
}

#[derive(Debug)]
struct Inner {
    entries: HashMap<u64, Entry>,
    final_latency: Histogram<u64>,
    delivered: u64,
    failed: u64,
    expired: u64,
    duplicate_receipts: u64,
    intermediate_receipts: u64,
    terminal: u64,
}

/// Shared correlation state.
#[derive(Debug)]
pub struct Tracker {
    inner: Mutex<Inner>,
    /// Messages accepted (ESME_ROK).
    pub accepted: AtomicU64,
}

/// Latency histogram in microseconds, 1 µs .. 1 h, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

/// Totals at the end of a run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `DELIVRD` receipts (first final per message).
    pub delivered: u64,
    /// Failed final receipts.
    pub failed: u64,
    /// `EXPIRED` receipts.
    pub expired: u64,
    /// Final receipts received again for a message that already had one.
    pub duplicate_receipts: u64,
    /// ENROUTE/ACCEPTD receipts.
    pub intermediate_receipts: u64,
    /// Accepted but never given a final receipt.
    pub lost: u64,
    /// Receipts whose id never showed up in a response.
    pub unmatched_receipts: u64,
    /// Accept → final receipt latency (µs).
    pub final_latency: Histogram<u64>,
}

impl Default for Tracker {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                final_latency: histogram(),
                delivered: 0,
                failed: 0,
                expired: 0,
                duplicate_receipts: 0,
                intermediate_receipts: 0,
                terminal: 0,
            }),
            accepted: AtomicU64::new(0),
        }
    }
}

impl Tracker {
    /// Applies a reader's batch.
    pub fn apply(&self, events: &mut Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for ev in events.drain(..) {
            match ev {
                Event::Accepted { id, at_us } => {
                    self.accepted.fetch_add(1, Relaxed);
                    let e = g.entries.entry(id).or_default();
                    e.accepted_us = Some(at_us);
                    // A receipt that came before its response: latency counts from acceptance.
                    if e.final_state.is_some() {
                        let lat = e.final_us.saturating_sub(at_us).max(1);
                        g.final_latency.saturating_record(lat);
                    }
                }
                Event::Receipt { id, state, at_us } => {
                    let Some(state) = state else {
                        g.intermediate_receipts += 1;
                        continue;
                    };
                    let e = g.entries.entry(id).or_default();
                    if e.final_state.is_some() {
                        g.duplicate_receipts += 1;
                        continue;
                    }
                    e.final_state = Some(state);
                    e.final_us = at_us;
                    let accepted = e.accepted_us;
                    if let Some(acc) = accepted {
                        g.final_latency
                            .saturating_record(at_us.saturating_sub(acc).max(1));
                    }
                    g.terminal += 1;
                    match state {
                        Final::Delivered => g.delivered += 1,
                        Final::Failed => g.failed += 1,
                        Final::Expired => g.expired += 1,
                    }
                }
            }
        }
    }

    /// Accepted messages with a final receipt so far.
    pub fn terminal_accepted(&self) -> u64 {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.entries
            .values()
            .filter(|e| e.accepted_us.is_some() && e.final_state.is_some())
            .count() as u64
    }

    /// Final receipts so far (cheap, for progress lines).
    pub fn terminal(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .terminal
    }

    /// Totals.
    pub fn outcome(&self) -> Outcome {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let lost = g
            .entries
            .values()
            .filter(|e| e.accepted_us.is_some() && e.final_state.is_none())
            .count() as u64;
        let unmatched = g
            .entries
            .values()
            .filter(|e| e.accepted_us.is_none() && e.final_state.is_some())
            .count() as u64;
        Outcome {
            delivered: g.delivered,
            failed: g.failed,
            expired: g.expired,
            duplicate_receipts: g.duplicate_receipts,
            intermediate_receipts: g.intermediate_receipts,
            lost,
            unmatched_receipts: unmatched,
            final_latency: g.final_latency.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlates_early_duplicate_and_lost() {
        let t = Tracker::default();
        let mut ev = vec![
            Event::Receipt {
                id: 1,
                state: Some(Final::Delivered),
                at_us: 50,
            },
            Event::Accepted { id: 1, at_us: 60 },
            Event::Accepted { id: 2, at_us: 70 },
            Event::Receipt {
                id: 2,
                state: None,
                at_us: 80,
            },
            Event::Receipt {
                id: 2,
                state: Some(Final::Expired),
                at_us: 90,
            },
            Event::Receipt {
                id: 2,
                state: Some(Final::Expired),
                at_us: 95,
            },
            Event::Accepted { id: 3, at_us: 100 },
        ];
        t.apply(&mut ev);
        let o = t.outcome();
        assert_eq!((o.delivered, o.expired, o.failed), (1, 1, 0));
        assert_eq!(o.duplicate_receipts, 1);
        assert_eq!(o.intermediate_receipts, 1);
        assert_eq!(o.lost, 1);
        assert_eq!(t.terminal_accepted(), 2);
        assert_eq!(Final::from_stat(b"UNDELIV"), Some(Final::Failed));
    }
}
