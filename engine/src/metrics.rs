//! Every Prometheus metric the engine exports, defined in one place, on a registry owned by
//! [`Metrics`] (no global state), and [`Metrics::render`] for `GET /metrics`.
//!
//! Labels: `upstream` is the upstream's configured name, `route` the route label
//! (`mno:ke-safaricom`, `country:KE`, `default`), `command_status` the SMPP status as
//! `0x%08X` (SMPP 3.4 §5.1.3), `stat` the receipt's stat word. Label sets are small and
//! bounded by the config (no message or account ids).

use std::cell::RefCell;

use prometheus::{GaugeVec, core::Collector};
use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder, exponential_buckets,
};

/// The metric handles.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Every family's exported name, sampled or not (dashboards and alert rules are checked
    /// against it).
    families: Vec<String>,
    /// `semalink_engine_submits_total{upstream,route}`: `submit_sm` PDUs sent.
    pub submits: IntCounterVec,
    /// `semalink_engine_submit_responses_total{upstream,command_status}`.
    pub responses: IntCounterVec,
    /// `semalink_engine_receipts_total{upstream,stat}`: delivery receipts received.
    pub receipts: IntCounterVec,
    /// `semalink_engine_retries_total{route,reason}`: reason `throttled`, `transient`,
    /// `timeout` or `bind_lost`.
    pub retries: IntCounterVec,
    /// `semalink_engine_throttle_waits_total{route}`: submits that had to wait for a token.
    pub throttle_waits: IntCounterVec,
    /// `semalink_engine_throttle_wait_seconds_total{route}`: time spent waiting, in seconds.
    pub throttle_wait_seconds: prometheus::CounterVec,
    /// `semalink_engine_route_rate{route}`: the route's current rate (adaptive routes move).
    pub route_rate: GaugeVec,
    /// `semalink_engine_window_occupancy{upstream,bind}`: outstanding requests per bind.
    pub window_occupancy: IntGaugeVec,
    /// `semalink_engine_binds{upstream,state}`: binds `up` and `down`.
    pub binds: IntGaugeVec,
    /// `semalink_engine_reconnects_total{upstream}`.
    pub reconnects: IntCounterVec,
    /// `semalink_engine_correlation_mappings`: live SMSC id → segment mappings.
    pub correlation_mappings: IntGauge,
    /// `semalink_engine_correlation_parked`: receipts waiting for their `submit_sm_resp`.
    pub correlation_parked: IntGauge,
    /// `semalink_engine_unmatched_receipts_total`: parked receipts that never matched.
    pub unmatched_receipts: IntCounter,
    /// `semalink_engine_ingress_total{result}`: `accepted`, `rejected`, `duplicate`.
    pub ingress: IntCounterVec,
    /// `semalink_engine_status_events_total{state}`: status events published.
    pub status_events: IntCounterVec,
    /// `semalink_engine_inbound_total{upstream}`: mobile-originated messages.
    pub inbound: IntCounterVec,
    /// `semalink_engine_amqp_total{event}`: RabbitMQ deliveries and their ends — `delivered`,
    /// `redelivered` (a copy of a message already in flight), `already_decided`,
    /// `undecodable`, `acked`, `deferred`, `gave_up`, `requeued`.
    pub amqp: IntCounterVec,
    /// `semalink_engine_accept_to_sent_seconds{upstream}`: accepted → last `submit_sm_resp`.
    pub accept_to_sent: HistogramVec,
    /// `semalink_engine_accept_to_final_seconds{state}`: accepted → final outcome.
    pub accept_to_final: HistogramVec,
    /// `semalink_engine_redelivered_segments_total{result}`: segments of a message that came
    /// a second time: `skipped` (the store recorded their acceptance) or `resubmitted` (no
    /// record: never sent, or accepted just before a crash — the duplicate window).
    pub redelivered_segments: IntCounterVec,
    /// `semalink_engine_receipts_deferred_total{reason}`: receipts answered "retry later"
    /// because the correlation store (`store`) or the sink (`sink`) failed.
    pub receipts_deferred: IntCounterVec,
    /// `semalink_engine_reconciled_total{upstream,result}`: parts without a final receipt
    /// asked for with `query_sm`: `final` (the answer decided the part), `not_final` (asked
    /// again later), `failed` (refused or unanswered).
    pub reconciled: IntCounterVec,
    /// `semalink_engine_expired_without_receipt_total{upstream}`: parts expired with reason
    /// `no_receipt`.
    pub expired_without_receipt: IntCounterVec,
    /// `semalink_engine_duplicate_submit_receipts_total`: receipts with an SMSC id no mapping
    /// knows that belong to a submit whose answer never came (sent again since): the receipts
    /// of duplicates, not unmatched.
    pub duplicate_submit_receipts: IntCounter,
    /// The last unmatched receipts themselves (not a metric: `GET /v1/receipts/unmatched`).
    pub unmatched_log: std::sync::Arc<crate::unmatched::UnmatchedLog>,
}

