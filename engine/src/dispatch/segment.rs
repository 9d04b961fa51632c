//! One segment's life: wait for the route's token, submit on the upstream's pool, and act on
//! the outcome (SMPP 3.4 §5.1.3 statuses, classified by [`crate::retry`]):
//!
//! * accepted → correlation mapping (plus any receipts parked for it), `sent`;
//! * `ESME_RTHROTTLED` / `ESME_RMSGQFUL` → slow the route, retry after back-off, no limit;
//! * transient status or response timeout → retry up to `retry.max_attempts`, then failed;
//! * permanent status → failed at once with the code;
//! * not sent (no bind up) → wait and try again, without using up an attempt.
//!
//! A segment of RabbitMQ work (with [`DeferLimits`]) stops retrying in-process after
//! `throttle_retries` throttle answers, after waiting `no_bind_wait` for a bind, or when its
//! transient attempts are used up, and returns [`SegmentEnd::Defer`]: its message goes to the
//! broker's retry queue instead of holding a window slot and a prefetch slot meanwhile.
//!
//! While a segment is retried its message is pinned in the store so the mappings of its other
//! segments do not expire meanwhile.

use std::time::Duration;

use semalink_protocol::contracts::DeliveryState;
use semalink_protocol::msgid::{Side, canonical};

use crate::config::UpstreamKind;
use crate::correlation::intents::Intent;
use crate::correlation::{CorrelationKey, CorrelationStore, SegmentKey};
use crate::metrics::Metrics;
use crate::retry::Disposition;
use crate::sink::StatusSink;
use crate::smpp::{QueryRequest, SubmitError, SubmitOutcome, describe_status};

use super::{DeferLimits, Pipeline, SegmentEnd, SegmentJob, events};

/// How long to wait before trying again when no bind of the upstream is up.
const NO_BIND_WAIT: Duration = Duration::from_millis(100);
/// Wait between attempts to record an acceptance while the store does not answer.
const STORE_WAIT: Duration = Duration::from_millis(250);
/// Attempts to record an acceptance (about a minute): the submit cannot be taken back, so the
/// mapping is worth waiting for.
const STORE_ATTEMPTS: u32 = 240;

