//! The redirect cache: code → target, bounded, in memory, no extra dependency. Sixteen
//! shards, each a `RwLock<HashMap>`; a hit takes a shard's read lock and sets the entry's
//! "used" bit. When a shard is full, an insert evicts with the CLOCK (second chance) rule —
//! entries used since the last sweep are spared once — which approximates LRU without a
//! linked list. Entries expire after their TTL; unknown codes are cached too, briefly, so a
//! scan of random codes costs one query per code per `negative_ttl`.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use std::sync::Arc;

const SHARDS: usize = 16;

/// Where a code leads: the long URL.
pub type Target = Arc<str>;

struct Entry {
    target: Option<Target>,
    expires: Instant,
    used: AtomicBool,
}

struct Shard {
    map: HashMap<String, Entry>,
}

/// The cache. Share it behind an `Arc`.
pub struct Cache {
    shards: Vec<RwLock<Shard>>,
    per_shard: usize,
    ttl: Duration,
    negative_ttl: Duration,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("per_shard", &self.per_shard)
            .finish_non_exhaustive()
    }
}

/// What the cache knows of a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Not cached (or expired): ask the database.
    Miss,
    /// Known to exist.
    Found(Target),
    /// Known not to exist.
    Unknown,
}

fn shard_of(code: &str) -> usize {
    // Codes are uniformly random: their bytes are a good enough hash.
    code.bytes().fold(0usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(b))
    }) % SHARDS
}

impl Cache {
    /// A cache of about `capacity` codes.
    pub fn new(capacity: usize, ttl: Duration, negative_ttl: Duration) -> Cache {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        Cache {
            shards: (0..SHARDS)
                .map(|_| {
                    RwLock::new(Shard {
                        map: HashMap::with_capacity(per_shard.min(4096)),
                    })
                })
                .collect(),
            per_shard,
            ttl,
            negative_ttl,
        }
    }

    /// What is known of `code` now.
    pub fn get(&self, code: &str) -> Lookup {
        let shard = self.shards[shard_of(code)]
            .read()
            .unwrap_or_else(|e| e.into_inner());
        match shard.map.get(code) {
            Some(e) if e.expires > Instant::now() => {
                e.used.store(true, Ordering::Relaxed);
                match &e.target {
                    Some(t) => Lookup::Found(t.clone()),
                    None => Lookup::Unknown,
                }
            }
            _ => Lookup::Miss,
        }
    }

    /// Remembers what the database said of `code` (`None`: no such code).
    pub fn put(&self, code: &str, target: Option<Target>) {
        let ttl = if target.is_some() {
            self.ttl
        } else {
            self.negative_ttl
        };
        let mut shard = self.shards[shard_of(code)]
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if shard.map.len() >= self.per_shard && !shard.map.contains_key(code) {
            evict(&mut shard.map);
        }
        shard.map.insert(
            code.to_owned(),
            Entry {
                target,
                expires: Instant::now() + ttl,
                used: AtomicBool::new(false),
            },
        );
    }

    /// Codes cached now (tests, metrics).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|e| e.into_inner()).map.len())
            .sum()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Removes one entry: an expired one or one not used since the last sweep; entries used
/// meanwhile lose their bit (their second chance). Two sweeps at most.
fn evict(map: &mut HashMap<String, Entry>) {
    let now = Instant::now();
    let mut victim = None;
    for _ in 0..2 {
        for (code, e) in map.iter() {
            if e.expires <= now || !e.used.swap(false, Ordering::Relaxed) {
                victim = Some(code.clone());
                break;
            }
        }
        if victim.is_some() {
            break;
        }
    }
    if let Some(code) = victim.or_else(|| map.keys().next().cloned()) {
        map.remove(&code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(n: u128) -> Target {
        format!("https://example.com/{n}").into()
    }

    #[test]
    fn hits_misses_unknowns_and_expiry() {
        let c = Cache::new(100, Duration::from_secs(60), Duration::ZERO);
        assert_eq!(c.get("Ab3dE9x"), Lookup::Miss);
        c.put("Ab3dE9x", Some(target(1)));
        assert_eq!(c.get("Ab3dE9x"), Lookup::Found(target(1)));
        c.put("Zz00000", None);
        // A zero negative TTL has expired at once.
        assert_eq!(c.get("Zz00000"), Lookup::Miss);
        let c = Cache::new(100, Duration::from_secs(60), Duration::from_secs(60));
        c.put("Zz00000", None);
        assert_eq!(c.get("Zz00000"), Lookup::Unknown);
    }

    #[test]
    fn it_stays_bounded_and_spares_what_is_used() {
        let c = Cache::new(SHARDS * 4, Duration::from_secs(60), Duration::from_secs(60));
        let hot = "HOT0000";
        c.put(hot, Some(target(0)));
        for n in 1..2000u128 {
            c.put(&format!("{n:07}"), Some(target(n)));
            assert!(c.get(hot) != Lookup::Miss, "the hot code survives ({n})");
        }
        assert!(c.len() <= SHARDS * 4, "{}", c.len());
    }
}
