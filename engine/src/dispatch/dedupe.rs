//! A message that comes a second time (the broker redelivers what a crashed or disconnected
//! engine had not acknowledged) must not reach the handset twice: the segments the store
//! recorded as accepted upstream are skipped (their `sent` is reported from the record), the
//! others are submitted.
//!
//! The window that remains: a segment accepted by the SMSC whose acceptance was not recorded
//! yet (the engine died between the `submit_sm_resp` and the store's insert, a millisecond
//! or so) is submitted again. Such segments are among those counted as `resubmitted` in
//! `semalink_engine_redelivered_segments_total` (an upper bound: it also counts segments that
//! were never sent).
//!
//! Without the store nothing is submitted: the dispatcher waits for it (readiness is false
//! meanwhile), because a segment whose acceptance cannot be recorded could neither be
//! deduplicated nor have its receipts correlated.

use std::time::Duration;

use uuid::Uuid;

use crate::correlation::CorrelationStore;
use crate::sink::StatusSink;

use super::{Pipeline, SegmentJob};

/// Wait between attempts while the store does not answer.
const STORE_WAIT: Duration = Duration::from_millis(250);

/// The concatenation reference of a message's parts (3GPP TS 23.040 §9.2.3.24.1): taken from
/// the id, so parts submitted before and after a redelivery still join up on the handset.
pub(super) fn reference(message_id: Uuid) -> u16 {
    let v = message_id.as_u128();
    // UUIDv7 puts its random bits at the end; fold in the rest for other versions.
    (v ^ (v >> 64) ^ (v >> 32) ^ (v >> 16)) as u16
}

/// Marks the message begun in the store and drops the jobs of segments already accepted.
pub(super) async fn skip_accepted<S: CorrelationStore, K: StatusSink>(
    p: &Pipeline<S, K>,
    jobs: Vec<SegmentJob>,
) -> Vec<SegmentJob> {
    let Some(first) = jobs.first() else {
        return jobs;
    };
    let (message_id, upstream) = (first.message_id, first.upstream);
    let mut failures = 0u32;
    let prior = loop {
        match p.store.begin_message(message_id).await {
            Ok(prior) => break prior,
            Err(e) => {
                if failures == 0 {
                    tracing::error!(error = %e, %message_id, "correlation store unavailable: waiting before submitting");
                }
                failures += 1;
                tokio::time::sleep(STORE_WAIT).await;
            }
        }
    };
    if !prior.seen {
        return jobs;
    }
    let name = p.upstreams[upstream].name.as_str();
    let mut left = Vec::with_capacity(jobs.len());
    for job in jobs {
        match prior.accepted.iter().find(|(s, _)| *s == job.segment) {
            Some((_, smsc_id)) => {
                p.metrics
                    .redelivered_segments
                    .with_label_values(&["skipped"])
                    .inc();
                let t = p.tracker.sent(message_id, job.segment, name, smsc_id);
                p.publish(t).await;
            }
            None => {
                p.metrics
                    .redelivered_segments
                    .with_label_values(&["resubmitted"])
                    .inc();
                left.push(job);
            }
        }
    }
    tracing::info!(%message_id, resubmitted = left.len(), "message seen before");
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_is_stable_per_message_and_varies_between_messages() {
        let a = Uuid::now_v7();
        assert_eq!(reference(a), reference(a));
        let refs: std::collections::HashSet<u16> =
            (0..64).map(|_| reference(Uuid::now_v7())).collect();
        assert!(refs.len() > 32, "{refs:?}");
    }
}
