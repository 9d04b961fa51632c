//! The engine's typed configuration: `configs/engine.toml` plus environment overrides
//! (see [`env`]), validated at start so a bad value stops the engine with a message naming
//! the key. Every struct denies unknown keys, so a misspelt key is an error, not a silent
//! default. Durations are integers with their unit in the key name (`_ms`, `_secs`).

pub mod env;
mod secret;
mod validate;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

pub use semalink_bus::QueueType;
use semalink_bus::{Topology, topology};
use semalink_protocol::msgid::IdPolicy;
use semalink_protocol::segment::{ConcatMethod, Encoding, SegmentOptions};
use serde::Deserialize;

use crate::error::{Error, Result};
pub use secret::Secret;

/// The whole engine configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// HTTP ingress, `/metrics`, `/health`, `/ready`.
    pub http: HttpConfig,
    /// The SMPP upstreams, at least one; names are unique.
    pub upstreams: Vec<UpstreamConfig>,
    /// Operator and country routes; the most specific match wins.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// The route for destinations no rule matches.
    pub default_route: RouteTarget,
    /// Retries of transient failures.
    #[serde(default)]
    pub retry: RetryConfig,
    /// The correlation store.
    #[serde(default)]
    pub correlation: CorrelationConfig,
    /// The shared correlation store; absent → the in-process store.
    #[serde(default)]
    pub redis: Option<RedisConfig>,
    /// Graceful shutdown.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// RabbitMQ work and status queues; absent = embedded mode (HTTP ingress and the
    /// in-process status channel only).
    #[serde(default)]
    pub amqp: Option<AmqpConfig>,
}

/// HTTP listener settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Listen address, e.g. `127.0.0.1:8090`.
    pub listen: SocketAddr,
    /// Capacity of the queue between ingress and the dispatcher (back-pressure beyond it).
    #[serde(default = "default_queue")]
    pub queue_capacity: usize,
    /// Most requests accepted in one batch POST.
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
}

/// How binds of an upstream are opened (SMPP 3.4 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindType {
    /// One `bind_transceiver` per bind: submits and receipts on one session.
    Transceiver,
    /// A `bind_transmitter` and a `bind_receiver` per bind.
    TransmitterReceiver,
}

/// How GSM-7 text is put on the wire for this upstream (SMS-FACTS: upstreams differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataCoding {
    /// `data_coding` 0x00 with one septet per octet (most upstreams).
    #[default]
    SmscDefault,
    /// `data_coding` 0x00 with septets packed 8 into 7 octets.
    SmscDefaultPacked,
    /// `data_coding` 0x01 (IA5), unpacked septets.
    Ia5,
}

impl DataCoding {
    /// The `data_coding` octet for GSM-7 parts (UCS-2 parts always use 0x08).
    pub fn gsm7_data_coding(self) -> u8 {
        match self {
            DataCoding::SmscDefault | DataCoding::SmscDefaultPacked => 0x00,
            DataCoding::Ia5 => 0x01,
        }
    }

    /// Whether GSM-7 septets are packed.
    pub fn packed(self) -> bool {
        self == DataCoding::SmscDefaultPacked
    }
}

/// One SMPP upstream: its session settings (mapped to the bind pool's `SessionConfig`) and its
/// message policies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Unique name, used in routes, metrics and status events.
    pub name: String,
    /// SMSC host name or address.
    pub host: String,
    /// SMSC port.
    pub port: u16,
    /// `system_id` of the bind.
    pub system_id: String,
    /// `password` of the bind (never printed).
    pub password: Secret,
    /// `system_type` of the bind.
    #[serde(default)]
    pub system_type: String,
    /// Transceiver, or transmitter + receiver.
    #[serde(default = "default_bind_type")]
    pub bind_type: BindType,
    /// Number of binds (sessions; each transmitter+receiver pair counts once).
    #[serde(default = "default_binds")]
    pub binds: u32,
    /// Outstanding requests per bind.
    #[serde(default = "default_window")]
    pub window: u32,
    /// `enquire_link` interval.
    #[serde(default = "default_enquire_link_ms")]
    pub enquire_link_ms: u64,
    /// How long to wait for a response PDU.
    #[serde(default = "default_response_timeout_ms")]
    pub response_timeout_ms: u64,
    /// First reconnect delay (jittered, doubling).
    #[serde(default = "default_reconnect_min_ms")]
    pub reconnect_min_ms: u64,
    /// Longest reconnect delay.
    #[serde(default = "default_reconnect_max_ms")]
    pub reconnect_max_ms: u64,
    /// How `submit_sm_resp` ids relate to receipt ids.
    #[serde(default)]
    pub id_policy: IdPolicy,
    /// Cap on submits per second over all routes using this upstream; absent = no cap.
    #[serde(default)]
    pub tps_cap: Option<f64>,
    /// GSM-7 wire form.
    #[serde(default)]
    pub data_coding: DataCoding,
    /// How long-message parts are tied together.
    #[serde(default)]
    pub concat: ConcatMethod,
}

