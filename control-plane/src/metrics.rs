//! Prometheus metrics of the service, all defined here: requests by route and status, latency
//! histograms, database pool usage and the status consumer's events. One registry per `AppState`, no global recorder.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use sqlx::PgPool;

/// The prefix of every metric name.
pub const PREFIX: &str = "semalink_api";

/// The service's metric families.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    status_events: IntCounterVec,
    inbound: IntCounterVec,
    link_clicks: IntCounterVec,
    recent_errors: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<ServerError>>>,
}

/// How many recent server errors are kept in memory.
pub const RECENT_ERRORS: usize = 100;

/// One 5xx answer, kept in memory for the engineering module.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ServerError {
    /// The request id (`x-request-id`), to find its log line.
    pub request_id: String,
    /// Method.
    pub method: String,
    /// Route template.
    pub route: String,
    /// Status.
    pub status: u16,
    /// When (Unix seconds).
    pub at: i64,
}

/// The API's health from its own counters since the process started.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ApiHealth {
    /// Requests answered.
    pub requests: u64,
    /// Of which 5xx.
    pub server_errors: u64,
    /// server_errors / requests (0 without requests).
    pub error_rate: f64,
    /// Median latency in seconds (upper bound of its histogram bucket).
    pub p50_seconds: Option<f64>,
    /// 99th percentile latency in seconds (upper bound of its bucket).
    pub p99_seconds: Option<f64>,
    /// Status events the consumer could not match to a message (receipts without a message).
    pub unmatched_status_events: u64,
}

impl Metrics {
    /// Creates and registers every family.
    pub fn new() -> Metrics {
        let registry = Registry::new_custom(Some(PREFIX.into()), None).expect("valid prefix");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )
        .expect("valid metric");
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )
        .expect("valid metric");
        let status_events = IntCounterVec::new(
            Opts::new(
                "status_events_total",
                "Engine status events taken by the status consumer, by outcome (applied, unchanged, unknown, malformed, failed)",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let inbound = IntCounterVec::new(
            Opts::new(
                "inbound_messages_total",
                "Inbound (MO) messages taken by the inbound consumer, by outcome (stored, unrouted, duplicate, opted_out, opted_in, malformed, failed)",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let link_clicks = IntCounterVec::new(
            Opts::new(
                "link_clicks_total",
                "Short-link clicks by outcome (queued for the writer, dropped because its channel was full, written, lost after failed writes)",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool.clone()),
            Box::new(status_events.clone()),
            Box::new(inbound.clone()),
            Box::new(link_clicks.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric registered once");
        }
        Metrics {
            registry,
            requests,
            latency,
            pool,
            status_events,
            inbound,
            link_clicks,
            recent_errors: Default::default(),
        }
    }

    /// Keeps a 5xx answer in the ring of the last [`RECENT_ERRORS`].
    pub fn record_server_error(&self, error: ServerError) {
        let mut ring = self.recent_errors.lock().unwrap_or_else(|e| e.into_inner());
        if ring.len() == RECENT_ERRORS {
            ring.pop_front();
        }
        ring.push_back(error);
    }

    /// The recent server errors, newest first.
    pub fn recent_server_errors(&self) -> Vec<ServerError> {
        let ring = self.recent_errors.lock().unwrap_or_else(|e| e.into_inner());
        ring.iter().rev().cloned().collect()
    }

    /// Request totals, error rate and latency percentiles from the counters.
    pub fn health(&self) -> ApiHealth {
        use prometheus::core::Collector;
        let (mut requests, mut server_errors) = (0u64, 0u64);
        for family in self.requests.collect() {
            for m in family.get_metric() {
                let n = m.get_counter().get_value() as u64;
                requests += n;
                let status = m
                    .get_label()
                    .iter()
                    .find(|l| l.name() == "status")
                    .map(|l| l.value().to_owned())
                    .unwrap_or_default();
                if status.starts_with('5') {
                    server_errors += n;
                }
            }
        }
        let mut buckets: Vec<(f64, u64)> = Vec::new();
        let mut total = 0u64;
        for family in self.latency.collect() {
            for m in family.get_metric() {
                let h = m.get_histogram();
                total += h.get_sample_count();
                for (i, b) in h.get_bucket().iter().enumerate() {
                    match buckets.get_mut(i) {
                        Some(slot) => slot.1 += b.cumulative_count(),
                        None => buckets.push((b.upper_bound(), b.cumulative_count())),
                    }
                }
            }
        }
        let quantile = |q: f64| {
            let wanted = (total as f64 * q).ceil() as u64;
            (total > 0).then(|| {
                buckets
                    .iter()
                    .find(|(_, count)| *count >= wanted)
                    .map_or(f64::INFINITY, |(bound, _)| *bound)
            })
        };
        let unmatched = self.status_events.with_label_values(&["unknown"]).get();
        ApiHealth {
            requests,
            server_errors,
            error_rate: if requests == 0 {
                0.0
            } else {
                server_errors as f64 / requests as f64
            },
            p50_seconds: quantile(0.5),
            p99_seconds: quantile(0.99),
            unmatched_status_events: unmatched,
        }
    }

    /// Counts `n` inbound messages that ended with `outcome`.
    pub fn inbound_messages(&self, outcome: &str, n: usize) {
        if n > 0 {
            self.inbound
                .with_label_values(&[outcome])
                .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
        }
    }

    /// Counts `n` status events that ended with `outcome`.
    pub fn status_events(&self, outcome: &str, n: usize) {
        if n > 0 {
            self.status_events
                .with_label_values(&[outcome])
                .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
        }
    }

    /// Counts `n` short-link clicks that ended with `outcome`.
    pub fn link_clicks(&self, outcome: &str, n: usize) {
        if n > 0 {
            self.link_clicks
                .with_label_values(&[outcome])
                .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
        }
    }

    /// Records one finished request.
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The name of every metric family the service exports, sampled or not (dashboards and
    /// alert rules are checked against it).
    pub fn family_names(&self) -> Vec<String> {
        let collectors: [&dyn prometheus::core::Collector; 6] = [
            &self.requests,
            &self.latency,
            &self.pool,
            &self.status_events,
            &self.inbound,
            &self.link_clicks,
        ];
        collectors
            .iter()
            .flat_map(|c| c.desc())
            .map(|d| format!("{PREFIX}_{}", d.fq_name))
            .collect()
    }

    /// Renders the text exposition format, sampling the pool first.
    pub fn render(&self, pool: &PgPool) -> String {
        let size = i64::from(pool.size());
        let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
        self.pool.with_label_values(&["idle"]).set(idle);
        self.pool.with_label_values(&["in_use"]).set(size - idle);
        self.pool
            .with_label_values(&["max"])
            .set(i64::from(pool.options().get_max_connections()));
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for text.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}