/// Sends one segment until it has an outcome, or (with `defer`) until it is time to hand
/// the message back to the broker.
pub(super) async fn send<S: CorrelationStore, K: StatusSink>(
    p: &Pipeline<S, K>,
    job: SegmentJob,
    defer: Option<DeferLimits>,
) -> SegmentEnd {
    let route = p.router.get(job.route);
    let upstream = p.upstreams[job.upstream].name.as_str();
    let labels = [upstream, route.label.as_str()];
    let mut attempts = 0u32;
    let mut throttled = 0u32;
    let mut no_bind = Duration::ZERO;
    let mut pinned = false;
    let end = loop {
        let waited = p.throttle.until_ready(job.route).await;
        if !waited.is_zero() {
            p.metrics
                .throttle_waits
                .with_label_values(&[&route.label])
                .inc();
            p.metrics
                .throttle_wait_seconds
                .with_label_values(&[&route.label])
                .inc_by(waited.as_secs_f64());
        }
        p.metrics.submits.with_label_values(&labels).inc();
        let mut intent = record_intent(p, &job).await;
        let result = p.pools[job.upstream].submit(&job.pdu).await;
        // Refused or certainly not sent: no receipt can come. Accepted: forgotten once the
        // mapping is written (a crash in between must leave the intent). Unanswered: kept,
        // for the receipt the SMSC may send for it.
        let accepted_now = matches!(&result, Ok(o) if o.command_status == 0);
        if !accepted_now && !matches!(result, Err(SubmitError::Ambiguous(_))) {
            forget(p, intent.take()).await;
        }
        let retry = |reason: &str| retry_metric(&p.metrics, &route.label, reason);
        let delay = match result {
            Ok(outcome) => {
                p.metrics
                    .responses
                    .with_label_values(&[upstream, &Metrics::status_label(outcome.command_status)])
                    .inc();
                attempts += 1;
                match p.retry.classify(outcome.command_status) {
                    Disposition::Accepted => {
                        if let Some(rate) = p.throttle.on_success(job.route) {
                            set_rate(p, &route.label, rate);
                        }
                        let ok = accepted(p, &job, upstream, outcome).await;
                        forget(p, intent.take()).await;
                        break published(ok);
                    }
                    Disposition::Throttled => {
                        if let Some(rate) = p.throttle.on_throttled(job.route) {
                            set_rate(p, &route.label, rate);
                        }
                        // Throttling never uses up attempts (the message must not be lost).
                        attempts -= 1;
                        throttled += 1;
                        if defer.is_some_and(|d| throttled > d.throttle_retries) {
                            retry("deferred");
                            break SegmentEnd::Defer(format!(
                                "throttled by {upstream} ({})",
                                describe_status(outcome.command_status)
                            ));
                        }
                        retry("throttled");
                        p.retry.backoff(throttled)
                    }
                    Disposition::Transient if p.retry.may_retry(attempts) => {
                        retry("transient");
                        p.retry.backoff(attempts)
                    }
                    Disposition::Transient if defer.is_some() => {
                        retry("deferred");
                        break SegmentEnd::Defer(format!(
                            "{attempts} attempts answered {}",
                            describe_status(outcome.command_status)
                        ));
                    }
                    Disposition::Transient | Disposition::Permanent => {
                        let status = outcome.command_status;
                        let t = p.tracker.submit_failed(
                            job.message_id,
                            job.segment,
                            upstream,
                            status,
                            &describe_status(status),
                        );
                        break published(p.publish(t).await);
                    }
                }
            }
            Err(SubmitError::NotSent(reason)) => {
                if defer.is_some_and(|d| no_bind >= d.no_bind_wait) {
                    retry("deferred");
                    break SegmentEnd::Defer(format!("no bind of {upstream} up: {reason}"));
                }
                tracing::debug!(%reason, upstream, "segment not sent; waiting for a bind");
                retry("not_sent");
                no_bind += NO_BIND_WAIT;
                NO_BIND_WAIT
            }
            Err(SubmitError::Ambiguous(reason)) => {
                attempts += 1;
                if !p.retry.may_retry(attempts) {
                    let text = format!("no response after {attempts} attempts: {reason}");
                    if defer.is_some() {
                        retry("deferred");
                        break SegmentEnd::Defer(text);
                    }
                    break published(give_up(p, &job, &text).await);
                }
                // The SMSC may have the message: this retry can duplicate it (docs/engine.md).
                tracing::info!(%reason, upstream, message_id = %job.message_id, "retrying an unanswered submit");
                retry("timeout");
                p.retry.backoff(attempts)
            }
            Err(e) => break published(give_up(p, &job, &e.to_string()).await),
        };
        if !pinned {
            pinned = store_ok(p.store.pin(job.message_id).await);
        }
        tokio::time::sleep(delay).await;
        // Another part failed the message meanwhile: sending this one is pointless.
        if p.tracker
            .state(job.message_id)
            .is_some_and(|s| s.is_final())
        {
            tracing::debug!(message_id = %job.message_id, segment = job.segment, "message already final; retry dropped");
            break SegmentEnd::Decided;
        }
    };
    if pinned {
        store_ok(p.store.unpin(job.message_id).await);
    }
    end
}

/// Records the intent of one SMPP submit attempt before it leaves (HTTP receipts are pulled
/// by id, so they always match). A store that does not answer does not hold the submit up.
async fn record_intent<S: CorrelationStore, K: StatusSink>(
    p: &Pipeline<S, K>,
    job: &SegmentJob,
) -> Option<Intent> {
    if p.upstreams[job.upstream].kind != UpstreamKind::Smpp {
        return None;
    }
    let intent = Intent {
        upstream: job.upstream as u16,
        destination: job.pdu.destination_addr.clone(),
        message_id: job.message_id,
        segment: job.segment,
        segments: job.segments,
        at_ms: crate::correlation::now_ms(),
        text: Intent::text_of(&job.pdu.short_message),
    };
    match p.intents.record(&intent).await {
        Ok(()) => Some(intent),
        Err(e) => {
            tracing::warn!(error = %e, "submit intent not recorded");
            None
        }
    }
}

