//! Drains one pool's event stream: receipts, mobile-originated messages, bind state changes.
//!
//! A receipt (`esm_class` message type 0b0001, SMPP 3.4 §5.2.12) is parsed
//! (`receipted_message_id` / `message_state` TLVs or the Appendix B text), its id
//! canonicalised under the upstream's policy and looked up: a match updates the tracker and
//! publishes the resulting event; no match parks it until its `submit_sm_resp` lands. Any
//! other `deliver_sm` is an MO message: concatenated parts (UDH, 3GPP TS 23.040
//! §9.2.3.24.1, or `sar_*` TLVs) are reassembled and the whole text published.
//!
//! Each `deliver_sm` is acknowledged only after the sink took its event, so a crash in
//! between makes the SMSC deliver it again. Receipts are handled concurrently (up to
//! [`RECEIPTS_IN_FLIGHT`] per upstream, each acked when its event is published): with the
//! RabbitMQ sink every publish waits for the broker's confirm, and one at a time would limit
//! an upstream to one receipt per broker round trip. MO parts are handled in order (their
//! reassembly is sequential). Nothing here awaits a submit: the sessions wait for this loop,
//! and a submit waiting for them would deadlock.

use std::sync::Arc;

use semalink_protocol::contracts::{InboundMessage, VERSION};
use semalink_protocol::dlr;
use semalink_protocol::msgid::{Side, canonical};
use semalink_protocol::segment::{ConcatInfo, ESM_CLASS_UDHI, Reassembler, udh};
use time::OffsetDateTime;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::correlation::{CorrelationKey, CorrelationStore, ReceiptMatch};
use crate::sink::StatusSink;
use crate::smpp::{BindState, InboundSm, SessionEvent};

use super::Pipeline;

/// Incomplete MO messages kept per upstream before the oldest is dropped.
const MAX_PENDING_MO: usize = 4096;
/// Receipts of one upstream being correlated and published at once.
pub const RECEIPTS_IN_FLIGHT: usize = 1024;

/// Runs until every session of the pool has stopped (the stream closes).
pub async fn run<S: CorrelationStore, K: StatusSink>(
    p: Arc<Pipeline<S, K>>,
    upstream: usize,
    mut events: mpsc::Receiver<SessionEvent>,
) {
    let packed = p.upstreams[upstream].data_coding.packed();
    let mut mo = Reassembler::new(MAX_PENDING_MO).with_packed_gsm7(packed);
    update_binds(&p, upstream);
    let permits = Arc::new(Semaphore::new(RECEIPTS_IN_FLIGHT));
    let mut receipts = JoinSet::new();
    while let Some(event) = events.recv().await {
        while receipts.try_join_next().is_some() {}
        match event {
            SessionEvent::Deliver { sm, ack, .. } if sm.is_receipt() => {
                let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                    break;
                };
                let p = Arc::clone(&p);
                receipts.spawn(async move {
                    receipt(&p, upstream, &sm).await;
                    ack.ack();
                    drop(permit);
                });
            }
            SessionEvent::Deliver { sm, ack, .. } => {
                inbound(&p, upstream, &sm, &mut mo).await;
                ack.ack();
            }
            SessionEvent::State { session, state } => {
                let name = p.upstreams[upstream].name.as_str();
                match &state {
                    BindState::Bound => tracing::info!(%session, "bound"),
                    BindState::Failed(e) => {
                        p.metrics.reconnects.with_label_values(&[name]).inc();
                        tracing::warn!(%session, error = %e, "bind failed");
                    }
                    BindState::Disconnected(why) => {
                        p.metrics.reconnects.with_label_values(&[name]).inc();
                        tracing::warn!(%session, why, "bind lost");
                    }
                    other => tracing::debug!(%session, state = ?other, "bind state"),
                }
                update_binds(&p, upstream);
            }
        }
    }
    while receipts.join_next().await.is_some() {}
}

fn update_binds<S, K>(p: &Pipeline<S, K>, upstream: usize) {
    let pool = &p.pools[upstream];
    let up = pool.bound_count() as i64;
    let total = pool.sessions().len() as i64;
    let name = pool.name();
    p.metrics.binds.with_label_values(&[name, "up"]).set(up);
    p.metrics
        .binds
        .with_label_values(&[name, "down"])
        .set(total - up);
}

