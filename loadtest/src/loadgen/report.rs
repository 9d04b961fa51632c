//! The final report of a run (JSON), and the exit rule: a run that lost anything fails.

use std::{collections::BTreeMap, sync::atomic::Ordering::Relaxed};

use hdrhistogram::Histogram;
use serde::Serialize;

use super::Run;

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

impl Percentiles {
    /// Percentiles of a histogram of microseconds.
    pub fn of(h: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        }
    }
}

/// One second of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Second {
    /// Seconds since start.
    pub second: u64,
    /// `submit_sm` written.
    pub sent: u64,
    /// `submit_sm_resp` read.
    pub responses: u64,
    /// Receipts read.
    pub receipts: u64,
}

/// Latencies.
#[derive(Debug, Clone, Serialize)]
pub struct Latencies {
    /// `submit_sm` written → `submit_sm_resp` read.
    pub submit_resp: Percentiles,
    /// Accepted (`submit_sm_resp` ESME_ROK) → final receipt.
    pub final_receipt: Percentiles,
}

/// `(percentile, ms)` points.
#[derive(Debug, Clone, Serialize)]
pub struct Curves {
    /// `submit_sm` → `submit_sm_resp`.
    pub submit_resp: Vec<(f64, f64)>,
    /// Accepted → final receipt.
    pub final_receipt: Vec<(f64, f64)>,
}

fn curve(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    (0..20)
        .map(|i| f64::from(i) * 5.0)
        .chain([99.0, 99.9, 100.0])
        .map(|p| (p, h.value_at_quantile(p / 100.0) as f64 / 1000.0))
        .collect()
}

/// Everything a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `submit_sm` written.
    pub sent: u64,
    /// `submit_sm_resp` read.
    pub responses: u64,
    /// Sent but never answered.
    pub no_response: u64,
    /// Answered ESME_ROK.
    pub accepted: u64,
    /// Responses by status.
    pub statuses: BTreeMap<String, u64>,
    /// Final `DELIVRD`.
    pub delivered: u64,
    /// Final `UNDELIV`/`REJECTD`/other failures.
    pub failed: u64,
    /// Final `EXPIRED`.
    pub expired: u64,
    /// Accepted but never terminal.
    pub lost: u64,
    /// Final receipts received more than once.
    pub duplicated_receipts: u64,
    /// ENROUTE/ACCEPTD receipts.
    pub intermediate_receipts: u64,
    /// Receipts whose id matched no response (id formats differ? set --receipt-id-format).
    pub unmatched_receipts: u64,
    /// Seconds from the first write to the last response or receipt.
    pub elapsed_secs: f64,
    /// Responses per second, from the first write to the last response.
    pub submits_per_sec: f64,
    /// All PDUs on the wire (submit_sm + resp + deliver_sm + deliver_sm_resp) per second.
    pub pdus_per_sec: f64,
    /// Latency percentiles.
    pub latency_ms: Latencies,
    /// Latency at percentiles 0, 5, … 95, 99, 99.9, 100 (for the chart).
    pub latency_curve_ms: Curves,
    /// Per-second series.
    pub throughput: Vec<Second>,
}

impl Report {
    /// Whether anything was lost or left unanswered (the process exits non-zero then).
    pub fn lost_anything(&self) -> bool {
        self.lost > 0 || self.no_response > 0
    }
}

/// Builds the report once every connection has finished.
pub fn build(run: &Run, statuses: BTreeMap<String, u64>, resp_latency: &Histogram<u64>) -> Report {
    let sent = run.sent.load(Relaxed);
    let responses = run.responses.load(Relaxed);
    let outcome = run.tracker.outcome();
    let elapsed_secs = (run.last_activity_us.load(Relaxed) as f64 / 1e6).max(1e-6);
    let last = run
        .buckets
        .iter()
        .rposition(|b| {
            b.sent.load(Relaxed) + b.responses.load(Relaxed) + b.receipts.load(Relaxed) > 0
        })
        .map(|i| i + 1)
        .unwrap_or(0);
    let throughput: Vec<Second> = run.buckets[..last]
        .iter()
        .enumerate()
        .map(|(i, b)| Second {
            second: i as u64,
            sent: b.sent.load(Relaxed),
            responses: b.responses.load(Relaxed),
            receipts: b.receipts.load(Relaxed),
        })
        .collect();
    let receipts: u64 = throughput.iter().map(|s| s.receipts).sum();
    let accepted = run.tracker.accepted.load(Relaxed);
    Report {
        sent,
        responses,
        no_response: sent.saturating_sub(responses),
        accepted,
        statuses,
        delivered: outcome.delivered,
        failed: outcome.failed,
        expired: outcome.expired,
        lost: if run.opts.receipts { outcome.lost } else { 0 },
        duplicated_receipts: outcome.duplicate_receipts,
        intermediate_receipts: outcome.intermediate_receipts,
        unmatched_receipts: outcome.unmatched_receipts,
        elapsed_secs,
        submits_per_sec: responses as f64
            / (run.last_response_us.load(Relaxed) as f64 / 1e6).max(1e-6),
        pdus_per_sec: (sent + responses + 2 * receipts) as f64 / elapsed_secs,
        latency_ms: Latencies {
            submit_resp: Percentiles::of(resp_latency),
            final_receipt: Percentiles::of(&outcome.final_latency),
        },
        latency_curve_ms: Curves {
            submit_resp: curve(resp_latency),
            final_receipt: curve(&outcome.final_latency),
        },
        throughput,
    }
}
