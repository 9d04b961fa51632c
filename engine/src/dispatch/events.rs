//! Drains one pool's event stream: receipts, mobile-originated messages, bind state changes.
//!
//! A receipt (`esm_class` message type 0b0001, SMPP 3.4 §5.2.12) is parsed
//! (`receipted_message_id` / `message_state` TLVs or the Appendix B text), its id
//! canonicalised under the upstream's policy and looked up: a match updates the tracker and
//! publishes the resulting event; no match parks it until its `submit_sm_resp` lands. Any
//! other `deliver_sm` is an MO message: concatenated parts (UDH, 3GPP TS 23.040
//! §9.2.3.24.1, or `sar_*` TLVs) are reassembled and the whole text published.
//!
//! Receipts are correlated on [`RECEIPT_LANES`] concurrent lanes chosen by their id (one
//! message's receipts stay in order); MO messages in the loop itself (the reassembler is its
//! state). Each `deliver_sm` is acknowledged only after the sink took its event, so a crash in
//! between makes the SMSC deliver it again. A receipt that cannot be correlated because the
//! store failed, or whose event the sink refused, is answered `ESME_RX_T_APPN` (retry later)
//! instead, and counted in `semalink_engine_receipts_deferred_total`. Nothing here awaits a
//! submit: the sessions wait for this loop, and a submit waiting for them would deadlock.
//!
//! Several engines may share the store, and a receipt can arrive on any engine's bind: the
//! segment's final outcome is recorded in the store ([`CorrelationStore::settle`]), which
//! decides the message when its parts' receipts arrived on different engines, and the
//! message-level final event is published by whichever engine first claims it
//! ([`CorrelationStore::claim_final`]). A message this engine never saw is adopted from the
//! mapping (message id, segment, segment count) so its events carry the same fields as on
//! the engine that submitted it.

use std::sync::Arc;

use semalink_protocol::contracts::{InboundMessage, Numbering, VERSION};
use semalink_protocol::dlr;
use semalink_protocol::msgid::{Side, canonical};
use semalink_protocol::segment::{ConcatInfo, ESM_CLASS_UDHI, Reassembler, udh};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::correlation::{CorrelationKey, CorrelationStore, ReceiptMatch, SegmentKey, Settled};
use crate::error::{Error, Result};
use crate::sink::StatusSink;
use crate::smpp::{BindState, DeliverAck, ESME_RX_T_APPN, InboundSm, SessionEvent};
use crate::tracker::Tracker;

use super::Pipeline;

/// Incomplete MO messages kept per upstream before the oldest is dropped.
const MAX_PENDING_MO: usize = 4096;
/// Receipts of one upstream are correlated and published on this many lanes at once (with
/// Redis each receipt is a few round trips; one at a time would cap an upstream's receipts
/// at 1 / those trips). A receipt's lane follows its id, so one message's receipts keep
/// their order. Each lane waits for its receipt's status event to be confirmed by the broker
/// (a persistent publish: milliseconds), so 32 lanes capped an upstream near 2,000 receipts/s
/// through RabbitMQ + Redis; 256 keep the batching publisher's envelopes full instead.
const RECEIPT_LANES: usize = 256;
/// Receipts queued per lane before the event loop (and so the binds) wait.
const RECEIPT_LANE_CAPACITY: usize = 16;

/// A correlated-to-be receipt, its key, and the answer owed to the SMSC.
type LaneItem = (CorrelationKey, dlr::Receipt, DeliverAck);

fn lane_of(key: &CorrelationKey, lanes: usize) -> usize {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(key) as usize % lanes
}

/// Handles one lane's receipts in order, acknowledging each that was handled and answering
/// "retry later" for each that could not be.
async fn lane<S: CorrelationStore, K: StatusSink>(
    p: Arc<Pipeline<S, K>>,
    upstream: usize,
    mut rx: mpsc::Receiver<LaneItem>,
) {
    while let Some((key, receipt, ack)) = rx.recv().await {
        match receipt_for(&p, upstream, key, receipt).await {
            Ok(()) => ack.ack(),
            Err(e) => {
                let reason = match e {
                    Error::Sink(_) => "sink",
                    _ => "store",
                };
                p.metrics
                    .receipts_deferred
                    .with_label_values(&[reason])
                    .inc();
                tracing::warn!(error = %e, "receipt not acknowledged: the SMSC will deliver it again");
                ack.reject(ESME_RX_T_APPN);
            }
        }
    }
}

