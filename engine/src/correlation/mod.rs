//! Receipt correlation: the SMSC's message id (canonicalised per upstream with
//! [`semalink_protocol::msgid::canonical`]) → which message and segment it was.
//!
//! [`CorrelationStore`] is the contract; [`MemoryStore`] the in-process implementation (the
//! next issue adds Redis). Rules every implementation keeps:
//!
//! * A receipt that arrives before its `submit_sm_resp` (upstreams do this) is parked by
//!   [`CorrelationStore::park_receipt`] — atomically with the lookup, so a mapping inserted
//!   between "not found" and "park" cannot strand it — and handed back by the
//!   [`CorrelationStore::insert`] of its id.
//! * A parked receipt that never matches is returned by [`CorrelationStore::sweep`] after
//!   the parked TTL and counted, never dropped silently.
//! * Mappings expire after their TTL, except those of a message pinned with
//!   [`CorrelationStore::pin`] (while any of its segments is being retried), which are kept.
//!
//! Ids are scoped by upstream: two upstreams' decimal counters overlap.

mod memory;

use std::future::Future;

use semalink_protocol::dlr::Receipt;
use semalink_protocol::msgid::CanonicalId;
use uuid::Uuid;

use crate::error::Result;
pub use memory::MemoryStore;

/// The store's key: an upstream (its index in the config) and the canonical SMSC id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CorrelationKey {
    /// Index of the upstream in `Config::upstreams`.
    pub upstream: u16,
    /// The canonical SMSC message id.
    pub id: CanonicalId,
}

/// What an SMSC id stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentKey {
    /// The control plane's message id.
    pub message_id: Uuid,
    /// The segment, 1-based.
    pub segment: u16,
}

/// The answer to [`CorrelationStore::park_receipt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptMatch {
    /// The mapping exists: process the receipt now.
    Matched {
        /// The segment it is about.
        target: SegmentKey,
        /// The receipt, handed back.
        receipt: Receipt,
    },
    /// No mapping yet: the receipt waits for the `submit_sm_resp`.
    Parked,
}

/// A parked receipt whose `submit_sm_resp` never came within the parked TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    /// The id it carried.
    pub key: CorrelationKey,
    /// The receipt.
    pub receipt: Receipt,
}

/// Sizes, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Live mappings.
    pub mappings: usize,
    /// Receipts parked now.
    pub parked: usize,
    /// Receipts reported unmatched since start.
    pub unmatched_total: u64,
}

/// SMSC id → segment, with parking of early receipts (see the module docs).
pub trait CorrelationStore: Send + Sync + 'static {
    /// Records `key → target` (after `submit_sm_resp` status 0) and returns the receipts
    /// parked for `key`, oldest first, now removed from the park.
    fn insert(
        &self,
        key: CorrelationKey,
        target: SegmentKey,
    ) -> impl Future<Output = Result<Vec<Receipt>>> + Send;

    /// The segment `key` stands for, if known.
    fn lookup(
        &self,
        key: &CorrelationKey,
    ) -> impl Future<Output = Result<Option<SegmentKey>>> + Send;

    /// A receipt for `key`: matched at once if the mapping exists, else parked.
    fn park_receipt(
        &self,
        key: CorrelationKey,
        receipt: Receipt,
    ) -> impl Future<Output = Result<ReceiptMatch>> + Send;

    /// Forgets a mapping (a message given up before any receipt can come).
    fn remove(&self, key: &CorrelationKey) -> impl Future<Output = Result<()>> + Send;

    /// Keeps every mapping of `message_id` past its TTL until [`Self::unpin`] (nested pins
    /// count).
    fn pin(&self, message_id: Uuid) -> impl Future<Output = Result<()>> + Send;

    /// Releases one [`Self::pin`].
    fn unpin(&self, message_id: Uuid) -> impl Future<Output = Result<()>> + Send;

    /// Expires mappings past their TTL (unless pinned) and returns the parked receipts past
    /// the parked TTL, counting them.
    fn sweep(&self) -> impl Future<Output = Result<Vec<Unmatched>>> + Send;

    /// Current sizes.
    fn stats(&self) -> impl Future<Output = Result<StoreStats>> + Send;
}

#[cfg(test)]
mod tests;
