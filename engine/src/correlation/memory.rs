//! The in-process [`CorrelationStore`]: sharded maps with TTL expiry.
//!
//! Every mapping has the same TTL, so insertion order is expiry order: each shard keeps a
//! queue of `(expiry, key)` and a sweep pops only what is due (O(expired), not O(size)). A
//! re-inserted key leaves a stale queue entry that the sweep recognises (the map's expiry is
//! later) and skips. Parked receipts work the same way with their own TTL, and so do the
//! per-message records (accepted segments, receipt outcomes, final claim), which live the
//! mapping TTL from their last change.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use semalink_protocol::dlr::Receipt;
use uuid::Uuid;

use super::{
    CorrelationKey, CorrelationStore, PriorSubmit, ReceiptMatch, SegmentKey, Settled, Settlement,
    StoreStats, Unmatched,
};
use crate::config::CorrelationConfig;
use crate::error::Result;
use crate::shard::{Map, Shards};

#[derive(Debug)]
struct Mapping {
    target: SegmentKey,
    expires: Instant,
}

#[derive(Debug, Default)]
struct Shard {
    map: Map<CorrelationKey, Mapping>,
    parked: Map<CorrelationKey, Vec<(Instant, Receipt)>>,
    expiry: VecDeque<(Instant, CorrelationKey)>,
    parked_order: VecDeque<(Instant, CorrelationKey)>,
    parked_count: usize,
}

/// What the store knows of one message.
#[derive(Debug)]
struct Message {
    begun: bool,
    accepted: Vec<(u16, String)>,
    /// Final receipt outcome per segment: `true` delivered.
    settled: Vec<(u16, bool)>,
    final_claimed: bool,
    expires: Instant,
}

#[derive(Debug, Default)]
struct MessageShard {
    map: Map<Uuid, Message>,
    expiry: VecDeque<(Instant, Uuid)>,
}

/// The in-process correlation store.
#[derive(Debug)]
pub struct MemoryStore {
    shards: Shards<Shard>,
    messages: Shards<MessageShard>,
    pinned: Mutex<HashMap<Uuid, u32>>,
    ttl: Duration,
    parked_ttl: Duration,
    unmatched: AtomicU64,
}

impl MemoryStore {
    /// A store whose mappings live `ttl` and whose parked receipts wait `parked_ttl`.
    pub fn new(ttl: Duration, parked_ttl: Duration) -> MemoryStore {
        MemoryStore {
            shards: Shards::new(),
            messages: Shards::new(),
            pinned: Mutex::new(HashMap::new()),
            ttl,
            parked_ttl,
            unmatched: AtomicU64::new(0),
        }
    }

    /// A store with the configured TTLs.
    pub fn from_config(c: &CorrelationConfig) -> MemoryStore {
        MemoryStore::new(
            Duration::from_secs(c.ttl_secs),
            Duration::from_secs(c.parked_ttl_secs),
        )
    }

    /// [`CorrelationStore::insert`] at `now`.
    pub fn insert_at(&self, key: CorrelationKey, target: SegmentKey, now: Instant) -> Vec<Receipt> {
        let expires = now + self.ttl;
        let smsc_id = key.id.to_string();
        self.message(target.message_id, now, |m| {
            match m.accepted.iter_mut().find(|(s, _)| *s == target.segment) {
                Some(slot) => slot.1 = smsc_id,
                None => m.accepted.push((target.segment, smsc_id)),
            }
        });
        let mut shard = self.shards.lock(&key);
        let parked = shard.parked.remove(&key).unwrap_or_default();
        shard.parked_count -= parked.len();
        shard.expiry.push_back((expires, key.clone()));
        shard.map.insert(key, Mapping { target, expires });
        parked.into_iter().map(|(_, r)| r).collect()
    }

    /// [`CorrelationStore::lookup`].
    pub fn get(&self, key: &CorrelationKey) -> Option<SegmentKey> {
        self.shards.lock(key).map.get(key).map(|m| m.target)
    }

    /// [`CorrelationStore::park_receipt`] at `now`.
    pub fn park_at(&self, key: CorrelationKey, receipt: Receipt, now: Instant) -> ReceiptMatch {
        let mut shard = self.shards.lock(&key);
        if let Some(m) = shard.map.get(&key) {
            return ReceiptMatch::Matched {
                target: m.target,
                receipt,
            };
        }
        shard.parked_count += 1;
        shard.parked_order.push_back((now, key.clone()));
        shard.parked.entry(key).or_default().push((now, receipt));
        ReceiptMatch::Parked
    }

    /// [`CorrelationStore::sweep`] at `now`.
    pub fn sweep_at(&self, now: Instant) -> Vec<Unmatched> {
        let mut unmatched = Vec::new();
        let pinned = self
            .pinned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for mut guard in self.shards.each() {
            let shard = &mut *guard;
            while let Some((expires, _)) = shard.expiry.front() {
                if *expires > now {
                    break;
                }
                let (_, key) = shard.expiry.pop_front().expect("front exists");
                let Some(m) = shard.map.get_mut(&key) else {
                    continue;
                };
                if m.expires > now {
                    continue; // re-inserted later; its newer queue entry decides
                }
                if pinned.contains_key(&m.target.message_id) {
                    m.expires = now + self.ttl;
                    shard.expiry.push_back((m.expires, key));
                } else {
                    shard.map.remove(&key);
                }
            }
            while let Some((parked_at, _)) = shard.parked_order.front() {
                if *parked_at + self.parked_ttl > now {
                    break;
                }
                let (_, key) = shard.parked_order.pop_front().expect("front exists");
                let Some(list) = shard.parked.get_mut(&key) else {
                    continue;
                };
                let before = list.len();
                let mut kept = Vec::new();
                for (at, receipt) in list.drain(..) {
                    if at + self.parked_ttl <= now {
                        unmatched.push(Unmatched {
                            key: key.clone(),
                            receipt,
                        });
                    } else {
                        kept.push((at, receipt));
                    }
                }
                shard.parked_count -= before - kept.len();
                if kept.is_empty() {
                    shard.parked.remove(&key);
                } else {
                    *list = kept;
                }
            }
        }
        self.sweep_messages(now, &pinned);
        self.unmatched
            .fetch_add(unmatched.len() as u64, Ordering::Relaxed);
        unmatched
    }