/// Metric name prefix.
pub const PREFIX: &str = "semalink_engine_";

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Metrics {
        let families = Families {
            registry: Registry::new(),
            names: RefCell::new(Vec::new()),
        };
        let r = &families;
        // 1 ms to ~9 h in ×2 steps: submit latency is milliseconds, receipts can take hours.
        let latency = exponential_buckets(0.001, 2.0, 25).expect("valid buckets");
        Metrics {
            unmatched_log: std::sync::Arc::default(),
            submits: reg(
                r,
                counter_vec(
                    "submits_total",
                    "submit_sm PDUs sent",
                    &["upstream", "route"],
                ),
            ),
            responses: reg(
                r,
                counter_vec(
                    "submit_responses_total",
                    "submit_sm_resp by command_status",
                    &["upstream", "command_status"],
                ),
            ),
            amqp: reg(
                r,
                counter_vec(
                    "amqp_total",
                    "RabbitMQ deliveries and how they ended",
                    &["event"],
                ),
            ),
            receipts: reg(
                r,
                counter_vec(
                    "receipts_total",
                    "delivery receipts by stat",
                    &["upstream", "stat"],
                ),
            ),
            retries: reg(
                r,
                counter_vec(
                    "retries_total",
                    "submits retried, by reason",
                    &["route", "reason"],
                ),
            ),
            throttle_waits: reg(
                r,
                counter_vec(
                    "throttle_waits_total",
                    "submits that waited for a token",
                    &["route"],
                ),
            ),
            throttle_wait_seconds: reg(
                r,
                prometheus::CounterVec::new(
                    opts(
                        "throttle_wait_seconds_total",
                        "seconds spent waiting for tokens",
                    ),
                    &["route"],
                )
                .expect("valid metric"),
            ),
            route_rate: reg(
                r,
                GaugeVec::new(
                    opts(
                        "route_rate",
                        "current submit rate per route (adaptive routes move)",
                    ),
                    &["route"],
                )
                .expect("valid metric"),
            ),
            window_occupancy: reg(
                r,
                gauge_vec(
                    "window_occupancy",
                    "outstanding requests per bind",
                    &["upstream", "bind"],
                ),
            ),
            binds: reg(
                r,
                gauge_vec("binds", "binds by state (up, down)", &["upstream", "state"]),
            ),
            reconnects: reg(
                r,
                counter_vec("reconnects_total", "bind reconnect attempts", &["upstream"]),
            ),
            correlation_mappings: reg(
                r,
                IntGauge::with_opts(opts("correlation_mappings", "live SMSC id mappings"))
                    .expect("valid metric"),
            ),
            correlation_parked: reg(
                r,
                IntGauge::with_opts(opts(
                    "correlation_parked",
                    "receipts parked before their submit_sm_resp",
                ))
                .expect("valid metric"),
            ),
            unmatched_receipts: reg(
                r,
                IntCounter::with_opts(opts(
                    "unmatched_receipts_total",
                    "parked receipts that never matched",
                ))
                .expect("valid metric"),
            ),
            ingress: reg(
                r,
                counter_vec("ingress_total", "submit requests by result", &["result"]),
            ),
            status_events: reg(
                r,
                counter_vec(
                    "status_events_total",
                    "status events published by state",
                    &["state"],
                ),
            ),
            inbound: reg(
                r,
                counter_vec("inbound_total", "mobile-originated messages", &["upstream"]),
            ),
            accept_to_sent: reg(
                r,
                HistogramVec::new(
                    HistogramOpts::from(opts(
                        "accept_to_sent_seconds",
                        "accepted to last submit_sm_resp",
                    ))
                    .buckets(latency.clone()),
                    &["upstream"],
                )
                .expect("valid metric"),
            ),
            accept_to_final: reg(
                r,
                HistogramVec::new(
                    HistogramOpts::from(opts(
                        "accept_to_final_seconds",
                        "accepted to final outcome",
                    ))
                    .buckets(latency),
                    &["state"],
                )
                .expect("valid metric"),
            ),
            redelivered_segments: reg(
                r,
                counter_vec(
                    "redelivered_segments_total",
                    "segments of a message seen again: skipped (accepted before) or resubmitted",
                    &["result"],
                ),
            ),
            receipts_deferred: reg(
                r,
                counter_vec(
                    "receipts_deferred_total",
                    "receipts answered retry-later because the store or the sink failed",
                    &["reason"],
                ),
            ),
            reconciled: reg(
                r,
                counter_vec(
                    "reconciled_total",
                    "parts without a final receipt asked for with query_sm, by answer",
                    &["upstream", "result"],
                ),
            ),
            expired_without_receipt: reg(
                r,
                counter_vec(
                    "expired_without_receipt_total",
                    "parts expired with reason no_receipt",
                    &["upstream"],
                ),
            ),
            duplicate_submit_receipts: reg(
                r,
                IntCounter::with_opts(Opts::new(
                    format!("{PREFIX}duplicate_submit_receipts_total"),
                    "receipts of a submit sent twice whose first answer never came",
                ))
                .expect("valid metric"),
            ),
            registry: families.registry.clone(),
            families: families.names.take(),
        }
    }

    /// The name of every metric family the engine exports, including those without a sample
    /// yet (a histogram's `_bucket`, `_sum` and `_count` series share its family name).
    pub fn family_names(&self) -> &[String] {
        &self.families
    }

    /// The Prometheus text exposition of every metric (`text/plain; version=0.0.4`).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Encoding gathered families into a String cannot fail.
        let _ = TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out);
        out
    }

    /// The content type of [`Self::render`]'s output.
    pub fn content_type() -> &'static str {
        prometheus::TEXT_FORMAT
    }

    /// Formats a `command_status` label value.
    pub fn status_label(command_status: u32) -> String {
        format!("0x{command_status:08X}")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(format!("{PREFIX}{name}"), help)
}

