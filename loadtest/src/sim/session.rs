//! One SMPP connection: a task that owns the socket, decodes each read batch with the
//! resync-safe codec, answers into one write buffer and flushes it once per batch. Receipts
//! and MO messages from other tasks arrive on an unbounded queue; delayed responses wait in a
//! [`DelayHeap`].
//!
//! Like a real SMSC, the session stores every `deliver_sm` it writes until its
//! `deliver_sm_resp` arrives: when the connection closes first (an ESME that crashed or lost
//! its link), or the ESME answers with an error status, the PDU is routed again to another
//! receiver bind of the same system id (or parked until one binds), so a receipt is never lost
//! with the connection it was written to.

use std::{
    collections::HashMap,
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use bytes::{BufMut, BytesMut};
use rusmpp::CommandStatus;
use semalink_protocol::smpp::{Frame, FrameError, SmppCodec, put_generic_nack, put_unbind};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::mpsc,
    time::Instant,
};
use tokio_util::codec::Decoder;

use super::{
    Shared,
    config::Behaviour,
    delay::DelayHeap,
    registry::{Kind, OutTx, Outbound},
    stats::{Batch, Stats},
};

/// How long a forced disconnect waits for the client's `unbind_resp`.
const UNBIND_GRACE: Duration = Duration::from_secs(2);
/// How long after an error `deliver_sm_resp` the `deliver_sm` is sent again.
const REDELIVERY_DELAY: Duration = Duration::from_secs(1);

/// What the connection is bound as (SMPP 3.4 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindKind {
    /// `bind_transmitter`: may submit.
    Transmitter,
    /// `bind_receiver`: gets receipts and MO.
    Receiver,
    /// `bind_transceiver`: both.
    Transceiver,
}

impl BindKind {
    /// Whether `submit_sm` is allowed.
    pub fn can_submit(self) -> bool {
        self != BindKind::Receiver
    }

    /// Whether receipts and MO may be delivered to it.
    pub fn can_receive(self) -> bool {
        self != BindKind::Transmitter
    }
}

/// Per-connection state.
pub struct Session {
    pub(super) shared: Arc<Shared>,
    pub(super) id: u64,
    pub(super) behaviour: Arc<Behaviour>,
    pub(super) bound: Option<(BindKind, Arc<str>)>,
    pub(super) out_tx: OutTx,
    pub(super) delayed: DelayHeap<BytesMut>,
    pub(super) batch: Batch,
    pub(super) rng: fastrand::Rng,
    /// Per-bind throttle window: (second, submits in it).
    pub(super) window: (u64, u32),
    pub(super) next_seq: u32,
    /// Close once the write buffer is flushed.
    pub(super) close: bool,
    /// Forced disconnect requested (scheduled or random).
    pub(super) force_disconnect: bool,
    pub(super) disconnect_at: Option<Instant>,
    /// Waiting for `unbind_resp` until then.
    pub(super) closing_deadline: Option<Instant>,
    pub(super) id_buf: String,
    pub(super) receipt_id_buf: String,
    /// `deliver_sm` written and not yet answered, by sequence number.
    pub(super) unacked: HashMap<u32, BytesMut>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("bound", &self.bound)
            .finish()
    }
}

/// Serves one connection until it closes or the simulator stops.
pub async fn run(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (out_tx, mut out_rx) = mpsc::unbounded_channel();
    let behaviour = shared.behaviour.borrow().clone();
    let mut beh_rx = shared.behaviour.clone();
    let mut s = Session {
        id: shared.next_session.fetch_add(1, Relaxed),
        shared,
        behaviour,
        bound: None,
        out_tx,
        delayed: DelayHeap::default(),
        batch: Batch::default(),
        rng: fastrand::Rng::new(),
        window: (0, 0),
        next_seq: 1,
        close: false,
        force_disconnect: false,
        disconnect_at: None,
        closing_deadline: None,
        id_buf: String::new(),
        receipt_id_buf: String::new(),
        unacked: HashMap::new(),
    };
    let cancel = s.shared.cancel.clone();
    let mut kick = s.shared.kick.subscribe();
    let (mut rd, mut wr) = stream.into_split();
    let mut codec = SmppCodec::new();
    let mut rbuf = BytesMut::with_capacity(64 * 1024);
    let mut wbuf = BytesMut::with_capacity(64 * 1024);
    let far = Instant::now() + Duration::from_secs(86_400 * 365);
    loop {
        let next_delayed = s.delayed.next_due();
        let timer = [next_delayed, s.disconnect_at, s.closing_deadline]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(far);
        tokio::select! {
            _ = cancel.cancelled() => break,
            r = rd.read_buf(&mut rbuf) => match r {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if beh_rx.has_changed().unwrap_or(false) {
                        s.behaviour = beh_rx.borrow_and_update().clone();
                        s.schedule_disconnect();
                    }
                    s.on_read(&mut codec, &mut rbuf, &mut wbuf);
                }
            },
            Some(out) = out_rx.recv() => {
                s.on_outbound(out, &mut wbuf);
                for _ in 0..1024 {
                    match out_rx.try_recv() {
                        Ok(out) => s.on_outbound(out, &mut wbuf),
                        Err(_) => break,
                    }
                }
            }
            _ = tokio::time::sleep_until(timer) => s.on_timer(&mut wbuf),
            Ok(()) = kick.changed() => s.force_disconnect = s.closing_deadline.is_none(),
        }
        if s.force_disconnect {
            s.force_disconnect = false;
            s.disconnect_at = None;
            Stats::inc(&s.shared.stats.disconnects_forced);
            if s.behaviour.flow.unbind_before_disconnect {
                let seq = s.take_seq();
                put_unbind(&mut wbuf, seq);
                s.closing_deadline = Some(Instant::now() + UNBIND_GRACE);
            } else {
                s.close = true;
            }
        }
        if !wbuf.is_empty() {
            if wr.write_all(&wbuf).await.is_err() {
                break;
            }
            wbuf.clear();
        }
        if s.close {
            break;
        }
    }
    let _ = wr.shutdown().await;
    let system_id = s.bound.as_ref().map(|(_, id)| Arc::clone(id));
    s.release();
    // What was written and not answered, and what was queued for this session and never
    // written, goes to another receiver of the system id (released first, so not back here).
    out_rx.close();
    if let Some(system_id) = system_id {
        let registry = &s.shared.registry;
        for (_, pdu) in s.unacked.drain() {
            Stats::inc(&s.shared.stats.deliver_sm_redelivered);
            registry.route(Some(&system_id), pdu, Kind::Redelivery);
        }
        while let Ok(Outbound::Pdu(pdu, kind)) = out_rx.try_recv() {
            registry.route(Some(&system_id), pdu, kind);
        }
    }
}

