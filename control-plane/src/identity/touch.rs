//! Throttles `api_keys.last_used_at` writes: a key's timestamp is written at most once a
//! minute per process, instead of on every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// Minimum gap between two writes for one key.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// When each key was last written by this process.
#[derive(Debug, Default)]
pub struct LastUsed {
    written: Mutex<HashMap<Uuid, Instant>>,
}

impl LastUsed {
    /// True when the key is due a write now (and records that it is being written).
    pub fn due(&self, key: Uuid, now: Instant) -> bool {
        let mut written = self
            .written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if written.len() > 100_000 {
            written.retain(|_, at| now.duration_since(*at) < INTERVAL);
        }
        match written.get(&key) {
            Some(at) if now.duration_since(*at) < INTERVAL => false,
            _ => {
                written.insert(key, now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_per_interval() {
        let t = LastUsed::default();
        let key = Uuid::now_v7();
        let now = Instant::now();
        assert!(t.due(key, now));
        assert!(!t.due(key, now + Duration::from_secs(30)));
        assert!(t.due(key, now + INTERVAL));
        assert!(t.due(Uuid::now_v7(), now));
    }
}