impl UpstreamConfig {
    /// [`Self::enquire_link_ms`] as a duration.
    pub fn enquire_link(&self) -> Duration {
        Duration::from_millis(self.enquire_link_ms)
    }
    /// [`Self::response_timeout_ms`] as a duration.
    pub fn response_timeout(&self) -> Duration {
        Duration::from_millis(self.response_timeout_ms)
    }
    /// How to split text for this upstream (concatenation method, packing).
    pub fn segment_options(&self) -> SegmentOptions {
        SegmentOptions {
            method: self.concat,
            packed: self.data_coding.packed(),
            ..SegmentOptions::default()
        }
    }

    /// The `data_coding` to send for a part the splitter encoded as `encoding` (GSM-7 parts
    /// follow the upstream's preference; UCS-2 is always 0x08).
    pub fn wire_data_coding(&self, encoding: Encoding) -> u8 {
        match encoding {
            Encoding::Gsm7 => self.data_coding.gsm7_data_coding(),
            Encoding::Ucs2 => encoding.data_coding(),
        }
    }

    /// Reconnect back-off bounds.
    pub fn reconnect_backoff(&self) -> (Duration, Duration) {
        (
            Duration::from_millis(self.reconnect_min_ms),
            Duration::from_millis(self.reconnect_max_ms),
        )
    }
}

/// A route rule: which destinations it matches and where they go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Operator id (`ke-safaricom`); exactly one of `mno` and `country`.
    #[serde(default)]
    pub mno: Option<String>,
    /// ISO 3166-1 alpha-2 country (`KE`); exactly one of `mno` and `country`.
    #[serde(default)]
    pub country: Option<String>,
    /// The upstream's name.
    pub upstream: String,
    /// Submits per second (the maximum when adaptive).
    pub rate: f64,
    /// Submits allowed at once after an idle spell.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Lower the rate on throttle replies and probe back up (AIMD).
    #[serde(default)]
    pub adaptive: bool,
    /// The adaptive rate never goes below this; default 5% of `rate` (at least 1/s).
    #[serde(default)]
    pub min_rate: Option<f64>,
}

impl RouteConfig {
    /// Where and how fast this rule sends (serde's `flatten` cannot be combined with
    /// `deny_unknown_fields`, hence the copy).
    pub fn target(&self) -> RouteTarget {
        RouteTarget {
            upstream: self.upstream.clone(),
            rate: self.rate,
            burst: self.burst,
            adaptive: self.adaptive,
            min_rate: self.min_rate,
        }
    }
}

/// Where a route sends messages, and how fast.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteTarget {
    /// The upstream's name.
    pub upstream: String,
    /// Submits per second (the maximum when adaptive).
    pub rate: f64,
    /// Submits allowed at once after an idle spell.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Lower the rate on throttle replies and probe back up (AIMD).
    #[serde(default)]
    pub adaptive: bool,
    /// The adaptive rate never goes below this; default 5% of `rate` (at least 1/s).
    #[serde(default)]
    pub min_rate: Option<f64>,
}

impl RouteTarget {
    /// The floor of the adaptive rate.
    pub fn floor(&self) -> f64 {
        self.min_rate
            .unwrap_or((self.rate * 0.05).max(1.0))
            .min(self.rate)
    }
}