impl Session {
    fn on_read(&mut self, codec: &mut SmppCodec, rbuf: &mut BytesMut, wbuf: &mut BytesMut) {
        loop {
            match codec.decode(rbuf) {
                Ok(Some(Frame::Pdu(command))) => self.on_command(command, wbuf),
                Ok(Some(Frame::Malformed(m))) => {
                    Stats::inc(&self.shared.stats.malformed_received);
                    if m.wants_nack() {
                        put_generic_nack(wbuf, m.sequence_number, m.status);
                        Stats::inc(&self.shared.stats.generic_nacks_sent);
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    // The next PDU boundary is unknown: nack what we can and close.
                    Stats::inc(&self.shared.stats.malformed_received);
                    if let FrameError::BadLength {
                        sequence_number, ..
                    } = err
                    {
                        put_generic_nack(wbuf, sequence_number, CommandStatus::EsmeRinvcmdlen);
                        Stats::inc(&self.shared.stats.generic_nacks_sent);
                    }
                    rbuf.clear();
                    self.close = true;
                    break;
                }
            }
        }
        if let Some((_, system_id)) = &self.bound {
            let second = self.shared.second();
            self.shared.stats.merge(system_id, second, &mut self.batch);
        }
    }

    fn on_outbound(&mut self, out: Outbound, wbuf: &mut BytesMut) {
        let Outbound::Pdu(pdu, kind) = out;
        self.write_deliver(pdu, kind, wbuf);
    }

    /// Writes a `deliver_sm` with this session's next sequence number, counts it and keeps
    /// it until its `deliver_sm_resp` arrives.
    pub(super) fn write_deliver(&mut self, mut pdu: BytesMut, kind: Kind, wbuf: &mut BytesMut) {
        let seq = self.take_seq();
        pdu[12..16].copy_from_slice(&seq.to_be_bytes());
        wbuf.put_slice(&pdu);
        let stats = &self.shared.stats;
        match kind {
            Kind::Receipt(outcome, duplicate) => {
                Stats::inc(&stats.receipts[outcome.index()]);
                if duplicate {
                    Stats::inc(&stats.receipt_duplicates_sent);
                }
            }
            Kind::Mo => Stats::inc(&stats.mo_sent),
            Kind::Redelivery => {}
        }
        self.unacked.insert(seq, pdu);
    }

    /// A `deliver_sm_resp` arrived: an error status sends the PDU again a little later.
    pub(super) fn on_deliver_resp(&mut self, seq: u32, status: CommandStatus) {
        Stats::inc(&self.shared.stats.deliver_sm_resp_received);
        let Some(pdu) = self.unacked.remove(&seq) else {
            return;
        };
        if status != CommandStatus::EsmeRok
            && let Some((_, system_id)) = &self.bound
        {
            Stats::inc(&self.shared.stats.deliver_sm_redelivered);
            let _ = self.shared.jobs.send(super::dispatch::Job {
                due: Instant::now() + REDELIVERY_DELAY,
                system_id: Some(Arc::clone(system_id)),
                pdu,
                kind: Kind::Redelivery,
                ticket: None,
            });
        }
    }

    fn on_timer(&mut self, wbuf: &mut BytesMut) {
        let now = Instant::now();
        while let Some(resp) = self.delayed.pop_due(now) {
            wbuf.put_slice(&resp);
        }
        if self.disconnect_at.is_some_and(|t| t <= now) {
            self.force_disconnect = true;
        }
        if self.closing_deadline.is_some_and(|t| t <= now) {
            self.close = true;
        }
    }

    /// Arms (or disarms) the scheduled disconnect from the current behaviour.
    pub(super) fn schedule_disconnect(&mut self) {
        let every = self.behaviour.flow.disconnect_every_secs;
        if every == 0 {
            self.disconnect_at = None;
        } else if self.bound.is_some() && self.disconnect_at.is_none() {
            self.disconnect_at = Some(Instant::now() + Duration::from_secs(every));
        }
    }

    pub(super) fn take_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = if seq >= 0x7FFF_FFFF { 1 } else { seq + 1 };
        seq
    }

    fn release(&mut self) {
        if let Some((_, system_id)) = self.bound.take() {
            self.shared.registry.unbind(&system_id, self.id);
            self.shared.stats.binds_current.fetch_sub(1, Relaxed);
        }
    }
}