/// Runs until every session of the pool has stopped (the stream closes).
pub async fn run<S: CorrelationStore, K: StatusSink>(
    p: Arc<Pipeline<S, K>>,
    upstream: usize,
    mut events: mpsc::Receiver<SessionEvent>,
) {
    let packed = p.upstreams[upstream].data_coding.packed();
    let mut mo = Reassembler::new(MAX_PENDING_MO).with_packed_gsm7(packed);
    let lanes: Vec<_> = (0..RECEIPT_LANES)
        .map(|_| {
            let (tx, rx) = mpsc::channel(RECEIPT_LANE_CAPACITY);
            tokio::spawn(lane(Arc::clone(&p), upstream, rx));
            tx
        })
        .collect();
    update_binds(&p, upstream);
    while let Some(event) = events.recv().await {
        match event {
            SessionEvent::Deliver { sm, ack, .. } if sm.is_receipt() => {
                match parse_receipt(&p, upstream, &sm) {
                    Some((key, receipt)) => {
                        let lane = lane_of(&key, lanes.len());
                        if lanes[lane].send((key, receipt, ack)).await.is_err() {
                            return;
                        }
                    }
                    // Acknowledged anyway: the same bytes would fail again on every redelivery.
                    None => ack.ack(),
                }
            }
            SessionEvent::Deliver { sm, ack, .. } => {
                if inbound(&p, upstream, &sm, &mut mo).await {
                    ack.ack();
                } else {
                    // The sink refused the message: the SMSC delivers it again.
                    ack.reject(ESME_RX_T_APPN);
                }
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
}

fn update_binds<S, K>(p: &Pipeline<S, K>, upstream: usize) {
    let pool = &p.pools[upstream];
    let up = pool.bound_count() as i64;
    let total = pool.bind_total() as i64;
    let name = pool.name();
    p.metrics.binds.with_label_values(&[name, "up"]).set(up);
    p.metrics
        .binds
        .with_label_values(&[name, "down"])
        .set(total - up);
}

/// Reads a receipt and its correlation key; `None` (counted, logged) if it is unreadable.
fn parse_receipt<S, K>(
    p: &Pipeline<S, K>,
    upstream: usize,
    sm: &InboundSm,
) -> Option<(CorrelationKey, dlr::Receipt)> {
    let name = p.upstreams[upstream].name.as_str();
    let mut receipt = match dlr::from_deliver_sm(&sm.receipt_parts()) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(upstream = name, error = %e, "unreadable receipt dropped");
            p.metrics
                .receipts
                .with_label_values(&[name, "unreadable"])
                .inc();
            return None;
        }
    };
    p.metrics
        .receipts
        .with_label_values(&[name, receipt.stat.word()])
        .inc();
    // Kept with a parked receipt: the key to its submit intent if its id never maps.
    if !sm.source_addr.is_empty() {
        receipt.handset = Some(sm.source_addr.clone());
    }
    let key = CorrelationKey {
        upstream: upstream as u16,
        id: canonical(&receipt.id, Side::Receipt, p.upstreams[upstream].id_policy),
    };
    Some((key, receipt))
}

/// Matches or parks one receipt; an error means it must not be acknowledged.
async fn receipt_for<S: CorrelationStore, K: StatusSink>(
    p: &Pipeline<S, K>,
    upstream: usize,
    key: CorrelationKey,
    receipt: dlr::Receipt,
) -> Result<()> {
    match p.store.park_receipt(key, receipt).await? {
        ReceiptMatch::Matched { target, receipt } => {
            correlated(p, upstream, target, &receipt).await
        }
        ReceiptMatch::Parked => {
            let name = p.upstreams[upstream].name.as_str();
            tracing::debug!(upstream = name, "receipt parked until its submit_sm_resp");
            Ok(())
        }
    }
}

/// A receipt whose segment is known: record its outcome in the store (which claims the
/// message's final event when the outcome decides the message), turn it into the tracker's
/// transition (adopting a message another engine submitted) and publish it. A message-level
/// final event is published only by the holder of the claim; if the sink refuses it, the
/// claim is given back so the redelivered receipt can publish it.
pub(super) async fn correlated<S: CorrelationStore, K: StatusSink>(
    p: &Pipeline<S, K>,
    upstream: usize,
    target: SegmentKey,
    receipt: &dlr::Receipt,
) -> Result<()> {
    let name = p.upstreams[upstream].name.as_str();
    let settlement = match receipt.outcome() {
        dlr::Outcome::Intermediate => None,
        outcome => Some(
            p.store
                .settle(target, outcome == dlr::Outcome::Delivered)
                .await?,
        ),
    };
    if settlement.is_some() {
        p.awaiting.settled(target.message_id, target.segment).await;
    }
    let settled = settlement.map(|s| s.verdict);
    let claimed = settlement.is_some_and(|s| s.claimed);
    let decided = settled.is_some_and(|s| s != Settled::Pending);
    let t = match p.tracker.receipt_settled(target, name, receipt, settled) {
        Some(t) => Some(t),
        // The tracker saw this outcome before — an earlier attempt whose event the sink
        // refused, or one that met another claimant's lease and was answered "retry later" —
        // but the store says the message is decided: its final event may still be owed
        // (this receipt won the claim, or the claim below says whether it is out). Rebuilt;
        // acknowledging here used to lose the final of an engine killed mid-publish.
        None if claimed || decided => Tracker::receipt_event(target, name, receipt, settled),
        None => None,
    };
    let Some(t) = t else {
        if claimed {
            p.store.release_final(target.message_id).await?;
        }
        return Ok(());
    };
    if t.event.segment.is_some() || !t.event.state.is_final() {
        return p.emit(t).await;
    }
    let message_id = t.event.message_id;
    // Not claimed by the settlement: another receipt (or engine) holds the claim, or its
    // holder died before publishing and the lease lapsed (then it is ours now).
    if !claimed && !p.store.claim_final(message_id).await? {
        if p.store.final_published(message_id).await? {
            tracing::debug!(%message_id, "final event already published");
            return Ok(());
        }
        // Still being published elsewhere, or its claimant died: not acknowledged, so the
        // SMSC delivers the receipt again, by when it is published or the lease has lapsed.
        return Err(Error::Store(format!(
            "final event of {message_id} claimed, not yet published"
        )));
    }
    if let Err(e) = p.emit(t).await {
        if let Err(release) = p.store.release_final(message_id).await {
            tracing::error!(error = %release, %message_id, "final claim not released: it lapses after its lease");
        }
        return Err(e);
    }
    if let Err(e) = p.store.confirm_final(message_id).await {
        // The lease lapses: a redelivered receipt may publish the final once more.
        tracing::warn!(error = %e, %message_id, "final event published, not confirmed in the store");
    }
    Ok(())
}

/// Handles one MO `deliver_sm`; false when its complete message could not be published (the
/// caller then answers "retry later"). A part that only waits for the others, or bytes that
/// can never be decoded, count as handled. Known gap: a multi-part message is handed on when
/// its last part arrives, after the earlier parts were acknowledged; if that publish fails
/// only the last part comes again and the message stays incomplete. The RabbitMQ sink waits
/// for the broker instead of failing, so this needs a shutdown in the middle of it.
async fn inbound<S: CorrelationStore, K: StatusSink>(
    p: &Pipeline<S, K>,
    upstream: usize,
    sm: &InboundSm,
    mo: &mut Reassembler,
) -> bool {
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
        Ok(None) => return true,
        Err(e) => {
            tracing::warn!(upstream = name, error = %e, "undecodable MO message dropped");
            return true;
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
        numbering: Some(Numbering {
            from_ton: sm.source_ton,
            from_npi: sm.source_npi,
            to_ton: sm.dest_ton,
            to_npi: sm.dest_npi,
        }),
    };
    match p.sink.publish_inbound(message).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "inbound message not published: the SMSC will deliver it again");
            false
        }
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
