//! Counters: lock-free atomics for the per-PDU ones, and a mutex-guarded map for the grouped
//! ones (per MNO prefix, peak rate per route, duplicate keys) that sessions update once per
//! read batch rather than once per PDU.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};

use serde::Serialize;

/// `submit_sm_resp` statuses the simulator produces, in counter order.
pub const RESP_STATUSES: [(u32, &str); 6] = [
    (0x00, "ESME_ROK"),
    (0x58, "ESME_RTHROTTLED"),
    (0x14, "ESME_RMSGQFUL"),
    (0x08, "ESME_RSYSERR"),
    (0x0B, "ESME_RINVDSTADR"),
    (0x04, "ESME_RINVBNDSTS"),
];

/// Receipt `stat:` words, in counter order.
pub const RECEIPT_STATS: [&str; 6] = [
    "DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "ENROUTE", "ACCEPTD",
];

/// Past this many remembered keys duplicate detection stops growing (about 0.5 GiB).
const MAX_DUP_KEYS: usize = 20_000_000;

/// All counters. Cheap to share (`Arc<Stats>`).
#[derive(Debug, Default)]
pub struct Stats {
    /// Binds currently open.
    pub binds_current: AtomicU64,
    /// Successful binds: transmitter, receiver, transceiver.
    pub binds_total: [AtomicU64; 3],
    /// Binds refused (bad credentials, too many binds, already bound).
    pub binds_rejected: AtomicU64,
    /// `submit_sm` received.
    pub submits: AtomicU64,
    /// `submit_sm_resp` sent, by [`RESP_STATUSES`] index.
    pub responses: [AtomicU64; 6],
    /// `submit_sm` deliberately left unanswered (silent mode).
    pub unanswered: AtomicU64,
    /// Receipts sent, by [`RECEIPT_STATS`] index.
    pub receipts: [AtomicU64; 6],
    /// Extra copies of final receipts sent on purpose.
    pub receipt_duplicates_sent: AtomicU64,
    /// Final receipts sent before their `submit_sm_resp`.
    pub receipts_before_resp: AtomicU64,
    /// Receipts waiting for a receiver bind of their system id.
    pub receipts_parked: AtomicU64,
    /// Mobile-originated messages delivered.
    pub mo_sent: AtomicU64,
    /// `deliver_sm_resp` received.
    pub deliver_sm_resp_received: AtomicU64,
    /// `deliver_sm` sent again because the first copy was not acknowledged (session closed
    /// without `deliver_sm_resp`, or an error status in it).
    pub deliver_sm_redelivered: AtomicU64,
    /// `submit_sm` seen before with the same duplicate key.
    pub duplicates_received: AtomicU64,
    /// Malformed or unknown PDUs received.
    pub malformed_received: AtomicU64,
    /// `generic_nack` sent.
    pub generic_nacks_sent: AtomicU64,
    /// `enquire_link` received.
    pub enquire_links: AtomicU64,
    /// `unbind` received from clients.
    pub unbinds_received: AtomicU64,
    /// Connections the simulator dropped on purpose.
    pub disconnects_forced: AtomicU64,
    /// `query_sm` received.
    pub queries: AtomicU64,
    /// `cancel_sm` received.
    pub cancels: AtomicU64,
    /// `replace_sm` received.
    pub replaces: AtomicU64,
    /// Messages accepted on the HTTP API.
    pub http_submits: AtomicU64,
    /// `getdlr/` requests.
    pub http_dlr_queries: AtomicU64,
    /// Delivery reports pushed to `http_api.dlr_callback_url` and answered 200.
    pub http_dlr_pushed: AtomicU64,
    grouped: Mutex<Grouped>,
}

