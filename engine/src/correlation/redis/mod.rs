//! The shared [`CorrelationStore`]: Redis through redis-rs's connection manager, so several
//! engine processes correlate each other's receipts.
//!
//! Keys (all under the configured prefix `P`; ids are `n<decimal>`, `u<hex>` or `t<text>` so
//! the three [`semalink_protocol::msgid::CanonicalId`] forms never collide):
//!
//! | key                 | type   | content                                                     |
//! |---------------------|--------|-------------------------------------------------------------|
//! | `P c:<up>:<id>`     | string | `<message uuid>:<segment>:<segments>`, `EX` mapping TTL       |
//! | `P p:<up>:<id>`     | list   | parked receipts `<parked at, unix ms>|<receipt JSON>`       |
//! | `P parked`          | zset   | `<up>:<id>` of every parked list, scored by its oldest entry |
//! | `P parked_n`        | string | number of parked receipts                                   |
//! | `P m:<message uuid>`| hash   | `b` begun, `a<seg>` accepted SMSC id, `k<seg>` mapping key, `s<seg>` `d`/`f` receipt outcome, `f` final claim (lease end in ms, `p` once published); mapping TTL from the last change |
//!
//! Every operation is one round trip: a Lua script where reads and writes must be atomic
//! (insert + hand back the parked receipts, match-or-park, settle, the sweep's take of expired
//! receipts), a pipeline elsewhere. The connection manager multiplexes one connection, so
//! concurrent segment tasks' commands are pipelined on the socket as well. Redis down: every
//! call fails with [`Error::Store`] at once (no queueing), and the manager reconnects on
//! the next command ([`CorrelationStore::probe`] issues one).
//!
//! Pins cannot stop Redis from expiring keys, so a pinned message's keys are re-armed: this
//! engine remembers its pins and its sweep refreshes their TTL (mapping keys are listed in the
//! message hash) every third of the TTL, and once more on the last unpin. A crashed engine
//! stops refreshing, so its pins lapse one TTL later instead of leaking.

mod codec;
mod scripts;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use redis::{Client, RedisError};
use semalink_protocol::dlr::Receipt;
use uuid::Uuid;

use super::{
    CorrelationKey, CorrelationStore, FINAL_LEASE, PriorSubmit, ReceiptMatch, SegmentKey, Settled,
    Settlement, StoreStats, Unmatched,
};
use crate::config::RedisConfig;
use crate::error::{Error, Result};
use codec::{decode_parked, decode_target, encode_parked, encode_target, member, parse_member};
use scripts::Scripts;

pub(crate) use codec::now_ms;

/// How long one command may take before it counts as failed (Redis answers in microseconds;
/// seconds mean it is gone).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Parked lists the sweep examines per round.
const SWEEP_BATCH: isize = 500;

#[derive(Debug)]
struct Pin {
    count: u32,
    refreshed: Instant,
}

