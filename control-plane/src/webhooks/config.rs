//! `[webhooks]`: the sender's pool, timeouts, retry schedule and the SSRF allow-list.

use std::time::Duration;

use serde::Deserialize;

/// How webhooks are delivered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Deliveries in flight at once per process (each endpoint also has its own limit).
    pub concurrency: usize,
    /// Deliveries claimed per query at most.
    pub batch: usize,
    /// How often an idle sender looks for due deliveries.
    pub poll_interval_ms: u64,
    /// TCP (and TLS) connect deadline.
    pub connect_timeout_ms: u64,
    /// Whole-attempt deadline: connect, request, status and the body excerpt.
    pub timeout_ms: u64,
    /// A claimed delivery's lease: after it a crashed sender's delivery is taken again.
    pub lease_secs: u64,
    /// First retry delay; each failure doubles it (jittered), up to `retry_max_ms`.
    pub retry_min_ms: u64,
    /// Longest delay between two attempts.
    pub retry_max_ms: u64,
    /// How long a delivery is retried (from the event, or from a replay).
    pub retry_window_secs: u64,
    /// An endpoint whose every attempt failed for this long is disabled.
    pub disable_after_secs: u64,
    /// Accept `http://` URLs — development only (refused otherwise; see `Config::validate`).
    pub allow_http: bool,
    /// Networks exempt from the SSRF guard (CIDR, e.g. `127.0.0.0/8` for a local receiver in
    /// development). Empty in production.
    pub allowed_networks: Vec<String>,
    /// Default rotation overlap: how long the previous secret keeps signing.
    pub rotation_overlap_secs: u64,
}

impl Default for WebhooksConfig {
    fn default() -> WebhooksConfig {
        WebhooksConfig {
            concurrency: 256,
            batch: 500,
            poll_interval_ms: 250,
            connect_timeout_ms: 5_000,
            timeout_ms: 15_000,
            lease_secs: 60,
            retry_min_ms: 5_000,
            retry_max_ms: 3_600_000,
            retry_window_secs: 24 * 3600,
            disable_after_secs: 24 * 3600,
            allow_http: false,
            allowed_networks: Vec::new(),
            rotation_overlap_secs: 24 * 3600,
        }
    }
}

impl WebhooksConfig {
    /// The wait before attempt `failures + 1` after `failures` failed attempts: the retry
    /// back-off (jittered doubling from `retry_min_ms`, capped at `retry_max_ms`).
    pub fn retry_delay(&self, failures: u32) -> Duration {
        semalink_bus::Backoff::new(
            Duration::from_millis(self.retry_min_ms),
            Duration::from_millis(self.retry_max_ms),
        )
        .wait_after(failures)
    }

    /// A range problem, if any.
    pub fn invalid(&self) -> Option<&'static str> {
        if self.concurrency == 0 || self.batch == 0 {
            return Some("webhooks.concurrency and webhooks.batch must be positive");
        }
        if self.timeout_ms == 0
            || self.connect_timeout_ms == 0
            || self.lease_secs * 1000 <= self.timeout_ms
        {
            return Some(
                "webhooks timeouts must be positive and lease_secs longer than timeout_ms",
            );
        }
        if crate::webhooks::ssrf::Guard::new(self).is_err() {
            return Some("webhooks.allowed_networks holds a value that is not a CIDR");
        }
        None
    }
}