#[derive(Debug, Default)]
struct Grouped {
    per_mno: HashMap<String, u64>,
    per_source_type: HashMap<(u8, u8), u64>,
    peaks: HashMap<String, Window>,
    dup_keys: HashSet<u64>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Window {
    second: u64,
    count: u64,
    max: u64,
}

impl Window {
    fn add(&mut self, second: u64, n: u64) {
        if second != self.second {
            self.max = self.max.max(self.count);
            self.second = second;
            self.count = 0;
        }
        self.count += n;
    }
}

/// What one read batch of one session adds to the grouped counters.
#[derive(Debug, Default)]
pub struct Batch {
    /// `submit_sm` count per MNO prefix in this batch.
    pub mno: Vec<(Box<str>, u64)>,
    /// `submit_sm` count of this bind in this batch.
    pub bind_submits: u64,
    /// Duplicate keys of this batch.
    pub dup_keys: Vec<u64>,
    /// `submit_sm` count per `source_addr_ton` / `_npi` in this batch.
    pub source_types: Vec<((u8, u8), u64)>,
}

impl Batch {
    /// Counts one `submit_sm` to `prefix`.
    pub fn count_mno(&mut self, prefix: &str) {
        self.bind_submits += 1;
        match self.mno.iter_mut().find(|(p, _)| &**p == prefix) {
            Some((_, n)) => *n += 1,
            None => self.mno.push((prefix.into(), 1)),
        }
    }

    /// Counts one `submit_sm` whose source address has `ton` / `npi`.
    pub fn count_source_type(&mut self, ton: u8, npi: u8) {
        match self.source_types.iter_mut().find(|(t, _)| *t == (ton, npi)) {
            Some((_, n)) => *n += 1,
            None => self.source_types.push(((ton, npi), 1)),
        }
    }

    fn is_empty(&self) -> bool {
        self.bind_submits == 0 && self.dup_keys.is_empty()
    }
}

impl Stats {
    /// Adds 1 to a counter.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// Merges a session's batch (one lock per batch) at wall-clock `second`.
    pub fn merge(&self, system_id: &str, second: u64, batch: &mut Batch) {
        if batch.is_empty() {
            return;
        }
        let mut g = self.grouped.lock().unwrap_or_else(|e| e.into_inner());
        for (prefix, n) in batch.mno.drain(..) {
            *g.per_mno.entry(prefix.to_string()).or_default() += n;
            g.peaks
                .entry(format!("mno:{prefix}"))
                .or_default()
                .add(second, n);
        }
        for (types, n) in batch.source_types.drain(..) {
            *g.per_source_type.entry(types).or_default() += n;
        }
        if batch.bind_submits > 0 {
            g.peaks
                .entry(format!("bind:{system_id}"))
                .or_default()
                .add(second, batch.bind_submits);
        }
        let mut dups = 0;
        for key in batch.dup_keys.drain(..) {
            if g.dup_keys.contains(&key) {
                dups += 1;
            } else if g.dup_keys.len() < MAX_DUP_KEYS {
                g.dup_keys.insert(key);
            }
        }
        batch.bind_submits = 0;
        drop(g);
        self.duplicates_received.fetch_add(dups, Relaxed);
    }

    /// Zeroes the counters (`POST /reset`). The gauges `binds_current` and `receipts_parked`
    /// describe live state and are kept.
    pub fn reset(&self) {
        let all = [
            &self.binds_rejected,
            &self.submits,
            &self.unanswered,
            &self.receipt_duplicates_sent,
            &self.receipts_before_resp,
            &self.mo_sent,
            &self.deliver_sm_resp_received,
            &self.deliver_sm_redelivered,
            &self.duplicates_received,
            &self.malformed_received,
            &self.generic_nacks_sent,
            &self.enquire_links,
            &self.unbinds_received,
            &self.disconnects_forced,
            &self.queries,
            &self.cancels,
            &self.replaces,
            &self.http_submits,
            &self.http_dlr_queries,
            &self.http_dlr_pushed,
        ];
        for c in all
            .into_iter()
            .chain(&self.binds_total)
            .chain(&self.responses)
            .chain(&self.receipts)
        {
            c.store(0, Relaxed);
        }
        *self.grouped.lock().unwrap_or_else(|e| e.into_inner()) = Grouped::default();
    }

