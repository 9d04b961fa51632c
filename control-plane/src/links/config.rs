//! `[links]`: the short-link domain, the redirect cache, the click channel and the bot rules.

use serde::Deserialize;

/// How short links are made, answered and counted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinksConfig {
    /// The short URLs' origin, without a trailing slash: `{domain}/{code}`. Point it (DNS or
    /// the proxy) at the API's listener, which answers `GET /{code}`.
    pub domain: String,
    /// Codes kept in the redirect cache at most (unknown codes included, briefly).
    pub cache_capacity: usize,
    /// How long a cached code is trusted.
    pub cache_ttl_secs: u64,
    /// How long an unknown code is remembered as unknown.
    pub negative_ttl_secs: u64,
    /// Clicks waiting for the batch writer at most; a click that finds it full is dropped
    /// and counted (`semalink_api_link_clicks_total{outcome="dropped"}`).
    pub click_queue: usize,
    /// Clicks written per statement at most.
    pub click_batch: usize,
    /// How long the writer gathers clicks before writing what it has.
    pub flush_ms: u64,
    /// A click this soon after delivery (or before it) is a link previewer's, not a person's.
    pub preview_window_ms: u64,
    /// User-agent substrings counted as bots, besides the built-in list (case-insensitive).
    pub bot_user_agents: Vec<String>,
}

impl Default for LinksConfig {
    fn default() -> LinksConfig {
        LinksConfig {
            domain: "https://sl.example".into(),
            cache_capacity: 100_000,
            cache_ttl_secs: 3600,
            negative_ttl_secs: 30,
            click_queue: 65_536,
            click_batch: 1_000,
            flush_ms: 200,
            preview_window_ms: 1_000,
            bot_user_agents: Vec::new(),
        }
    }
}

impl LinksConfig {
    /// A range problem, if any.
    pub fn invalid(&self) -> Option<&'static str> {
        let d = &self.domain;
        let scheme = d.starts_with("https://") || d.starts_with("http://");
        let host = d.split_once("://").map_or("", |(_, h)| h);
        if !scheme
            || host.is_empty()
            || d.ends_with('/')
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        {
            return Some(
                "links.domain must be an origin like https://sl.example (no path, no trailing /)",
            );
        }
        if self.cache_capacity == 0 || self.click_queue == 0 || self.click_batch == 0 {
            return Some("links.cache_capacity, click_queue and click_batch must be positive");
        }
        None
    }
}
