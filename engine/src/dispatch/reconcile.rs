//! Parts whose final receipt never comes. Each accepted part is remembered ([`Awaiting::sent`])
//! until its final receipt arrives ([`Awaiting::settled`]); [`run`] takes the parts still
//! waiting after `[reconcile]`'s wait (the message's validity period, else 48 h) and:
//!
//! * on an upstream with `query_sm = true` — and on every HTTP upstream, whose `getdlr/`
//!   answer stands in for `query_sm_resp` — asks for the part (SMPP 3.4 §4.8) at most
//!   `reconcile.rate` queries per second per upstream — queries take a window slot but never
//!   a route token, so they cannot eat the submit budget. A final answer is handled exactly
//!   like the receipt would have been (same store settlement, events and final claim); a
//!   non-final one is asked again after `recheck_secs`, at most `max_queries` times; a refused
//!   or unanswered query counts as an answer that was not final;
//! * otherwise, or when the answers never became final, expires the part with reason
//!   `no_receipt` ([`NO_RECEIPT`]), so every message reaches a final state and its
//!   reservation is settled (the control plane refunds expired messages).
//!
//! The list ([`Awaiting`]) is in-process, or on the shared Redis when the engine has one: a
//! part sent by an engine that was killed is then reconciled by whichever engine runs, and a
//! receipt that arrives on any engine takes the part off the list. (In-process, a receipt on
//! another engine leaves the part on the submitter's list; its later query or expiry changes
//! nothing, the store has the part settled and the final event claimed.)

use std::sync::Arc;
use std::time::Duration;

use semalink_protocol::dlr::{self, ReceiptDate, Stat};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::correlation::CorrelationStore;
use crate::sink::StatusSink;
use crate::smpp::SubmitError;

use super::{Pipeline, events};

/// The `error_text` of a part expired because no receipt came.
pub const NO_RECEIPT: &str = "no_receipt";

mod awaiting;

pub use awaiting::Awaiting;
use awaiting::Part;

/// Parts taken per round (a backlog — an outage's worth of parts — is spread out).
const ROUND_MAX: usize = 1_000;

