//! Prometheus text exposition of the counters (one place that names every metric).

use std::fmt::Write as _;

use super::stats::StatsSnapshot;

/// Renders `s` in the Prometheus text format 0.0.4.
pub fn render(s: &StatsSnapshot) -> String {
    let mut out = String::with_capacity(4096);
    let mut one = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP smsc_sim_{name} {help}\n# TYPE smsc_sim_{name} {kind}\nsmsc_sim_{name} {value}"
        );
    };
    one("binds_current", "gauge", "Binds open now.", s.binds_current);
    one(
        "binds_rejected_total",
        "counter",
        "Binds refused.",
        s.binds_rejected,
    );
    one("submits_total", "counter", "submit_sm received.", s.submits);
    one(
        "throttled_total",
        "counter",
        "submit_sm answered ESME_RTHROTTLED.",
        s.throttled,
    );
    one(
        "unanswered_total",
        "counter",
        "submit_sm left unanswered (silent mode).",
        s.unanswered,
    );
    one(
        "receipts_sent_total",
        "counter",
        "Delivery receipts sent.",
        s.receipts_sent,
    );
    one(
        "receipt_duplicates_sent_total",
        "counter",
        "Deliberate duplicate receipts.",
        s.receipt_duplicates_sent,
    );
    one(
        "receipts_before_resp_total",
        "counter",
        "Receipts sent before their response.",
        s.receipts_before_resp,
    );
    one(
        "receipts_parked",
        "gauge",
        "Receipts waiting for a receiver bind.",
        s.receipts_parked,
    );
    one(
        "mo_sent_total",
        "counter",
        "Mobile-originated messages delivered.",
        s.mo_sent,
    );
    one(
        "deliver_sm_redelivered_total",
        "counter",
        "deliver_sm sent again for want of a positive deliver_sm_resp.",
        s.deliver_sm_redelivered,
    );
    one(
        "duplicates_received_total",
        "counter",
        "Duplicate submissions seen.",
        s.duplicates_received,
    );
    one(
        "malformed_received_total",
        "counter",
        "Malformed or unknown PDUs.",
        s.malformed_received,
    );
    one(
        "generic_nacks_sent_total",
        "counter",
        "generic_nack sent.",
        s.generic_nacks_sent,
    );
    one(
        "disconnects_forced_total",
        "counter",
        "Connections dropped on purpose.",
        s.disconnects_forced,
    );
    let mut labelled = |name: &str,
                        kind: &str,
                        help: &str,
                        label: &str,
                        values: &mut dyn Iterator<Item = (&str, u64)>| {
        let _ = writeln!(
            out,
            "# HELP smsc_sim_{name} {help}\n# TYPE smsc_sim_{name} {kind}"
        );
        for (k, v) in values {
            let _ = writeln!(out, "smsc_sim_{name}{{{label}=\"{k}\"}} {v}");
        }
    };
    let binds = [
        ("transmitter", s.binds_transmitter),
        ("receiver", s.binds_receiver),
        ("transceiver", s.binds_transceiver),
    ];
    labelled(
        "binds_total",
        "counter",
        "Binds accepted by type.",
        "type",
        &mut binds.into_iter(),
    );
    labelled(
        "responses_total",
        "counter",
        "submit_sm_resp by status.",
        "status",
        &mut s.responses.iter().map(|(k, v)| (k.as_str(), *v)),
    );
    labelled(
        "receipts_total",
        "counter",
        "Receipts by stat.",
        "stat",
        &mut s.receipts.iter().map(|(k, v)| (k.as_str(), *v)),
    );
    labelled(
        "submits_by_prefix_total",
        "counter",
        "submit_sm by destination prefix.",
        "prefix",
        &mut s.per_mno.iter().map(|(k, v)| (k.as_str(), *v)),
    );
    labelled(
        "peak_tps",
        "gauge",
        "Highest submit_sm count in one second, per route.",
        "route",
        &mut s.peak_tps.iter().map(|(k, v)| (k.as_str(), *v)),
    );
    out
}
