//! The shared correlation store: the store contract on both stores (in-process and the real
//! Redis of this machine), several store instances and engines on one Redis key prefix, and
//! a private Redis that is killed and restarted.
//!
//! Tests on the shared Redis (127.0.0.1:6379) use a fresh key prefix each and delete their
//! keys at the end; they never flush. The restart test runs its own `redis-server`.

mod engines;
mod intents;
mod reconcile;
mod restart;
mod store;

use std::time::Duration;

use semalink_engine::config::{RedisConfig, Secret};
use semalink_engine::correlation::RedisStore;

/// The shared Redis of the machine.
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A key prefix no other test (or engineer) uses.
pub fn prefix() -> String {
    format!("sl-test-{:016x}:", fastrand::u64(..))
}

/// A Redis config for `url` and `prefix` with a mapping TTL of `ttl`.
pub fn redis_config(url: &str, prefix: &str, ttl: Duration) -> RedisConfig {
    RedisConfig {
        url: Secret::new(url),
        key_prefix: prefix.to_owned(),
        mapping_ttl_secs: ttl.as_secs(),
    }
}

/// A Redis store on the shared Redis under `prefix`.
pub fn redis_store(prefix: &str, ttl: Duration, parked_ttl: Duration) -> RedisStore {
    RedisStore::new(&redis_config(REDIS_URL, prefix, ttl), parked_ttl).unwrap()
}

/// Deletes every key under `prefix` on the shared Redis.
pub async fn cleanup(prefix: &str) {
    let client = redis::Client::open(REDIS_URL).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .unwrap();
        if !keys.is_empty() {
            redis::cmd("DEL")
                .arg(&keys)
                .query_async::<i64>(&mut conn)
                .await
                .unwrap();
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
}
