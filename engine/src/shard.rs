//! A fixed set of mutex-guarded shards chosen by key hash: the in-process stores' answer to
//! contention. Each operation locks one shard briefly; 64 shards keep two cores (or sixteen)
//! from meeting on the same lock, and std's futex mutex costs ~20 ns uncontended.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::{Mutex, MutexGuard};

/// The hasher of shard selection and of the maps inside shards: foldhash (seeded per
/// process) instead of SipHash. Keys are SMSC ids and message UUIDs from trusted peers, and
/// the engine bench measured the difference (see the module docs of `correlation::memory`).
pub(crate) type Hasher = foldhash::quality::RandomState;

/// A `HashMap` with the shard hasher.
pub(crate) type Map<K, V> = HashMap<K, V, Hasher>;

/// Number of shards (a power of two).
const SHARDS: usize = 64;

/// `SHARDS` values of `T`, each behind its own lock.
#[derive(Debug)]
pub(crate) struct Shards<T> {
    shards: Box<[Mutex<T>]>,
    hasher: Hasher,
}

impl<T: Default> Shards<T> {
    pub(crate) fn new() -> Shards<T> {
        Shards {
            shards: (0..SHARDS).map(|_| Mutex::new(T::default())).collect(),
            hasher: Hasher::default(),
        }
    }
}

impl<T> Shards<T> {
    /// Locks the shard that owns `key`.
    pub(crate) fn lock<K: Hash + ?Sized>(&self, key: &K) -> MutexGuard<'_, T> {
        let i = self.hasher.hash_one(key) as usize & (SHARDS - 1);
        lock(&self.shards[i])
    }

    /// Every shard in turn (for sweeps and sizes).
    pub(crate) fn each(&self) -> impl Iterator<Item = MutexGuard<'_, T>> {
        self.shards.iter().map(lock)
    }
}

/// A panic while holding a shard leaves plain data behind (no invariant spans two fields
/// that a panic could tear), so a poisoned lock is used as is rather than propagating.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
