//! `[engineering]`: the failed-SMS spike notice and where the engines answer.

use secrecy::SecretString;
use serde::Deserialize;

/// `[engineering]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineeringConfig {
    /// Failure rate (failed + expired + rejected over the messages that became final in the
    /// window, 0 to 1) at or above which engineering viewers are told.
    pub failure_spike_rate: f64,
    /// The window, in seconds (aligned to the epoch; at most one notice per window).
    pub failure_spike_window_secs: u64,
    /// Fewest final messages in the window before a rate counts (a handful of failures on a
    /// quiet night is not a spike).
    pub failure_spike_min_finals: i64,
    /// How often the `failure_spike` worker looks, in seconds.
    pub failure_spike_check_secs: u64,
    /// Base URLs of the engines' HTTP ingress (`http://engine-1:8081`), asked for the
    /// receipts they could not match; empty: not configured.
    pub engine_urls: Vec<String>,
    /// The engines' ingress bearer token (`[http] token` of the engine), if they need one.
    pub engine_token: Option<SecretString>,
    /// How long one engine may take to answer, in milliseconds.
    pub engine_timeout_ms: u64,
}

impl Default for EngineeringConfig {
    fn default() -> EngineeringConfig {
        EngineeringConfig {
            failure_spike_rate: 0.2,
            failure_spike_window_secs: 900,
            failure_spike_min_finals: 100,
            failure_spike_check_secs: 60,
            engine_urls: Vec::new(),
            engine_token: None,
            engine_timeout_ms: 2_000,
        }
    }
}
