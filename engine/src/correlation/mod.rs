//! Receipt correlation: the SMSC's message id (canonicalised per upstream with
//! [`semalink_protocol::msgid::canonical`]) → which message and segment it was.
//!
//! [`CorrelationStore`] is the contract; [`MemoryStore`] the in-process implementation,
//! [`RedisStore`] the one several engine processes share, [`AnyStore`] whichever the config
//! chose. Rules every implementation keeps:
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
//! * The store also keeps a small record per message, shared by every engine that uses the
//!   store: which segments the upstream accepted ([`CorrelationStore::begin_message`], for
//!   skipping them when the broker redelivers the message), each segment's final receipt
//!   outcome ([`CorrelationStore::settle`], so a message whose parts' receipts arrive on
//!   different engines is still decided), and whether its message-level final event was
//!   published ([`CorrelationStore::claim_final`], so exactly one engine publishes it).
//!
//! Ids are scoped by upstream: two upstreams' decimal counters overlap.

mod any;
pub mod intents;
mod memory;
mod redis;

use std::future::Future;

use semalink_protocol::dlr::Receipt;
use semalink_protocol::msgid::CanonicalId;
use uuid::Uuid;

use crate::error::Result;
pub use any::AnyStore;
pub use memory::MemoryStore;
pub use redis::RedisStore;
/// Wall-clock Unix milliseconds (what engines sharing Redis agree on).
pub(crate) use redis::now_ms;

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
    /// How many segments the message has (an engine that did not submit the message needs it
    /// to decide the message from its parts' receipts).
    pub segments: u16,
}

/// What the store knew of a message when [`CorrelationStore::begin_message`] was called.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriorSubmit {
    /// Whether the message was begun before (by this or another engine): it is a redelivery.
    pub seen: bool,
    /// Segments the upstream already accepted, with the (canonical) SMSC id, by segment.
    pub accepted: Vec<(u16, String)>,
}

/// What a segment's final receipt decided ([`CorrelationStore::settle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// The message's state as its segments' outcomes say.
    pub verdict: Settled,
    /// The message is decided and this call claimed its final event (as
    /// [`CorrelationStore::claim_final`] would have): the caller publishes it.
    pub claimed: bool,
}

/// The message-level consequence of its segments' final receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Other segments have no final outcome yet.
    Pending,
    /// Every segment is delivered.
    Delivered,
    /// A segment failed: the message has failed.
    Failed,
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

    /// Marks `message_id` as begun and returns what was known of it before: whether it was
    /// begun already (a redelivery) and which of its segments the upstream accepted (those
    /// are not submitted again). Segments are recorded as accepted by [`Self::insert`].
    fn begin_message(&self, message_id: Uuid) -> impl Future<Output = Result<PriorSubmit>> + Send;

    /// Records the final receipt outcome of `target` (the first outcome of a segment wins),
    /// says whether the message is now decided by its segments' outcomes and, if it is,
    /// claims its final event in the same step (one round trip instead of two).
    fn settle(
        &self,
        target: SegmentKey,
        delivered: bool,
    ) -> impl Future<Output = Result<Settlement>> + Send;

    /// Claims the right to publish the message-level final event of `message_id`: `true` for
    /// exactly one caller (of any engine sharing the store) until [`Self::release_final`], or
    /// until the claim's lease ([`FINAL_LEASE`]) runs out without [`Self::confirm_final`] —
    /// the claimant died between claim and publish, and someone else must publish.
    fn claim_final(&self, message_id: Uuid) -> impl Future<Output = Result<bool>> + Send;

    /// Records that the claimed final event was published (the claim no longer lapses).
    fn confirm_final(&self, message_id: Uuid) -> impl Future<Output = Result<()>> + Send;

    /// Whether the final event of `message_id` was published ([`Self::confirm_final`]); `false`
    /// while a claimant is still publishing it (or died doing so).
    fn final_published(&self, message_id: Uuid) -> impl Future<Output = Result<bool>> + Send;

    /// Gives a claim back (the event could not be published; whoever retries claims again).
    fn release_final(&self, message_id: Uuid) -> impl Future<Output = Result<()>> + Send;

    /// Asks the backing service whether it answers (the in-process store always does); the
    /// engine's readiness follows it.
    fn probe(&self) -> impl Future<Output = bool> + Send {
        std::future::ready(true)
    }
}

/// How long a claim on a final event holds without [`CorrelationStore::confirm_final`]: longer
/// than a publish with its broker confirm takes, short enough that a final whose claimant was
/// killed is published by another engine on the receipt's redelivery.
pub const FINAL_LEASE: std::time::Duration = std::time::Duration::from_secs(10);

#[cfg(test)]
mod tests;