/// Retry policy for transient errors (throttling is retried without limit).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts for transient errors and response timeouts, the first included.
    pub max_attempts: u32,
    /// First retry delay (doubling, jittered).
    pub backoff_min_ms: u64,
    /// Longest retry delay.
    pub backoff_max_ms: u64,
    /// `command_status` values to treat as permanent on top of the built-in list (a vendor's
    /// own "invalid number" code, say).
    #[serde(default)]
    pub permanent_status: Vec<u32>,
    /// `command_status` values to treat as transient even if the built-in list says
    /// permanent.
    #[serde(default)]
    pub transient_status: Vec<u32>,
}

/// Correlation-store settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrelationConfig {
    /// How long an SMSC id stays matchable after its `submit_sm_resp` (receipts can take days).
    pub ttl_secs: u64,
    /// How long a receipt waits for its `submit_sm_resp` before it is reported unmatched.
    pub parked_ttl_secs: u64,
}

/// The Redis correlation store, shared by every engine process with the same `url` and
/// `key_prefix`. `SEMALINK_ENGINE__REDIS__URL` alone turns it on (the other keys default).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` (never printed: it may hold a password).
    pub url: Secret,
    /// Prefix of every key, so several deployments (or tests) share one Redis.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
    /// How long an SMSC id stays matchable after its `submit_sm_resp` (replaces
    /// `correlation.ttl_secs` for this store); also the life of the per-message records.
    #[serde(default = "default_mapping_ttl_secs")]
    pub mapping_ttl_secs: u64,
}

/// RabbitMQ settings (`[amqp]`). Every key has a default, so
/// `SEMALINK_ENGINE__AMQP__URL=...` alone turns the RabbitMQ mode on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AmqpConfig {
    /// Broker URL (`amqp://user:pass@host:5672/%2f`; never printed).
    pub url: Secret,
    /// Submit requests of the `high` lane (durable; consumed first).
    pub priority_queue: String,
    /// Submit requests of the `normal` lane (durable).
    pub normal_queue: String,
    /// Where status events are published (durable, persistent messages, publisher confirms).
    pub status_queue: String,
    /// Where mobile-originated messages are published.
    pub inbound_queue: String,
    /// Messages in flight in the engine (taken, not yet settled), which is also the normal
    /// queue consumer's prefetch (the priority consumer's is twice as much); 0 = twice the
    /// windows of all upstreams.
    pub prefetch: u16,
    /// Delays of the broker-side retry queues, one per retry, the last one repeating: a
    /// message deferred for the n-th time waits `retry_delays_ms[n-1]` in the queue
    /// `<queue>.retry.<delay>ms` (message TTL, dead-lettered back to `<queue>`).
    pub retry_delays_ms: Vec<u64>,
    /// Deliveries of one message through the queues (the first included) before it is given
    /// up with a `failed` status event.
    pub max_attempts: u32,
    /// `ESME_RTHROTTLED` / `ESME_RMSGQFUL` answers one segment retries in-process (with the
    /// `[retry]` back-off) before its message goes to the retry queue.
    pub throttle_retries: u32,
    /// How long a segment waits in-process for a bind of its upstream before its message
    /// goes to the retry queue.
    pub no_bind_wait_ms: u64,
    /// First reconnect delay after the broker connection is lost (jittered, doubling).
    pub reconnect_min_ms: u64,
    /// Longest reconnect delay.
    pub reconnect_max_ms: u64,
    /// `classic` (default) or `quorum` (replicated; what a RabbitMQ cluster runs). Changing it
    /// on an existing broker needs the queues drained and deleted first.
    pub queue_type: QueueType,
    /// Quorum queues: deliveries of one message before the broker drops it (0 = no limit).
    pub delivery_limit: u32,
    /// Status events / MO messages per published envelope at most.
    pub batch_max_items: usize,
    /// How long the first event of an envelope waits for more before it is published. 0 (the
    /// default): no waiting — an envelope carries what queued up while the previous ones were
    /// being confirmed, so envelopes grow with the load and an idle engine adds no latency.
    pub batch_linger_ms: u64,
    /// Envelopes published and not yet confirmed, per publisher; with no linger this is what
    /// makes events queue up into envelopes under load.
    pub batch_in_flight: usize,
}