    fn sweep_messages(&self, now: Instant, pinned: &HashMap<Uuid, u32>) {
        for mut guard in self.messages.each() {
            let shard = &mut *guard;
            while let Some((expires, _)) = shard.expiry.front() {
                if *expires > now {
                    break;
                }
                let (_, id) = shard.expiry.pop_front().expect("front exists");
                let Some(m) = shard.map.get_mut(&id) else {
                    continue;
                };
                if m.expires > now {
                    continue; // touched later; its newer queue entry decides
                }
                if pinned.contains_key(&id) {
                    m.expires = now + self.ttl;
                    shard.expiry.push_back((m.expires, id));
                } else {
                    shard.map.remove(&id);
                }
            }
        }
    }

    /// Runs `f` on the record of `id` (created if absent) and keeps it for the TTL from `now`.
    fn message<R>(&self, id: Uuid, now: Instant, f: impl FnOnce(&mut Message) -> R) -> R {
        let expires = now + self.ttl;
        let mut shard = self.messages.lock(&id);
        let shard = &mut *shard;
        shard.expiry.push_back((expires, id));
        let m = shard.map.entry(id).or_insert_with(|| Message {
            begun: false,
            accepted: Vec::new(),
            settled: Vec::new(),
            final_claimed: false,
            expires,
        });
        m.expires = expires;
        f(m)
    }

    /// Current sizes.
    pub fn sizes(&self) -> StoreStats {
        let mut stats = StoreStats {
            unmatched_total: self.unmatched.load(Ordering::Relaxed),
            ..StoreStats::default()
        };
        for shard in self.shards.each() {
            stats.mappings += shard.map.len();
            stats.parked += shard.parked_count;
        }
        stats
    }

    fn pins(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, u32>> {
        self.pinned.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl CorrelationStore for MemoryStore {
    async fn insert(&self, key: CorrelationKey, target: SegmentKey) -> Result<Vec<Receipt>> {
        Ok(self.insert_at(key, target, Instant::now()))
    }

    async fn lookup(&self, key: &CorrelationKey) -> Result<Option<SegmentKey>> {
        Ok(self.get(key))
    }

    async fn park_receipt(&self, key: CorrelationKey, receipt: Receipt) -> Result<ReceiptMatch> {
        Ok(self.park_at(key, receipt, Instant::now()))
    }

    async fn remove(&self, key: &CorrelationKey) -> Result<()> {
        self.shards.lock(key).map.remove(key);
        Ok(())
    }

    async fn pin(&self, message_id: Uuid) -> Result<()> {
        *self.pins().entry(message_id).or_insert(0) += 1;
        Ok(())
    }

    async fn unpin(&self, message_id: Uuid) -> Result<()> {
        let mut pins = self.pins();
        if let Some(n) = pins.get_mut(&message_id) {
            *n -= 1;
            if *n == 0 {
                pins.remove(&message_id);
            }
        }
        Ok(())
    }

    async fn sweep(&self) -> Result<Vec<Unmatched>> {
        Ok(self.sweep_at(Instant::now()))
    }

    async fn stats(&self) -> Result<StoreStats> {
        Ok(self.sizes())
    }

    async fn begin_message(&self, message_id: Uuid) -> Result<PriorSubmit> {
        Ok(self.message(message_id, Instant::now(), |m| {
            let mut accepted = m.accepted.clone();
            accepted.sort_unstable();
            let prior = PriorSubmit {
                seen: m.begun,
                accepted,
            };
            m.begun = true;
            prior
        }))
    }

    async fn settle(&self, target: SegmentKey, delivered: bool) -> Result<Settlement> {
        Ok(self.message(target.message_id, Instant::now(), |m| {
            if !m.settled.iter().any(|(s, _)| *s == target.segment) {
                m.settled.push((target.segment, delivered));
            }
            let verdict = settled(&m.settled, target.segments);
            let claimed =
                verdict != Settled::Pending && !std::mem::replace(&mut m.final_claimed, true);
            Settlement { verdict, claimed }
        }))
    }

    async fn claim_final(&self, message_id: Uuid) -> Result<bool> {
        Ok(self.message(message_id, Instant::now(), |m| {
            !std::mem::replace(&mut m.final_claimed, true)
        }))
    }

    // One process holds every claim: a claimant that dies takes the store with it, so a
    // claim needs no lease and a claimed final counts as published.
    async fn confirm_final(&self, _message_id: Uuid) -> Result<()> {
        Ok(())
    }

    async fn final_published(&self, message_id: Uuid) -> Result<bool> {
        Ok(self.message(message_id, Instant::now(), |m| m.final_claimed))
    }

    async fn release_final(&self, message_id: Uuid) -> Result<()> {
        self.message(message_id, Instant::now(), |m| m.final_claimed = false);
        Ok(())
    }
}

/// The message-level verdict of the segments' outcomes (`true` = delivered) out of `total`.
fn settled(outcomes: &[(u16, bool)], total: u16) -> Settled {
    if outcomes.iter().any(|(_, delivered)| !delivered) {
        Settled::Failed
    } else if outcomes.len() >= usize::from(total.max(1)) {
        Settled::Delivered
    } else {
        Settled::Pending
    }
}