/// Runs until `cancel`: every `period_ms`, reconciles the parts that are due.
pub async fn run<S: CorrelationStore, K: StatusSink>(
    p: Arc<Pipeline<S, K>>,
    cancel: CancellationToken,
) {
    let config = p.awaiting.config.clone();
    let spacing = Duration::from_secs_f64(1.0 / config.rate);
    let mut next_query = vec![Instant::now(); p.upstreams.len()];
    let mut tick = tokio::time::interval(Duration::from_millis(config.period_ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let due = p.awaiting.take_due(ROUND_MAX).await;
        let mut queries = tokio::task::JoinSet::new();
        for part in due {
            let asks = p.pools[part.upstream].answers_queries(&p.upstreams[part.upstream]);
            if !asks || part.queries >= config.max_queries {
                expire(&p, &part).await;
                continue;
            }
            let slot = &mut next_query[part.upstream];
            let at = (*slot).max(Instant::now());
            *slot = at + spacing;
            let p = Arc::clone(&p);
            queries.spawn(async move {
                tokio::time::sleep_until(at).await;
                query(&p, part).await;
            });
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = async { while queries.join_next().await.is_some() {} } => {}
        }
    }
}

/// Asks for one part and acts on the answer.
async fn query<S: CorrelationStore, K: StatusSink>(p: &Pipeline<S, K>, mut part: Part) {
    let config = &p.awaiting.config;
    let name = p.upstreams[part.upstream].name.as_str();
    let counter = |result: &str| {
        p.metrics
            .reconciled
            .with_label_values(&[name, result])
            .inc();
    };
    let again = Duration::from_secs(config.recheck_secs);
    let answer = match p.pools[part.upstream].query(&part.query).await {
        Ok(outcome) if outcome.is_ok() => outcome.query,
        Ok(outcome) => {
            tracing::info!(upstream = name, smsc_id = %part.query.message_id, status = outcome.command_status, "query_sm refused");
            None
        }
        Err(SubmitError::NotSent(reason)) => {
            // No bind: ask once one is up, without using up an answer.
            tracing::debug!(upstream = name, %reason, "query_sm not sent");
            p.awaiting.schedule(again, part).await;
            return;
        }
        Err(e) => {
            tracing::info!(upstream = name, error = %e, "query_sm unanswered");
            None
        }
    };
    let receipt = answer
        .as_ref()
        .map(|a| receipt_of(&part.query.message_id, a));
    match receipt {
        Some(r) if r.outcome() != dlr::Outcome::Intermediate => {
            counter("final");
            if let Err(e) = events::correlated(p, part.upstream, part.target, &r).await {
                tracing::warn!(error = %e, "reconciled part not published; asking again later");
                p.awaiting.schedule(again, part).await;
            }
        }
        other => {
            counter(if other.is_some() {
                "not_final"
            } else {
                "failed"
            });
            part.queries += 1;
            if part.queries >= config.max_queries {
                expire(p, &part).await;
            } else {
                p.awaiting.schedule(again, part).await;
            }
        }
    }
}

/// What a `query_sm_resp` says, as the receipt it stands for.
fn receipt_of(smsc_id: &str, answer: &crate::smpp::QueryAnswer) -> dlr::Receipt {
    // Same table as the receipt's `message_state` TLV (SMPP 3.4 §5.2.28); a value no version
    // defines is as good as UNKNOWN.
    let stat = Stat::from_message_state(answer.message_state).unwrap_or(Stat::Unknown);
    let mut receipt = dlr::Receipt::new(smsc_id, stat);
    receipt.done_date = answer.final_date.get(..12).and_then(ReceiptDate::parse);
    receipt.err = Some(format!("{:03}", answer.error_code));
    receipt
}

/// Ends the part as expired without a receipt; retried later if it cannot be published.
async fn expire<S: CorrelationStore, K: StatusSink>(p: &Pipeline<S, K>, part: &Part) {
    let name = p.upstreams[part.upstream].name.as_str();
    let mut receipt = dlr::Receipt::new(part.query.message_id.clone(), Stat::Expired);
    receipt.err = Some(NO_RECEIPT.to_owned());
    match events::correlated(p, part.upstream, part.target, &receipt).await {
        Ok(()) => {
            p.metrics
                .expired_without_receipt
                .with_label_values(&[name])
                .inc();
            tracing::info!(upstream = name, message_id = %part.target.message_id, segment = part.target.segment, "no receipt: expired");
        }
        Err(e) => {
            tracing::warn!(error = %e, "expiry not published; trying again later");
            let again = Duration::from_secs(p.awaiting.config.recheck_secs);
            p.awaiting.schedule(again, part.clone()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ReconcileConfig;

    #[test]
    fn the_wait_is_the_validity_else_the_default() {
        let c = ReconcileConfig::default();
        assert_eq!(c.wait(None), Duration::from_secs(48 * 3600));
        assert_eq!(
            c.wait(Some(Duration::from_secs(60))),
            Duration::from_secs(60)
        );
        let fixed = ReconcileConfig {
            wait_secs: Some(5),
            ..c
        };
        assert_eq!(
            fixed.wait(Some(Duration::from_secs(60))),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn answers_read_as_receipts() {
        let answer = crate::smpp::QueryAnswer {
            message_state: 5,
            final_date: "261202040509000+".into(),
            error_code: 1,
        };
        let r = receipt_of("42", &answer);
        assert_eq!(
            (r.stat.clone(), r.err.as_deref()),
            (Stat::Undeliverable, Some("001"))
        );
        assert_eq!(r.done_date.unwrap().second, Some(9));
        let enroute = crate::smpp::QueryAnswer {
            message_state: 1,
            final_date: String::new(),
            error_code: 0,
        };
        assert_eq!(
            receipt_of("42", &enroute).outcome(),
            dlr::Outcome::Intermediate
        );
    }
}
