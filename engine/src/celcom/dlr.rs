//! Receipts pulled from Celcom's `getdlr/`: every accepted message id is asked for each poll
//! round until its report is final; a final report becomes a receipt `deliver_sm` on the
//! upstream's event stream, acknowledged by the event loop like an SMPP one — acknowledged
//! means forgotten here, "retry later" means asked again next round. The same round probes
//! `getbalance/`, which keeps the upstream's up flag fresh while nothing is sent.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use semalink_protocol::dlr::{self, Stat};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{HttpUpstream, codes};
use crate::smpp::{Ack, DeliverAck, InboundSm, SessionEvent, SessionId};

/// Ids asked for per round at most (each is one request).
const PER_ROUND: usize = 500;
/// Ids are given up after this (the reconciler expires their parts).
const MAX_AGE: Duration = Duration::from_secs(72 * 3600);

#[derive(Debug)]
struct Entry {
    id: String,
    added: Instant,
    next: Instant,
}

/// Message ids whose final report has not been handed on yet.
#[derive(Debug, Default)]
pub(super) struct Pending {
    inner: Mutex<(HashMap<u32, Entry>, u32)>,
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, (HashMap<u32, Entry>, u32)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A message was accepted: ask for its report from the next round on.
    pub(super) fn add(&self, id: String) {
        let now = Instant::now();
        let mut g = self.lock();
        g.1 = g.1.wrapping_add(1);
        let seq = g.1;
        g.0.insert(
            seq,
            Entry {
                id,
                added: now,
                next: now,
            },
        );
    }

    pub(super) fn len(&self) -> usize {
        self.lock().0.len()
    }

    /// Up to `max` ids due now; they are not due again before `again`.
    fn due(&self, now: Instant, again: Instant, max: usize) -> Vec<(u32, String)> {
        let mut g = self.lock();
        g.0.retain(|_, e| now.duration_since(e.added) < MAX_AGE);
        let mut out = Vec::new();
        for (seq, e) in g.0.iter_mut() {
            if out.len() >= max {
                break;
            }
            if e.next <= now {
                e.next = again;
                out.push((*seq, e.id.clone()));
            }
        }
        out
    }

    fn done(&self, seq: u32) {
        self.lock().0.remove(&seq);
    }
}

/// Polls until the upstream is shut down or the event loop is gone.
pub(super) async fn run(up: HttpUpstream, events: mpsc::Sender<SessionEvent>, poll: Duration) {
    let (acks_tx, mut acks) = mpsc::unbounded_channel::<Ack>();
    let session = SessionId {
        upstream: up.inner.name.clone(),
        index: 0,
    };
    let stop = up.inner.stop.clone();
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            Some(ack) = acks.recv() => {
                // Not acknowledged: it stays due (asked again next round).
                if ack.status == 0 {
                    up.inner.receipts.done(ack.seq);
                }
            }
            _ = tick.tick() => {
                let auth = serde_json::json!({
                    "apikey": up.inner.api_key,
                    "partnerID": up.inner.partner_id,
                });
                let _ = up.call("getbalance/", &auth).await;
                let now = Instant::now();
                let due = up.inner.receipts.due(now, now + poll, PER_ROUND);
                let mut asks = tokio::task::JoinSet::new();
                for (seq, id) in due {
                    let up = up.clone();
                    asks.spawn(async move {
                        let body = serde_json::json!({
                            "apikey": up.inner.api_key,
                            "partnerID": up.inner.partner_id,
                            "messageID": id,
                        });
                        let answer = up.call("getdlr/", &body).await.ok();
                        (seq, id, answer)
                    });
                }
                while let Some(joined) = asks.join_next().await {
                    let Ok((seq, id, Some(answer))) = joined else { continue };
                    let Ok(report) = codes::delivery(&answer) else { continue };
                    let Some(sm) = receipt_sm(&id, report) else { continue };
                    let ack = DeliverAck::new(acks_tx.clone(), 0, seq);
                    let event = SessionEvent::Deliver { session: session.clone(), sm, ack };
                    if events.send(event).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// A final report as the receipt `deliver_sm` an SMSC would send (Appendix B text);
/// `None` while it is not final.
pub(super) fn receipt_sm(id: &str, report: codes::Delivery) -> Option<InboundSm> {
    let mut receipt = dlr::Receipt::new(id, report.stat);
    if receipt.outcome() == dlr::Outcome::Intermediate {
        return None;
    }
    receipt.submitted = Some(1);
    receipt.delivered = Some(u32::from(receipt.stat == Stat::Delivered));
    receipt.done_date = report.done;
    receipt.err = Some("000".into());
    Some(InboundSm {
        source_ton: 0,
        source_npi: 0,
        source_addr: String::new(),
        dest_ton: 0,
        dest_npi: 0,
        destination_addr: String::new(),
        esm_class: 0x04,
        protocol_id: 0,
        data_coding: 0,
        short_message: Bytes::from(receipt.to_text()),
        tlvs: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_final_report_reads_back_as_the_same_receipt() {
        let report = codes::Delivery {
            stat: Stat::Undeliverable,
            done: dlr::ReceiptDate::parse("2612020405"),
        };
        let sm = receipt_sm("8290842", report).unwrap();
        assert!(sm.is_receipt());
        let back = dlr::from_deliver_sm(&sm.receipt_parts()).unwrap();
        assert_eq!(
            (back.id.as_str(), back.stat),
            ("8290842", Stat::Undeliverable)
        );
        let enroute = codes::Delivery {
            stat: Stat::Enroute,
            done: None,
        };
        assert!(receipt_sm("1", enroute).is_none());
    }

    #[test]
    fn ids_are_due_once_per_round_until_done() {
        let p = Pending::default();
        p.add("a".into());
        p.add("b".into());
        let now = Instant::now();
        let later = now + Duration::from_secs(5);
        let due = p.due(now, later, 10);
        assert_eq!(due.len(), 2);
        assert!(p.due(now, later, 10).is_empty(), "not again this round");
        p.done(due[0].0);
        assert_eq!(p.due(later, later + Duration::from_secs(5), 10).len(), 1);
    }
}