async fn receipt<S: CorrelationStore, K: StatusSink>(
    p: &Pipeline<S, K>,
    upstream: usize,
    sm: &InboundSm,
) {
    let name = p.upstreams[upstream].name.as_str();
    let receipt = match dlr::from_deliver_sm(&sm.receipt_parts()) {
        Ok(r) => r,
        Err(e) => {
            // Acknowledged anyway: the same bytes would fail again on every redelivery.
            tracing::warn!(upstream = name, error = %e, "unreadable receipt dropped");
            p.metrics
                .receipts
                .with_label_values(&[name, "unreadable"])
                .inc();
            return;
        }
    };
    p.metrics
        .receipts
        .with_label_values(&[name, receipt.stat.word()])
        .inc();
    let key = CorrelationKey {
        upstream: upstream as u16,
        id: canonical(&receipt.id, Side::Receipt, p.upstreams[upstream].id_policy),
    };
    match p.store.park_receipt(key, receipt).await {
        Ok(ReceiptMatch::Matched { target, receipt }) => {
            let t = p
                .tracker
                .receipt(target.message_id, target.segment, name, &receipt);
            p.publish(t).await;
        }
        Ok(ReceiptMatch::Parked) => {
            tracing::debug!(upstream = name, "receipt parked until its submit_sm_resp");
        }
        Err(e) => tracing::error!(upstream = name, error = %e, "correlation store"),
    }
}

async fn inbound<S: CorrelationStore, K: StatusSink>(
    p: &Pipeline<S, K>,
    upstream: usize,
    sm: &InboundSm,
    mo: &mut Reassembler,
) {
    let name = p.upstreams[upstream].name.as_str();
    // message_payload (SMPP 3.4 §5.3.2.32) replaces an empty short_message.
    let payload = match sm.tlv(0x0424) {
        Some(v) if sm.short_message.is_empty() => v,
        _ => &sm.short_message[..],
    };
    let udhi = sm.esm_class & ESM_CLASS_UDHI != 0;
    let sar = sar_info(sm);
    let segments = match (&sar, udhi) {
        (Some(info), _) => u16::from(info.total.max(1)),
        (None, true) => udh::parse(payload)
            .ok()
            .and_then(|(h, _)| h.concat)
            .map_or(1, |c| u16::from(c.total.max(1))),
        (None, false) => 1,
    };
    let result = match sar {
        Some(info) => mo.accept_part(&sm.source_addr, info, payload, sm.data_coding),
        None => mo.accept(&sm.source_addr, payload, udhi, sm.data_coding),
    };
    let text = match result {
        Ok(Some(text)) => text,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(upstream = name, error = %e, "undecodable MO message dropped");
            return;
        }
    };
    p.metrics.inbound.with_label_values(&[name]).inc();
    let message = InboundMessage {
        version: VERSION,
        id: Uuid::now_v7(),
        from: sm.source_addr.clone(),
        to: sm.destination_addr.clone(),
        text,
        received_at: OffsetDateTime::now_utc(),
        upstream: name.to_owned(),
        segments,
    };
    if let Err(e) = p.sink.publish_inbound(message).await {
        tracing::warn!(error = %e, "inbound message not published");
    }
}

/// The `sar_*` TLVs (SMPP 3.4 §5.3.2.22–24), when all three are there.
fn sar_info(sm: &InboundSm) -> Option<ConcatInfo> {
    let reference = sm.tlv(0x020C)?;
    let total = *sm.tlv(0x020E)?.first()?;
    let seq = *sm.tlv(0x020F)?.first()?;
    let reference = match reference {
        [hi, lo] => u16::from_be_bytes([*hi, *lo]),
        _ => return None,
    };
    Some(ConcatInfo {
        reference,
        total,
        seq,
    })
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::smpp::Tlv;

    fn sm(tlvs: Vec<Tlv>) -> InboundSm {
        InboundSm {
            source_ton: 1,
            source_npi: 1,
            source_addr: "254712345678".into(),
            dest_ton: 0,
            dest_npi: 0,
            destination_addr: "20880".into(),
            esm_class: 0,
            protocol_id: 0,
            data_coding: 0,
            short_message: Bytes::from_static(b"part"),
            tlvs,
        }
    }

    #[test]
    fn sar_tlvs_give_the_part_position_only_when_all_three_are_there() {
        let full = sm(vec![
            Tlv::sar_msg_ref_num(0x0102),
            Tlv::sar_total_segments(3),
            Tlv::sar_segment_seqnum(2),
        ]);
        assert_eq!(
            sar_info(&full),
            Some(ConcatInfo {
                reference: 0x0102,
                total: 3,
                seq: 2
            })
        );
        let partial = sm(vec![Tlv::sar_msg_ref_num(7), Tlv::sar_total_segments(2)]);
        assert_eq!(sar_info(&partial), None);
        assert_eq!(sar_info(&sm(Vec::new())), None);
    }
}
