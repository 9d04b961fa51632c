//! [`Awaiting`]: the parts accepted upstream whose final receipt has not come, by when they
//! are due for reconciliation.
//!
//! In-process by default. With `[redis]` the list lives on the shared Redis instead, so the
//! parts of an engine that was killed (or scaled away) are still reconciled by whichever
//! engine runs, and a receipt that arrives on another engine takes its part off the list for
//! everyone:
//!
//! * `<prefix>w` — sorted set of `<message uuid>:<segment>`, scored by when the part is due
//!   (Unix ms, the engines' wall clocks);
//! * `<prefix>wp` — hash of the same ids → the part (segment count, upstream index, answers
//!   so far, the `query_sm` fields) as JSON.
//!
//! Taking due parts ([`TAKE`], one script) moves them a lease ahead rather than removing
//! them: the taker reschedules (not final yet) or settles (final, expired) each, and a part
//! whose taker died comes due again when the lease ends. Two engines never take a part at
//! the same time. A Redis failure keeps the part in-process (logged): reconciled by this
//! engine, as without Redis.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use redis::Script;
use redis::aio::ConnectionManager;
use tokio::time::Instant;
use uuid::Uuid;

use crate::config::ReconcileConfig;
use crate::correlation::{SegmentKey, now_ms};
use crate::error::{Error, Result};
use crate::smpp::QueryRequest;

/// One part waiting for its final receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) target: SegmentKey,
    pub(crate) upstream: usize,
    pub(crate) query: QueryRequest,
    /// Answers so far that were not final.
    pub(crate) queries: u32,
}

impl Part {
    fn id(message_id: Uuid, segment: u16) -> String {
        format!("{}:{segment}", message_id.simple())
    }

    fn encode(&self) -> String {
        let q = &self.query;
        let fields = (
            self.target.segments,
            self.upstream,
            self.queries,
            q.source_ton,
            q.source_npi,
            &q.source_addr,
            &q.message_id,
        );
        serde_json::to_string(&fields).unwrap_or_default()
    }

    fn decode(id: &str, value: &str) -> Option<Part> {
        let (message_id, segment) = id.split_once(':')?;
        type Fields = (u16, usize, u32, u8, u8, String, String);
        let (segments, upstream, queries, source_ton, source_npi, source_addr, smsc_id): Fields =
            serde_json::from_str(value).ok()?;
        Some(Part {
            target: SegmentKey {
                message_id: Uuid::parse_str(message_id).ok()?,
                segment: segment.parse().ok()?,
                segments,
            },
            upstream,
            query: QueryRequest {
                message_id: smsc_id,
                source_ton,
                source_npi,
                source_addr,
            },
            queries,
        })
    }
}

/// KEYS: due zset, parts hash. ARGV: now (ms), at most, lease end (ms). Returns
/// `[id, part, id, part …]` of the parts due, each now due again at the lease end.
const TAKE: &str = r"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('HGET', KEYS[2], id)
  if v then
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    table.insert(out, id)
    table.insert(out, v)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
";

/// The list on Redis.
struct Shared {
    conn: ConnectionManager,
    due: String,
    parts: String,
    take: Script,
}

fn fail(e: redis::RedisError) -> Error {
    Error::Store(format!("redis: {e}"))
}

impl Shared {
    async fn insert(&self, due_ms: u64, part: &Part) -> Result<()> {
        let id = Part::id(part.target.message_id, part.target.segment);
        redis::pipe()
            .atomic()
            .hset(&self.parts, &id, part.encode())
            .ignore()
            .zadd(&self.due, &id, due_ms)
            .ignore()
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(fail)
    }

    async fn remove(&self, message_id: Uuid, segment: u16) -> Result<()> {
        let id = Part::id(message_id, segment);
        redis::pipe()
            .atomic()
            .zrem(&self.due, &id)
            .ignore()
            .hdel(&self.parts, &id)
            .ignore()
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(fail)
    }

    async fn take(&self, now_ms: u64, max: usize, lease: Duration) -> Result<Vec<Part>> {
        let flat: Vec<String> = self
            .take
            .key(&self.due)
            .key(&self.parts)
            .arg(now_ms)
            .arg(max)
            .arg(now_ms + lease.as_millis() as u64)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(fail)?;
        let mut parts = Vec::with_capacity(flat.len() / 2);
        for pair in flat.chunks_exact(2) {
            match Part::decode(&pair[0], &pair[1]) {
                Some(part) => parts.push(part),
                None => tracing::warn!(id = %pair[0], "unreadable reconciliation entry left alone"),
            }
        }
        Ok(parts)
    }

    async fn len(&self) -> Result<usize> {
        redis::cmd("ZCARD")
            .arg(&self.due)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(fail)
    }
}

#[derive(Debug, Default)]
struct Inner {
    by_due: BTreeMap<(Instant, u64), Part>,
    by_part: HashMap<(Uuid, u16), (Instant, u64)>,
    next: u64,
}

/// The parts waiting for a final receipt, by when they are due for reconciliation.
pub struct Awaiting {
    pub(crate) config: ReconcileConfig,
    inner: Mutex<Inner>,
    shared: Option<Shared>,
}

impl std::fmt::Debug for Awaiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Awaiting")
            .field("local", &self.len())
            .field("shared", &self.shared.is_some())
            .finish()
    }
}

impl Awaiting {
    /// An empty in-process list with these settings.
    pub fn new(config: ReconcileConfig) -> Awaiting {
        Awaiting {
            config,
            inner: Mutex::default(),
            shared: None,
        }
    }

