//! The periodic housekeeping task: expires correlation mappings, reports receipts that never
//! matched (counted and logged, never dropped silently), forgets finished messages, and
//! refreshes the gauges (store sizes, window occupancy, adaptive rates).

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use crate::correlation::CorrelationStore;
use crate::sink::StatusSink;

use super::Pipeline;

/// Runs every `period` until `cancel`.
pub async fn run<S: CorrelationStore, K: StatusSink>(
    p: Arc<Pipeline<S, K>>,
    period: Duration,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => sweep(&p).await,
        }
    }
}

/// The unanswered submit an unmatched receipt belongs to, if its intent is known.
async fn duplicate_of<S, K>(
    p: &Pipeline<S, K>,
    u: &crate::correlation::Unmatched,
) -> Option<crate::correlation::intents::Intent> {
    let handset = u.receipt.handset.as_deref()?;
    let text = u.receipt.text.as_deref();
    let submitted = u.receipt.submit_date.as_ref();
    match p
        .intents
        .find(u.key.upstream, handset, text, submitted)
        .await
    {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "submit intents not readable");
            None
        }
    }
}

/// One round.
pub async fn sweep<S: CorrelationStore, K: StatusSink>(p: &Pipeline<S, K>) {
    match p.store.sweep().await {
        Ok(unmatched) => {
            for u in unmatched {
                let upstream = p
                    .upstreams
                    .get(usize::from(u.key.upstream))
                    .map_or("?", |c| c.name.as_str());
                if let Some(intent) = duplicate_of(p, &u).await {
                    p.metrics.duplicate_submit_receipts.inc();
                    tracing::info!(
                        upstream,
                        smsc_id = %u.receipt.id,
                        message_id = %intent.message_id,
                        segment = intent.segment,
                        "receipt of a duplicate submit (its first answer never came; the copy sent again decides the message)"
                    );
                    continue;
                }
                p.metrics.unmatched_receipts.inc();
                p.metrics
                    .unmatched_log
                    .record(crate::unmatched::UnmatchedReceipt {
                        upstream: upstream.to_owned(),
                        smsc_message_id: u.receipt.id.clone(),
                        stat: u.receipt.stat.word().to_owned(),
                        err: u.receipt.err.clone(),
                        at: time::OffsetDateTime::now_utc(),
                    });
                tracing::warn!(
                    upstream,
                    smsc_id = %u.receipt.id,
                    stat = u.receipt.stat.word(),
                    "receipt never matched a submit_sm_resp"
                );
            }
        }
        Err(e) => tracing::error!(error = %e, "correlation sweep"),
    }
    p.tracker.sweep();
    if let Ok(stats) = p.store.stats().await {
        p.metrics.correlation_mappings.set(stats.mappings as i64);
        p.metrics.correlation_parked.set(stats.parked as i64);
    }
    for pool in &p.pools {
        for session in pool.sessions() {
            let index = session.id().index.to_string();
            p.metrics
                .window_occupancy
                .with_label_values(&[pool.name(), &index])
                .set(session.outstanding() as i64);
        }
    }
    for route in p.router.routes() {
        p.metrics
            .route_rate
            .with_label_values(&[&route.label])
            .set(p.throttle.rate(route.id));
    }
}