fn counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(opts(name, help), labels).expect("valid metric")
}

fn gauge_vec(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    IntGaugeVec::new(opts(name, help), labels).expect("valid metric")
}

/// Registers a metric on a fresh registry; names are unique by construction, so this only
/// fails on a programming error caught by the tests.
fn reg<C: Collector + Clone + 'static>(r: &Families, c: C) -> C {
    r.names
        .borrow_mut()
        .extend(c.desc().iter().map(|d| d.fq_name.clone()));
    r.registry
        .register(Box::new(c.clone()))
        .expect("unique metric name");
    c
}

/// The registry being filled by [`Metrics::new`] and the names registered on it.
struct Families {
    registry: Registry,
    names: RefCell<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_renders_with_its_name() {
        let m = Metrics::new();
        m.submits.with_label_values(&["sim", "default"]).inc();
        m.responses
            .with_label_values(&["sim", &Metrics::status_label(0x58)])
            .inc_by(3);
        m.receipts.with_label_values(&["sim", "DELIVRD"]).inc();
        m.retries.with_label_values(&["default", "throttled"]).inc();
        m.throttle_waits.with_label_values(&["default"]).inc();
        m.throttle_wait_seconds
            .with_label_values(&["default"])
            .inc_by(0.5);
        m.route_rate
            .with_label_values(&["mno:ke-safaricom"])
            .set(350.0);
        m.window_occupancy.with_label_values(&["sim", "0"]).set(7);
        m.binds.with_label_values(&["sim", "up"]).set(4);
        m.reconnects.with_label_values(&["sim"]).inc();
        m.correlation_mappings.set(10);
        m.correlation_parked.set(1);
        m.unmatched_receipts.inc();
        m.ingress.with_label_values(&["accepted"]).inc();
        m.status_events.with_label_values(&["delivered"]).inc();
        m.inbound.with_label_values(&["sim"]).inc();
        m.accept_to_sent.with_label_values(&["sim"]).observe(0.004);
        m.accept_to_final
            .with_label_values(&["delivered"])
            .observe(2.0);
        m.redelivered_segments
            .with_label_values(&["resubmitted"])
            .inc();
        m.receipts_deferred.with_label_values(&["store"]).inc();
        let text = m.render();
        for line in [
            "semalink_engine_submits_total{route=\"default\",upstream=\"sim\"} 1",
            "semalink_engine_submit_responses_total{command_status=\"0x00000058\",upstream=\"sim\"} 3",
            "semalink_engine_route_rate{route=\"mno:ke-safaricom\"} 350",
            "semalink_engine_binds{state=\"up\",upstream=\"sim\"} 4",
            "semalink_engine_unmatched_receipts_total 1",
            "semalink_engine_correlation_mappings 10",
            "semalink_engine_accept_to_sent_seconds_bucket{upstream=\"sim\",le=\"0.004\"} 1",
            "semalink_engine_accept_to_final_seconds_count{state=\"delivered\"} 1",
            "semalink_engine_redelivered_segments_total{result=\"resubmitted\"} 1",
            "semalink_engine_receipts_deferred_total{reason=\"store\"} 1",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        assert!(Metrics::content_type().starts_with("text/plain"));
    }
}