async fn forget<S: CorrelationStore, K: StatusSink>(p: &Pipeline<S, K>, intent: Option<Intent>) {
    if let Some(intent) = intent
        && let Err(e) = p.intents.forget(&intent).await
    {
        tracing::debug!(error = %e, "submit intent not forgotten; it expires");
    }
}

fn published(ok: bool) -> SegmentEnd {
    if ok {
        SegmentEnd::Decided
    } else {
        SegmentEnd::Unpublished
    }
}

/// `submit_sm_resp` status 0: map the SMSC id to the segment, then `sent`, then any receipts
/// that arrived before the response. Returns whether every event was published.
async fn accepted<S: CorrelationStore, K: StatusSink>(
    p: &Pipeline<S, K>,
    job: &SegmentJob,
    upstream: &str,
    outcome: SubmitOutcome,
) -> bool {
    let smsc_id = outcome.message_id.unwrap_or_default();
    let mut parked = Vec::new();
    let target = SegmentKey {
        message_id: job.message_id,
        segment: job.segment,
        segments: job.segments,
    };
    if smsc_id.trim_matches(['\0', ' ']).is_empty() {
        tracing::warn!(upstream, message_id = %job.message_id, "submit_sm_resp without message_id: receipts cannot be matched");
    } else {
        // Before the mapping: a receipt matched through it removes the entry again.
        let validity = job
            .expires_at
            .map(|at| (at - time::OffsetDateTime::now_utc()).unsigned_abs());
        let query = QueryRequest {
            message_id: smsc_id.clone(),
            source_ton: job.pdu.source_ton,
            source_npi: job.pdu.source_npi,
            source_addr: job.pdu.source_addr.clone(),
        };
        p.awaiting.sent(target, job.upstream, query, validity).await;
        let key = CorrelationKey {
            upstream: job.upstream as u16,
            id: canonical(
                &smsc_id,
                Side::SubmitResp,
                p.upstreams[job.upstream].id_policy,
            ),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match p.store.insert(key.clone(), target).await {
                Ok(receipts) => {
                    parked = receipts;
                    break;
                }
                Err(e) if attempt < STORE_ATTEMPTS => {
                    if attempt == 1 {
                        tracing::warn!(error = %e, "correlation insert failed; retrying");
                    }
                    tokio::time::sleep(STORE_WAIT).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, message_id = %job.message_id, "correlation insert failed: its receipts will be unmatched");
                    break;
                }
            }
        }
    }
    let t = p
        .tracker
        .sent(job.message_id, job.segment, upstream, &smsc_id);
    let mut ok = p.publish(t).await;
    // Already counted in `receipts_total` when they arrived, and acknowledged when parked:
    // they are handled like receipts that find their mapping at once.
    for receipt in parked {
        let mut attempt = 0;
        while let Err(e) = events::correlated(p, job.upstream, target, &receipt).await {
            attempt += 1;
            if attempt >= STORE_ATTEMPTS {
                tracing::error!(error = %e, message_id = %job.message_id, "parked receipt lost");
                ok = false;
                break;
            }
            tokio::time::sleep(STORE_WAIT).await;
        }
    }
    ok
}

/// Retries are exhausted or pointless: the message fails. Returns whether the event was
/// published.
async fn give_up<S: CorrelationStore, K: StatusSink>(
    p: &Pipeline<S, K>,
    job: &SegmentJob,
    text: &str,
) -> bool {
    tracing::warn!(message_id = %job.message_id, segment = job.segment, text, "segment failed");
    let t = p
        .tracker
        .finish(job.message_id, DeliveryState::Failed, None, text);
    p.publish(t).await
}

fn retry_metric(metrics: &Metrics, route: &str, reason: &str) {
    metrics.retries.with_label_values(&[route, reason]).inc();
}

fn set_rate<S, K>(p: &Pipeline<S, K>, route: &str, rate: f64) {
    p.metrics.route_rate.with_label_values(&[route]).set(rate);
}

fn store_ok(result: crate::Result<()>) -> bool {
    match result {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "correlation store");
            false
        }
    }
}
