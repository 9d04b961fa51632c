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
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool.clone()),
            Box::new(status_events.clone()),
            Box::new(inbound.clone()),
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
        let collectors: [&dyn prometheus::core::Collector; 5] = [
            &self.requests,
            &self.latency,
            &self.pool,
            &self.status_events,
            &self.inbound,
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
