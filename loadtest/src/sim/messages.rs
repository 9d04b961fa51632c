//! The simulator's own record of the messages it accepted, for `query_sm`, `cancel_sm` and
//! `replace_sm` (SMPP 3.4 §4.8–4.10): who sent it, its outcome and when that becomes final,
//! whether it was cancelled, and a version that a `replace_sm` bumps so the receipt scheduled
//! for the old text is not sent (the dispatcher asks [`Messages::current`] before it sends).
//!
//! Sharded by id, bounded: past [`MAX_RECORDS`] the oldest records are forgotten (a query
//! then answers "unknown message", like an SMSC that purged it).

use std::{
    collections::{HashMap, VecDeque},
    hash::{BuildHasher, BuildHasherDefault, DefaultHasher},
    sync::{Arc, Mutex},
};

use tokio::time::Instant;

use super::receipt::{Outcome, ReceiptInput, unix_now};

/// Records kept in all (about 200 bytes each).
pub const MAX_RECORDS: usize = 250_000;
const SHARDS: usize = 16;

/// What the simulator knows about one accepted message.
#[derive(Debug, Clone)]
pub struct Record {
    /// `source_addr` of the submit (a query or cancel must give the same).
    pub source: Box<[u8]>,
    /// `source_addr_ton` / `_npi` of the submit.
    pub source_type: (u8, u8),
    /// `destination_addr` of the submit.
    pub destination: Box<[u8]>,
    /// `dest_addr_ton` / `_npi` of the submit.
    pub destination_type: (u8, u8),
    /// The first 20 octets of the text (what a receipt's `text:` carries).
    pub text: Box<[u8]>,
    /// The id receipts carry.
    pub receipt_id: Box<str>,
    /// Unix seconds of the submit.
    pub submitted_at: u64,
    /// The final outcome drawn at submit.
    pub outcome: Outcome,
    /// When the outcome becomes final.
    pub final_at: Instant,
    /// Unix seconds of `final_at`.
    pub final_unix: u64,
    /// `cancel_sm` took it (message state DELETED) at this Unix second.
    pub cancelled: Option<u64>,
    /// Bumped by each `replace_sm`.
    pub version: u32,
}

/// What a query sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not final yet.
    Enroute,
    /// Final with this outcome at this Unix second.
    Final(Outcome, u64),
    /// Cancelled at this Unix second.
    Deleted(u64),
}

/// Why a query, cancel or replace was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such message id (or forgotten).
    Unknown,
    /// The source address does not match the submit's.
    WrongSource,
    /// The message is final already: it cannot be cancelled or replaced.
    Final,
}

#[derive(Debug, Default)]
struct Shard {
    map: HashMap<Box<str>, Record>,
    order: VecDeque<Box<str>>,
}

/// Every record, by the message id of the `submit_sm_resp`.
#[derive(Debug)]
pub struct Messages {
    shards: Vec<Mutex<Shard>>,
}

