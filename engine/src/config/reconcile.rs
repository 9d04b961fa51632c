//! `[reconcile]`: parts whose final receipt never comes. After a wait (the message's validity
//! period when it had one, else `default_wait_secs`, or `wait_secs` for every part) a part
//! still without a final receipt is asked for with `query_sm` on an upstream that answers it
//! (`upstreams[].query_sm = true`), else — or when the answer is not final after
//! `max_queries` — it is expired with reason `no_receipt`, so every message reaches a final
//! state and its reservation is settled.

use std::time::Duration;

use serde::Deserialize;

/// Reconciliation settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReconcileConfig {
    /// Wait after `sent` for every part; absent = the message's validity period when it has
    /// one, else `default_wait_secs`.
    pub wait_secs: Option<u64>,
    /// Wait for parts of messages without a validity period (48 h).
    pub default_wait_secs: u64,
    /// `query_sm` per second per upstream at most (its own budget: the route buckets that
    /// pace submits are never touched).
    pub rate: f64,
    /// Wait before asking again when the answer was not final.
    pub recheck_secs: u64,
    /// Answers that were not final before the part is expired.
    pub max_queries: u32,
    /// How often due parts are looked for.
    pub period_ms: u64,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        ReconcileConfig {
            wait_secs: None,
            default_wait_secs: 48 * 3600,
            rate: 5.0,
            recheck_secs: 3600,
            max_queries: 3,
            period_ms: 1000,
        }
    }
}

impl ReconcileConfig {
    /// The wait for a part whose message expires `validity` after it was sent (if it does).
    pub fn wait(&self, validity: Option<Duration>) -> Duration {
        match (self.wait_secs, validity) {
            (Some(secs), _) => Duration::from_secs(secs),
            (None, Some(v)) => v,
            (None, None) => Duration::from_secs(self.default_wait_secs),
        }
    }
}
