//! [`AnyStore`]: the store the config chose (`[redis]` present → Redis, else in-process),
//! behind one type so the pipeline is built once.

use semalink_protocol::dlr::Receipt;
use uuid::Uuid;

use super::{
    CorrelationKey, CorrelationStore, MemoryStore, PriorSubmit, ReceiptMatch, RedisStore,
    SegmentKey, Settlement, StoreStats, Unmatched,
};
use crate::config::Config;
use crate::error::Result;

/// Either store.
#[derive(Debug)]
pub enum AnyStore {
    /// In-process (embedded mode, or one engine without Redis).
    Memory(MemoryStore),
    /// Shared by every engine on the same Redis and key prefix.
    Redis(Box<RedisStore>),
}

impl AnyStore {
    /// The store `config` asks for. Must run inside a tokio runtime (Redis connects lazily).
    pub fn from_config(config: &Config) -> Result<AnyStore> {
        Ok(match &config.redis {
            Some(redis) => AnyStore::Redis(Box::new(RedisStore::new(
                redis,
                std::time::Duration::from_secs(config.correlation.parked_ttl_secs),
            )?)),
            None => AnyStore::Memory(MemoryStore::from_config(&config.correlation)),
        })
    }
}

/// Forwards a call to whichever store this is.
macro_rules! either {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Memory($s) => $call.await,
            AnyStore::Redis($s) => $call.await,
        }
    };
}

impl CorrelationStore for AnyStore {
    async fn insert(&self, key: CorrelationKey, target: SegmentKey) -> Result<Vec<Receipt>> {
        either!(self, s => s.insert(key, target))
    }

    async fn lookup(&self, key: &CorrelationKey) -> Result<Option<SegmentKey>> {
        either!(self, s => s.lookup(key))
    }

    async fn park_receipt(&self, key: CorrelationKey, receipt: Receipt) -> Result<ReceiptMatch> {
        either!(self, s => s.park_receipt(key, receipt))
    }

    async fn remove(&self, key: &CorrelationKey) -> Result<()> {
        either!(self, s => s.remove(key))
    }

    async fn pin(&self, message_id: Uuid) -> Result<()> {
        either!(self, s => s.pin(message_id))
    }

    async fn unpin(&self, message_id: Uuid) -> Result<()> {
        either!(self, s => s.unpin(message_id))
    }

    async fn sweep(&self) -> Result<Vec<Unmatched>> {
        either!(self, s => s.sweep())
    }

    async fn stats(&self) -> Result<StoreStats> {
        either!(self, s => s.stats())
    }

    async fn begin_message(&self, message_id: Uuid) -> Result<PriorSubmit> {
        either!(self, s => s.begin_message(message_id))
    }

    async fn settle(&self, target: SegmentKey, delivered: bool) -> Result<Settlement> {
        either!(self, s => s.settle(target, delivered))
    }

    async fn claim_final(&self, message_id: Uuid) -> Result<bool> {
        either!(self, s => s.claim_final(message_id))
    }

    async fn confirm_final(&self, message_id: Uuid) -> Result<()> {
        either!(self, s => s.confirm_final(message_id))
    }

    async fn final_published(&self, message_id: Uuid) -> Result<bool> {
        either!(self, s => s.final_published(message_id))
    }

    async fn release_final(&self, message_id: Uuid) -> Result<()> {
        either!(self, s => s.release_final(message_id))
    }

    async fn probe(&self) -> bool {
        either!(self, s => s.probe())
    }
}