impl Default for Messages {
    fn default() -> Self {
        Messages {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl Record {
    /// What its receipts say.
    pub fn receipt_input(&self, tlvs: bool) -> ReceiptInput<'_> {
        ReceiptInput {
            id: &self.receipt_id,
            source: &self.source,
            destination: &self.destination,
            source_type: self.source_type,
            destination_type: self.destination_type,
            text: &self.text,
            submitted_at: self.submitted_at,
            tlvs,
        }
    }

    /// The state at `now`.
    pub fn state(&self, now: Instant) -> State {
        match self.cancelled {
            Some(at) => State::Deleted(at),
            None if now >= self.final_at => State::Final(self.outcome, self.final_unix),
            None => State::Enroute,
        }
    }
}

impl Messages {
    fn shard(&self, id: &str) -> std::sync::MutexGuard<'_, Shard> {
        let i = BuildHasherDefault::<DefaultHasher>::default().hash_one(id) as usize % SHARDS;
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an accepted message.
    pub fn insert(&self, id: &str, record: Record) {
        let mut shard = self.shard(id);
        if shard.map.len() >= MAX_RECORDS / SHARDS
            && let Some(old) = shard.order.pop_front()
        {
            shard.map.remove(&old);
        }
        let key: Box<str> = id.into();
        shard.order.push_back(key.clone());
        shard.map.insert(key, record);
    }

    /// `query_sm`: the state of `id` if `source` sent it.
    pub fn query(&self, id: &str, source: &[u8]) -> Result<State, Refusal> {
        let shard = self.shard(id);
        let r = checked(&shard, id, source)?;
        Ok(r.state(Instant::now()))
    }

    /// `cancel_sm`: deletes a message not yet final; its pending receipts are not sent.
    pub fn cancel(&self, id: &str, source: &[u8]) -> Result<(), Refusal> {
        let mut shard = self.shard(id);
        checked(&shard, id, source)?;
        let r = shard.map.get_mut(id).ok_or(Refusal::Unknown)?;
        if r.state(Instant::now()) != State::Enroute {
            return Err(Refusal::Final);
        }
        r.cancelled = Some(unix_now());
        Ok(())
    }

    /// `replace_sm`: new text for a message not yet final. Returns the updated record (with
    /// its new version) so the caller can schedule the receipt of the new text.
    pub fn replace(&self, id: &str, source: &[u8], text: &[u8]) -> Result<Record, Refusal> {
        let mut shard = self.shard(id);
        checked(&shard, id, source)?;
        let r = shard.map.get_mut(id).ok_or(Refusal::Unknown)?;
        if r.state(Instant::now()) != State::Enroute {
            return Err(Refusal::Final);
        }
        r.text = text.iter().copied().take(20).collect();
        r.version += 1;
        Ok(r.clone())
    }

    /// Whether a receipt scheduled for `version` of `id` should still go out: not after a
    /// cancel or a newer replace. Forgotten messages' receipts do go out.
    pub fn current(&self, id: &str, version: u32) -> bool {
        let shard = self.shard(id);
        shard
            .map
            .get(id)
            .is_none_or(|r| r.cancelled.is_none() && r.version == version)
    }
}

fn checked<'a>(shard: &'a Shard, id: &str, source: &[u8]) -> Result<&'a Record, Refusal> {
    let r = shard.map.get(id).ok_or(Refusal::Unknown)?;
    // SMPP 3.4 §4.8.1: the source address must match the original submit's; an empty one
    // is accepted (many ESMEs do not keep it).
    if !source.is_empty() && *source != *r.source {
        return Err(Refusal::WrongSource);
    }
    Ok(r)
}

/// A record shared with a scheduled receipt: the id and version it was scheduled for.
pub type Ticket = (Arc<str>, u32);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn record(final_in: Duration) -> Record {
        Record {
            source: b"SEMA".as_slice().into(),
            source_type: (5, 0),
            destination: b"254712345678".as_slice().into(),
            destination_type: (1, 1),
            text: b"hello".as_slice().into(),
            receipt_id: "42".into(),
            submitted_at: unix_now(),
            outcome: Outcome::Delivrd,
            final_at: Instant::now() + final_in,
            final_unix: unix_now(),
            cancelled: None,
            version: 0,
        }
    }

    #[test]
    fn query_cancel_and_replace_follow_the_state() {
        let m = Messages::default();
        m.insert("1", record(Duration::from_secs(60)));
        m.insert("2", record(Duration::ZERO));
        assert_eq!(m.query("1", b"SEMA"), Ok(State::Enroute));
        assert_eq!(m.query("1", b""), Ok(State::Enroute));
        assert_eq!(m.query("1", b"OTHER"), Err(Refusal::WrongSource));
        assert_eq!(m.query("9", b"SEMA"), Err(Refusal::Unknown));
        assert!(matches!(
            m.query("2", b"SEMA"),
            Ok(State::Final(Outcome::Delivrd, _))
        ));
        assert_eq!(m.cancel("2", b"SEMA"), Err(Refusal::Final));
        assert_eq!(m.replace("2", b"SEMA", b"x").unwrap_err(), Refusal::Final);
        let replaced = m.replace("1", b"SEMA", b"new text").unwrap();
        assert_eq!(
            (replaced.version, &*replaced.text),
            (1, b"new text".as_slice())
        );
        assert!(!m.current("1", 0) && m.current("1", 1));
        m.cancel("1", b"SEMA").unwrap();
        assert!(matches!(m.query("1", b"SEMA"), Ok(State::Deleted(_))));
        assert!(!m.current("1", 1), "no receipt after a cancel");
        assert!(m.current("unknown", 0));
    }
}