impl Default for AmqpConfig {
    fn default() -> Self {
        AmqpConfig {
            url: Secret::new("amqp://guest:guest@127.0.0.1:5672/%2f"),
            priority_queue: topology::PRIORITY_QUEUE.into(),
            normal_queue: topology::NORMAL_QUEUE.into(),
            status_queue: topology::STATUS_QUEUE.into(),
            inbound_queue: topology::INBOUND_QUEUE.into(),
            prefetch: 0,
            retry_delays_ms: vec![1_000, 5_000, 30_000, 120_000],
            max_attempts: 10,
            throttle_retries: 3,
            no_bind_wait_ms: 2_000,
            reconnect_min_ms: 200,
            reconnect_max_ms: 10_000,
            queue_type: QueueType::Classic,
            delivery_limit: 0,
            batch_max_items: 500,
            batch_linger_ms: 0,
            batch_in_flight: 4,
        }
    }
}

impl AmqpConfig {
    /// The delay before retry number `retry` (1 for the first).
    pub fn retry_delay(&self, retry: u32) -> Duration {
        let i = (retry.max(1) as usize - 1).min(self.retry_delays_ms.len().saturating_sub(1));
        Duration::from_millis(self.retry_delays_ms.get(i).copied().unwrap_or(1_000))
    }

    /// The retry queue of `queue` with `delay` (named by the bus's topology).
    pub fn retry_queue(queue: &str, delay: Duration) -> String {
        topology::retry_queue(queue, delay)
    }

    /// The bus topology of this config.
    pub fn topology(&self) -> Topology {
        Topology {
            priority: self.priority_queue.clone(),
            normal: self.normal_queue.clone(),
            status: self.status_queue.clone(),
            inbound: self.inbound_queue.clone(),
            queue_type: self.queue_type,
            delivery_limit: self.delivery_limit,
            ..Topology::default()
        }
        .with_delays(&self.retry_delays_ms)
    }
}

/// Graceful-shutdown settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownConfig {
    /// Time allowed to settle windows and unbind after SIGTERM.
    pub deadline_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 5,
            backoff_min_ms: 200,
            backoff_max_ms: 30_000,
            permanent_status: Vec::new(),
            transient_status: Vec::new(),
        }
    }
}

impl Default for CorrelationConfig {
    fn default() -> Self {
        CorrelationConfig {
            ttl_secs: 72 * 3600,
            parked_ttl_secs: 600,
        }
    }
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig {
            deadline_ms: 15_000,
        }
    }
}

fn default_queue() -> usize {
    65_536
}
fn default_max_batch() -> usize {
    1_000
}
fn default_bind_type() -> BindType {
    BindType::Transceiver
}
fn default_binds() -> u32 {
    1
}
fn default_window() -> u32 {
    10
}
fn default_enquire_link_ms() -> u64 {
    30_000
}
fn default_response_timeout_ms() -> u64 {
    10_000
}
fn default_reconnect_min_ms() -> u64 {
    500
}
fn default_reconnect_max_ms() -> u64 {
    30_000
}
fn default_burst() -> u32 {
    1
}
fn default_key_prefix() -> String {
    "sl:".into()
}
fn default_mapping_ttl_secs() -> u64 {
    72 * 3600
}

impl Config {
    /// Reads `path`, applies the process environment's overrides and validates.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml(&text, std::env::vars())
    }

    /// Parses `text`, applies the overrides among `vars` (see [`env`]) and validates.
    pub fn from_toml(
        text: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| Error::ConfigSyntax(e.to_string()))?;
        env::apply(&mut table, vars)?;
        let config: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| Error::ConfigSyntax(format!("{}: {}", e.path(), e.inner())))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: ranges, references between sections, operator ids.
    pub fn validate(&self) -> Result<()> {
        validate::config(self)
    }

    /// The index of the upstream called `name`.
    pub fn upstream_index(&self, name: &str) -> Option<usize> {
        self.upstreams.iter().position(|u| u.name == name)
    }
}

#[cfg(test)]
mod tests;