    /// The list on Redis under `prefix` (shared by every engine with that prefix).
    pub fn on_redis(config: ReconcileConfig, conn: ConnectionManager, prefix: &str) -> Awaiting {
        Awaiting {
            shared: Some(Shared {
                conn,
                due: format!("{prefix}w"),
                parts: format!("{prefix}wp"),
                take: Script::new(TAKE),
            }),
            ..Awaiting::new(config)
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A part was accepted upstream with SMSC id `query.message_id`; its message expires
    /// `validity` from now (if it does).
    pub async fn sent(
        &self,
        target: SegmentKey,
        upstream: usize,
        query: QueryRequest,
        validity: Option<Duration>,
    ) {
        let part = Part {
            target,
            upstream,
            query,
            queries: 0,
        };
        self.schedule(self.config.wait(validity), part).await;
    }

    /// (Re)schedules `part` to be due `after` from now.
    pub(crate) async fn schedule(&self, after: Duration, part: Part) {
        if let Some(shared) = &self.shared {
            match shared
                .insert(now_ms() + after.as_millis() as u64, &part)
                .await
            {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, message_id = %part.target.message_id, "reconciliation entry kept in-process");
                }
            }
        }
        self.insert_local(Instant::now() + after, part);
    }

    fn insert_local(&self, due: Instant, part: Part) {
        let mut inner = self.lock();
        let key = (due, inner.next);
        inner.next += 1;
        let id = (part.target.message_id, part.target.segment);
        if let Some(old) = inner.by_part.insert(id, key) {
            inner.by_due.remove(&old);
        }
        inner.by_due.insert(key, part);
    }

    /// The part's final receipt arrived (or it was expired): nothing to reconcile.
    pub async fn settled(&self, message_id: Uuid, segment: u16) {
        {
            let mut inner = self.lock();
            if let Some(key) = inner.by_part.remove(&(message_id, segment)) {
                inner.by_due.remove(&key);
            }
        }
        if let Some(shared) = &self.shared
            && let Err(e) = shared.remove(message_id, segment).await
        {
            // It comes due and is asked for or expired: the store makes that a no-op.
            tracing::warn!(error = %e, %message_id, "settled part left on the reconciliation list");
        }
    }

    /// Parts waiting in this process (those on Redis are counted by [`Self::waiting`]).
    pub fn len(&self) -> usize {
        self.lock().by_due.len()
    }

    /// Whether no part is waiting in this process.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Parts waiting, here and on Redis.
    pub async fn waiting(&self) -> Result<usize> {
        let shared = match &self.shared {
            Some(s) => s.len().await?,
            None => 0,
        };
        Ok(self.len() + shared)
    }

    /// How long a part taken from Redis stays with its taker before it is due again: long
    /// enough for a full round of `max` queries at the configured rate, at least 10 min.
    pub(crate) fn lease(&self, max: usize) -> Duration {
        let round = Duration::from_secs_f64(2.0 * max as f64 / self.config.rate.max(0.001));
        round.max(Duration::from_secs(600))
    }

    /// Takes up to `max` parts due now (this process's first).
    pub(crate) async fn take_due(&self, max: usize) -> Vec<Part> {
        let mut out = self.take_local(Instant::now(), max);
        if let Some(shared) = &self.shared
            && out.len() < max
        {
            let left = max - out.len();
            match shared.take(now_ms(), left, self.lease(max)).await {
                Ok(parts) => out.extend(parts),
                Err(e) => tracing::warn!(error = %e, "reconciliation list not readable"),
            }
        }
        out
    }

    fn take_local(&self, now: Instant, max: usize) -> Vec<Part> {
        let mut inner = self.lock();
        let mut out = Vec::new();
        while out.len() < max {
            let Some(entry) = inner.by_due.first_entry() else {
                break;
            };
            if entry.key().0 > now {
                break;
            }
            let part = entry.remove();
            inner
                .by_part
                .remove(&(part.target.message_id, part.target.segment));
            out.push(part);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(segment: u16) -> Part {
        let target = SegmentKey {
            message_id: Uuid::from_u128(1),
            segment,
            segments: 2,
        };
        Part {
            target,
            upstream: 1,
            query: QueryRequest {
                message_id: "0a1b:2".into(),
                source_ton: 5,
                source_npi: 0,
                source_addr: "SEMA|LINK".into(),
            },
            queries: 2,
        }
    }

    #[tokio::test]
    async fn parts_come_due_after_their_wait_unless_settled() {
        let config = ReconcileConfig {
            wait_secs: Some(0),
            ..ReconcileConfig::default()
        };
        let a = Awaiting::new(config);
        for p in [part(1), part(2)] {
            a.sent(p.target, 0, p.query, None).await;
        }
        assert_eq!(a.len(), 2);
        a.settled(Uuid::from_u128(1), 1).await;
        let due = a.take_local(Instant::now() + Duration::from_millis(1), 10);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].target.segment, 2);
        assert!(a.is_empty());
    }

    #[test]
    fn entries_round_trip() {
        let p = part(2);
        let id = Part::id(p.target.message_id, p.target.segment);
        assert_eq!(Part::decode(&id, &p.encode()), Some(p));
        assert_eq!(Part::decode("nonsense", "[]"), None);
    }

    #[test]
    fn the_lease_covers_a_round_of_queries() {
        let a = Awaiting::new(ReconcileConfig::default());
        assert_eq!(a.lease(10), Duration::from_secs(600));
        assert_eq!(a.lease(5_000), Duration::from_secs(2_000));
    }
}