    /// A consistent-enough copy for `/stats`, `/metrics` and tests.
    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |c: &AtomicU64| c.load(Relaxed);
        let g = self.grouped.lock().unwrap_or_else(|e| e.into_inner());
        StatsSnapshot {
            binds_current: get(&self.binds_current),
            binds_transmitter: get(&self.binds_total[0]),
            binds_receiver: get(&self.binds_total[1]),
            binds_transceiver: get(&self.binds_total[2]),
            binds_rejected: get(&self.binds_rejected),
            submits: get(&self.submits),
            responses: RESP_STATUSES
                .iter()
                .zip(&self.responses)
                .map(|((_, name), c)| (name.to_string(), get(c)))
                .collect(),
            throttled: get(&self.responses[1]),
            unanswered: get(&self.unanswered),
            receipts: RECEIPT_STATS
                .iter()
                .zip(&self.receipts)
                .map(|(name, c)| (name.to_string(), get(c)))
                .collect(),
            receipts_sent: self.receipts.iter().map(get).sum(),
            receipt_duplicates_sent: get(&self.receipt_duplicates_sent),
            receipts_before_resp: get(&self.receipts_before_resp),
            receipts_parked: get(&self.receipts_parked),
            mo_sent: get(&self.mo_sent),
            deliver_sm_resp_received: get(&self.deliver_sm_resp_received),
            deliver_sm_redelivered: get(&self.deliver_sm_redelivered),
            duplicates_received: get(&self.duplicates_received),
            malformed_received: get(&self.malformed_received),
            generic_nacks_sent: get(&self.generic_nacks_sent),
            enquire_links: get(&self.enquire_links),
            unbinds_received: get(&self.unbinds_received),
            disconnects_forced: get(&self.disconnects_forced),
            queries: get(&self.queries),
            cancels: get(&self.cancels),
            replaces: get(&self.replaces),
            http_submits: get(&self.http_submits),
            http_dlr_queries: get(&self.http_dlr_queries),
            http_dlr_pushed: get(&self.http_dlr_pushed),
            per_mno: g.per_mno.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            per_source_type: g
                .per_source_type
                .iter()
                .map(|((ton, npi), n)| (format!("{ton}/{npi}"), *n))
                .collect(),
            peak_tps: g
                .peaks
                .iter()
                .map(|(k, w)| (k.clone(), w.max.max(w.count)))
                .collect(),
        }
    }
}

/// A point-in-time copy of [`Stats`], as served on `/stats`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Binds open now.
    pub binds_current: u64,
    /// Transmitter binds accepted.
    pub binds_transmitter: u64,
    /// Receiver binds accepted.
    pub binds_receiver: u64,
    /// Transceiver binds accepted.
    pub binds_transceiver: u64,
    /// Binds refused.
    pub binds_rejected: u64,
    /// `submit_sm` received.
    pub submits: u64,
    /// `submit_sm_resp` sent by status name.
    pub responses: BTreeMap<String, u64>,
    /// `ESME_RTHROTTLED` answers.
    pub throttled: u64,
    /// `submit_sm` not answered (silent mode).
    pub unanswered: u64,
    /// Receipts sent by `stat:` word.
    pub receipts: BTreeMap<String, u64>,
    /// All receipts sent.
    pub receipts_sent: u64,
    /// Deliberate duplicate receipts.
    pub receipt_duplicates_sent: u64,
    /// Receipts sent before their response.
    pub receipts_before_resp: u64,
    /// Receipts waiting for a receiver bind.
    pub receipts_parked: u64,
    /// MO messages delivered.
    pub mo_sent: u64,
    /// `deliver_sm_resp` received.
    pub deliver_sm_resp_received: u64,
    /// `deliver_sm` sent again for want of a positive `deliver_sm_resp`.
    pub deliver_sm_redelivered: u64,
    /// Duplicate submissions seen.
    pub duplicates_received: u64,
    /// Malformed/unknown PDUs.
    pub malformed_received: u64,
    /// `generic_nack` sent.
    pub generic_nacks_sent: u64,
    /// `enquire_link` received.
    pub enquire_links: u64,
    /// `unbind` received.
    pub unbinds_received: u64,
    /// Forced disconnects.
    pub disconnects_forced: u64,
    /// `query_sm` received.
    pub queries: u64,
    /// `cancel_sm` received.
    pub cancels: u64,
    /// `replace_sm` received.
    pub replaces: u64,
    /// Messages accepted on the HTTP API.
    pub http_submits: u64,
    /// `getdlr/` requests.
    pub http_dlr_queries: u64,
    /// Delivery reports pushed to `http_api.dlr_callback_url` and answered 200.
    pub http_dlr_pushed: u64,
    /// `submit_sm` per destination prefix.
    pub per_mno: BTreeMap<String, u64>,
    /// `submit_sm` per source address type, `"<ton>/<npi>"` (`"5/0"` alphanumeric).
    pub per_source_type: BTreeMap<String, u64>,
    /// Highest `submit_sm` count in any one-second window, per `bind:<system_id>` and
    /// `mno:<prefix>`.
    pub peak_tps: BTreeMap<String, u64>,
}