/// The Redis correlation store (see the module docs for the key layout).
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    ttl: Duration,
    parked_ttl: Duration,
    scripts: Scripts,
    pins: Mutex<HashMap<Uuid, Pin>>,
    unmatched: AtomicU64,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store on `config.url` whose receipts wait `parked_ttl` for their mapping. Connects
    /// lazily: a Redis that is down at start makes the store unhealthy, not the start fail.
    /// Must run inside a tokio runtime.
    pub fn new(config: &RedisConfig, parked_ttl: Duration) -> Result<RedisStore> {
        let client = Client::open(config.url.expose())
            .map_err(|e| Error::invalid("redis.url", e.to_string()))?;
        let manager = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_lazy_with_config(client, manager)
            .map_err(|e| Error::invalid("redis.url", e.to_string()))?;
        Ok(RedisStore {
            conn,
            prefix: config.key_prefix.clone(),
            ttl: Duration::from_secs(config.mapping_ttl_secs),
            parked_ttl,
            scripts: Scripts::new(),
            pins: Mutex::new(HashMap::new()),
            unmatched: AtomicU64::new(0),
        })
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    fn ttl_secs(&self) -> u64 {
        self.ttl.as_secs().max(1)
    }

    fn key(&self, kind: &str, rest: &str) -> String {
        format!("{}{kind}:{rest}", self.prefix)
    }

    fn message_key(&self, id: Uuid) -> String {
        self.key("m", &id.simple().to_string())
    }

    fn parked_index(&self) -> String {
        format!("{}parked", self.prefix)
    }

    fn parked_count(&self) -> String {
        format!("{}parked_n", self.prefix)
    }

    async fn refresh(&self, message_id: Uuid) -> Result<()> {
        self.scripts
            .refresh
            .key(self.message_key(message_id))
            .arg(self.ttl_secs())
            .invoke_async::<i64>(&mut self.conn())
            .await
            .map_err(fail)?;
        Ok(())
    }

    fn pins(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Pin>> {
        self.pins.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn fail(e: RedisError) -> Error {
    Error::Store(format!("redis: {e}"))
}

impl CorrelationStore for RedisStore {
    async fn insert(&self, key: CorrelationKey, target: SegmentKey) -> Result<Vec<Receipt>> {
        let member = member(&key);
        let parked: Vec<String> = self
            .scripts
            .insert
            .key(self.key("c", &member))
            .key(self.key("p", &member))
            .key(self.message_key(target.message_id))
            .key(self.parked_index())
            .key(self.parked_count())
            .arg(encode_target(&target))
            .arg(self.ttl_secs())
            .arg(target.segment)
            .arg(key.id.to_string())
            .arg(&member)
            .invoke_async(&mut self.conn())
            .await
            .map_err(fail)?;
        // RPUSH order is arrival order: oldest first.
        parked.iter().map(|e| decode_parked(e)).collect()
    }

    async fn lookup(&self, key: &CorrelationKey) -> Result<Option<SegmentKey>> {
        let value: Option<String> = redis::cmd("GET")
            .arg(self.key("c", &member(key)))
            .query_async(&mut self.conn())
            .await
            .map_err(fail)?;
        value.as_deref().map(decode_target).transpose()
    }

    async fn park_receipt(&self, key: CorrelationKey, receipt: Receipt) -> Result<ReceiptMatch> {
        let member = member(&key);
        let at = now_ms();
        let found: Option<String> = self
            .scripts
            .park
            .key(self.key("c", &member))
            .key(self.key("p", &member))
            .key(self.parked_index())
            .key(self.parked_count())
            .arg(encode_parked(at, &receipt)?)
            .arg(at)
            .arg(&member)
            .invoke_async(&mut self.conn())
            .await
            .map_err(fail)?;
        Ok(match found {
            Some(value) => ReceiptMatch::Matched {
                target: decode_target(&value)?,
                receipt,
            },
            None => ReceiptMatch::Parked,
        })
    }

    async fn remove(&self, key: &CorrelationKey) -> Result<()> {
        redis::cmd("DEL")
            .arg(self.key("c", &member(key)))
            .query_async::<i64>(&mut self.conn())
            .await
            .map_err(fail)?;
        Ok(())
    }

    async fn pin(&self, message_id: Uuid) -> Result<()> {
        let first = {
            let mut pins = self.pins();
            let pin = pins.entry(message_id).or_insert(Pin {
                count: 0,
                refreshed: Instant::now(),
            });
            pin.count += 1;
            pin.count == 1
        };
        if first {
            self.refresh(message_id).await?;
        }
        Ok(())
    }

    async fn unpin(&self, message_id: Uuid) -> Result<()> {
        let last = {
            let mut pins = self.pins();
            match pins.get_mut(&message_id) {
                Some(pin) if pin.count > 1 => {
                    pin.count -= 1;
                    false
                }
                Some(_) => {
                    pins.remove(&message_id);
                    true
                }
                None => false,
            }
        };
        if last {
            // The mappings live a full TTL from the end of the retries.
            self.refresh(message_id).await?;
        }
        Ok(())
    }

    async fn sweep(&self) -> Result<Vec<Unmatched>> {
        let due: Vec<Uuid> = {
            let now = Instant::now();
            let mut pins = self.pins();
            pins.iter_mut()
                .filter(|(_, p)| now.duration_since(p.refreshed) >= self.ttl / 3)
                .map(|(id, p)| {
                    p.refreshed = now;
                    *id
                })
                .collect()
        };
        for id in due {
            self.refresh(id).await?;
        }
        let cutoff = now_ms().saturating_sub(self.parked_ttl.as_millis() as u64);
        let members: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(self.parked_index())
            .arg("-inf")
            .arg(cutoff)
            .arg("LIMIT")
            .arg(0)
            .arg(SWEEP_BATCH)
            .query_async(&mut self.conn())
            .await
            .map_err(fail)?;
        let mut unmatched = Vec::new();
        for member in members {
            let expired: Vec<String> = self
                .scripts
                .take_expired
                .key(self.key("p", &member))
                .key(self.parked_index())
                .key(self.parked_count())
                .arg(cutoff)
                .arg(&member)
                .invoke_async(&mut self.conn())
                .await
                .map_err(fail)?;
            let Some(key) = parse_member(&member) else {
                tracing::warn!(member, "unreadable parked key dropped");
                continue;
            };
            for entry in expired {
                match decode_parked(&entry) {
                    Ok(receipt) => unmatched.push(Unmatched {
                        key: key.clone(),
                        receipt,
                    }),
                    Err(e) => tracing::warn!(error = %e, "parked receipt dropped"),
                }
            }
        }
        self.unmatched
            .fetch_add(unmatched.len() as u64, Ordering::Relaxed);
        Ok(unmatched)
    }

    /// `mappings` is always 0: Redis expires them itself and counting them would mean a scan
    /// (`redis-cli --scan --pattern '<prefix>c:*' | wc -l` does it by hand). `parked` is the
    /// shared count, `unmatched_total` this engine's reports.
    async fn stats(&self) -> Result<StoreStats> {
        let parked: Option<i64> = redis::cmd("GET")
            .arg(self.parked_count())
            .query_async(&mut self.conn())
            .await
            .map_err(fail)?;
        Ok(StoreStats {
            mappings: 0,
            parked: parked.unwrap_or(0).max(0) as usize,
            unmatched_total: self.unmatched.load(Ordering::Relaxed),
        })
    }

    async fn begin_message(&self, message_id: Uuid) -> Result<PriorSubmit> {
        let key = self.message_key(message_id);
        let (fresh, fields): (i64, HashMap<String, String>) = redis::pipe()
            .cmd("HSETNX")
            .arg(&key)
            .arg("b")
            .arg(1)
            .cmd("HGETALL")
            .arg(&key)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(self.ttl_secs())
            .ignore()
            .query_async(&mut self.conn())
            .await
            .map_err(fail)?;
        let mut accepted: Vec<(u16, String)> = fields
            .into_iter()
            .filter_map(|(field, smsc_id)| {
                let segment = field.strip_prefix('a')?.parse().ok()?;
                Some((segment, smsc_id))
            })
            .collect();
        accepted.sort_unstable();
        Ok(PriorSubmit {
            seen: fresh == 0,
            accepted,
        })
    }

    async fn settle(&self, target: SegmentKey, delivered: bool) -> Result<Settlement> {
        let (verdict, claimed): (i64, i64) = self
            .scripts
            .settle
            .key(self.message_key(target.message_id))
            .arg(target.segment)
            .arg(if delivered { "d" } else { "f" })
            .arg(target.segments.max(1))
            .arg(self.ttl_secs())
            .arg(now_ms())
            .arg(FINAL_LEASE.as_millis() as u64)
            .invoke_async(&mut self.conn())
            .await
            .map_err(fail)?;
        let verdict = match verdict {
            1 => Settled::Delivered,
            2 => Settled::Failed,
            _ => Settled::Pending,
        };
        Ok(Settlement {
            verdict,
            claimed: claimed == 1,
        })
    }

    async fn claim_final(&self, message_id: Uuid) -> Result<bool> {
        let claimed: i64 = self
            .scripts
            .claim
            .key(self.message_key(message_id))
            .arg(now_ms())
            .arg(FINAL_LEASE.as_millis() as u64)
            .arg(self.ttl_secs())
            .invoke_async(&mut self.conn())
            .await
            .map_err(fail)?;
        Ok(claimed == 1)
    }

    async fn confirm_final(&self, message_id: Uuid) -> Result<()> {
        redis::cmd("HSET")
            .arg(self.message_key(message_id))
            .arg("f")
            .arg("p")
            .query_async::<i64>(&mut self.conn())
            .await
            .map_err(fail)?;
        Ok(())
    }

    async fn final_published(&self, message_id: Uuid) -> Result<bool> {
        let f: Option<String> = redis::cmd("HGET")
            .arg(self.message_key(message_id))
            .arg("f")
            .query_async(&mut self.conn())
            .await
            .map_err(fail)?;
        Ok(f.as_deref() == Some("p"))
    }

    async fn release_final(&self, message_id: Uuid) -> Result<()> {
        redis::cmd("HDEL")
            .arg(self.message_key(message_id))
            .arg("f")
            .query_async::<i64>(&mut self.conn())
            .await
            .map_err(fail)?;
        Ok(())
    }

    async fn probe(&self) -> bool {
        redis::cmd("PING")
            .query_async::<String>(&mut self.conn())
            .await
            .is_ok()
    }
}
