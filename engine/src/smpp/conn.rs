//! The bound connection: one loop that reads and decodes PDUs, writes queued submits and
//! answers, resolves the window, keeps the link alive with `enquire_link` (SMPP 3.4 §4.11) and
//! handles `unbind` both ways (§4.2). It returns why the connection ended; the session decides
//! whether to reconnect.

use bytes::BytesMut;
use rusmpp::{Command, CommandStatus, Pdu};
use semalink_protocol::smpp::{
    Frame, FrameError, SmppCodec, put_deliver_sm_resp, put_enquire_link, put_enquire_link_resp,
    put_generic_nack, put_unbind, put_unbind_resp,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    time::{Duration, Instant, sleep_until, timeout},
};
use tokio_util::codec::Decoder;

use super::{
    counters::Counters,
    event::{BindState, SessionEvent},
    handshake::{BIND_SEQ, Bound},
    inbound::{DeliverAck, InboundSm},
    pdu::set_sequence,
    session::{Actor, Request},
    window::{Pending, QueryAnswer, SubmitOutcome, Window},
};

/// Why a bound connection ended.
#[derive(Debug)]
pub(crate) enum Exit {
    /// Dropped or failed: reconnect.
    Lost(String),
    /// The SMSC unbound: reconnect.
    Unbound,
    /// We unbound on shutdown: stop.
    Stopped,
}

/// Per-connection state.
struct Conn {
    window: Window,
    wbuf: BytesMut,
    /// Bytes appended to `wbuf` and bytes written to the socket since connecting.
    queued: u64,
    flushed: u64,
    next_seq: u32,
    last_rx: Instant,
    /// Our outstanding `enquire_link`: sequence number and answer deadline.
    keepalive: Option<(u32, Instant)>,
    /// Draining for shutdown: unbind no later than this.
    drain: Option<Instant>,
    /// `unbind` sent: close when answered or at this deadline.
    unbind: Option<Instant>,
    /// False once every handle is gone (the request channel is closed and empty).
    rx_open: bool,
}

impl Conn {
    fn take_seq(&mut self) -> u32 {
        loop {
            let seq = self.next_seq;
            // Sequence numbers run 1..=0x7FFFFFFF (SMPP 3.4 §3.2).
            self.next_seq = if seq >= 0x7FFF_FFFF { 1 } else { seq + 1 };
            if !self.window.contains(seq) && self.keepalive.is_none_or(|(k, _)| k != seq) {
                return seq;
            }
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.queued += bytes.len() as u64;
        self.wbuf.extend_from_slice(bytes);
    }

    /// Appends a header-only or fast-encoded PDU via `put`.
    fn put(&mut self, put: impl FnOnce(&mut BytesMut)) {
        let before = self.wbuf.len();
        put(&mut self.wbuf);
        self.queued += (self.wbuf.len() - before) as u64;
    }
}

impl Actor {
    /// Serves a bound connection until it ends.
    pub(crate) async fn run_bound(&mut self, bound: Bound) -> Exit {
        let Bound {
            stream,
            mut codec,
            mut rbuf,
        } = bound;
        let (mut rd, mut wr) = stream.into_split();
        let mut c = Conn {
            window: Window::default(),
            wbuf: BytesMut::with_capacity(16 * 1024),
            queued: 0,
            flushed: 0,
            next_seq: BIND_SEQ + 1,
            last_rx: Instant::now(),
            keepalive: None,
            drain: None,
            unbind: None,
            rx_open: true,
        };
        if self.stopping() {
            self.start_drain(&mut c);
        }
        let exit = loop {
            if let Some(exit) = self.on_frames(&mut c, &mut codec, &mut rbuf).await {
                break exit;
            }
            if let Some(drain) = c.drain
                && c.unbind.is_none()
                && ((c.window.len() == 0 && self.rx.is_empty()) || Instant::now() >= drain)
            {
                let seq = c.take_seq();
                c.put(|b| put_unbind(b, seq));
                c.unbind = Some(Instant::now() + self.config.response_timeout);
            }
            let timer = self.next_timer(&mut c);
            tokio::select! {
                read = rd.read_buf(&mut rbuf) => match read {
                    Ok(0) => break Exit::Lost("connection closed by the SMSC".into()),
                    Ok(_) => c.last_rx = Instant::now(),
                    Err(e) => break Exit::Lost(format!("read failed: {e}")),
                },
                written = wr.write_buf(&mut c.wbuf), if !c.wbuf.is_empty() => match written {
                    Ok(0) => break Exit::Lost("socket accepts no more data".into()),
                    Ok(n) => c.flushed += n as u64,
                    Err(e) => break Exit::Lost(format!("write failed: {e}")),
                },
                request = self.rx.recv(), if c.unbind.is_none() && c.rx_open => match request {
                    Some(request) => {
                        self.on_request(&mut c, request);
                        // Take what else is queued in the same pass.
                        for _ in 0..64 {
                            let Ok(request) = self.rx.try_recv() else { break };
                            self.on_request(&mut c, request);
                        }
                    }
                    // Every handle is gone: shut down.
                    None => {
                        c.rx_open = false;
                        self.start_drain(&mut c);
                    }
                },
                Some(ack) = self.acks_rx.recv() => {
                    if ack.generation == self.generation {
                        c.put(|b| put_deliver_sm_resp(b, ack.seq, CommandStatus::from(ack.status)));
                    }
                }
                _ = self.shutdown.changed(), if c.drain.is_none() => self.start_drain(&mut c),
                _ = sleep_until(timer) => {
                    if let Some(exit) = self.on_timer(&mut c) {
                        break exit;
                    }
                }
            }
        };
        // Best effort: an unbind_resp or generic_nack just queued should reach the SMSC.
        if !c.wbuf.is_empty()
            && let Ok(Ok(())) = timeout(Duration::from_secs(1), wr.write_all(&c.wbuf)).await
        {
            c.flushed += c.wbuf.len() as u64;
        }
        c.window.fail_all(c.flushed, &self.counters);
        let _ = wr.shutdown().await;
        exit
    }

    /// Enters draining (once): no new work from the handle, unbind when the window is empty
    /// or at the deadline given to `shutdown` (one response timeout when the handles went).
    fn start_drain(&self, c: &mut Conn) {
        if c.drain.is_none() {
            let at = *self.shutdown.borrow();
            c.drain = Some(at.unwrap_or_else(|| Instant::now() + self.config.response_timeout));
            self.set_state(BindState::Draining);
        }
    }

    fn next_timer(&self, c: &mut Conn) -> Instant {
        let keepalive = match c.keepalive {
            Some((_, deadline)) => deadline,
            None => c.last_rx + self.config.enquire_link_interval,
        };
        let drain = c.drain.filter(|_| c.unbind.is_none());
        [c.window.next_deadline(), Some(keepalive), drain, c.unbind]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(keepalive)
    }

    fn on_timer(&self, c: &mut Conn) -> Option<Exit> {
        let now = Instant::now();
        c.window.expire(now, &self.counters);
        if c.unbind.is_some_and(|at| at <= now) {
            return Some(Exit::Stopped);
        }
        match c.keepalive {
            Some((_, deadline)) if deadline <= now => {
                return Some(Exit::Lost("enquire_link unanswered".into()));
            }
            None if c.last_rx + self.config.enquire_link_interval <= now => {
                let seq = c.take_seq();
                c.put(|b| put_enquire_link(b, seq));
                c.keepalive = Some((seq, now + self.config.response_timeout));
                Counters::inc(&self.counters.enquire_links_sent);
            }
            _ => {}
        }
        None
    }

    fn on_request(&self, c: &mut Conn, request: Request) {
        let Request {
            mut pdu,
            reply,
            slot,
        } = request;
        let seq = c.take_seq();
        set_sequence(&mut pdu, seq);
        c.push(&pdu);
        Counters::inc(&self.counters.submits);
        c.window.insert(
            seq,
            Pending {
                reply,
                _slot: slot,
                end_offset: c.queued,
                deadline: Instant::now() + self.config.response_timeout,
            },
        );
    }

    /// Handles every complete PDU in `rbuf`.
    async fn on_frames(
        &mut self,
        c: &mut Conn,
        codec: &mut SmppCodec,
        rbuf: &mut BytesMut,
    ) -> Option<Exit> {
        loop {
            match codec.decode(rbuf) {
                Ok(Some(Frame::Pdu(command))) => {
                    if let Some(exit) = self.on_pdu(c, command).await {
                        return Some(exit);
                    }
                }
                Ok(Some(Frame::Malformed(m))) => {
                    tracing::warn!(session = %self.id, command_id = m.command_id, reason = ?m.reason, "malformed PDU");
                    if m.wants_nack() {
                        c.put(|b| put_generic_nack(b, m.sequence_number, m.status));
                        Counters::inc(&self.counters.generic_nacks_sent);
                    }
                }
                Ok(None) => return None,
                Err(FrameError::BadLength {
                    sequence_number, ..
                }) => {
                    // SMPP 3.4 §4.3: nack with ESME_RINVCMDLEN; the stream cannot resync.
                    c.put(|b| put_generic_nack(b, sequence_number, CommandStatus::EsmeRinvcmdlen));
                    Counters::inc(&self.counters.generic_nacks_sent);
                    return Some(Exit::Lost("invalid command_length from the SMSC".into()));
                }
                Err(e) => return Some(Exit::Lost(e.to_string())),
            }
        }
    }

    async fn on_pdu(&mut self, c: &mut Conn, command: Command) -> Option<Exit> {
        let seq = command.sequence_number();
        let status = u32::from(command.status());
        let id = u32::from(command.id());
        match command.pdu() {
            Some(Pdu::SubmitSmResp(resp)) => {
                let message_id =
                    Some(resp.message_id().as_str().to_owned()).filter(|s| !s.is_empty());
                self.resolve(c, seq, status, message_id);
            }
            None if id == 0x8000_0004 => self.resolve(c, seq, status, None),
            Some(Pdu::QuerySmResp(resp)) => {
                let answer = QueryAnswer {
                    message_state: u8::from(resp.message_state),
                    final_date: String::from_utf8_lossy(resp.final_date.as_ref())
                        .trim_end_matches('\0')
                        .to_owned(),
                    error_code: resp.error_code,
                };
                let message_id = Some(resp.message_id.as_str().to_owned());
                self.resolve_with(c, seq, status, message_id, Some(answer));
            }
            // An error query_sm_resp may come without a body.
            None if id == 0x8000_0003 => self.resolve(c, seq, status, None),
            Some(Pdu::GenericNack) => {
                if c.keepalive.is_some_and(|(k, _)| k == seq) {
                    c.keepalive = None;
                }
                self.resolve(c, seq, status, None);
            }
            Some(Pdu::DeliverSm(sm)) => {
                Counters::inc(&self.counters.delivers);
                let ack = DeliverAck::new(self.acks_tx.clone(), self.generation, seq);
                let event = SessionEvent::Deliver {
                    session: self.id.clone(),
                    sm: InboundSm::from_pdu(sm),
                    ack,
                };
                self.emit(c, event).await;
            }
            Some(Pdu::EnquireLink) => c.put(|b| put_enquire_link_resp(b, seq)),
            Some(Pdu::EnquireLinkResp) if c.keepalive.is_some_and(|(k, _)| k == seq) => {
                c.keepalive = None;
            }
            Some(Pdu::Unbind) => {
                c.put(|b| put_unbind_resp(b, seq));
                return Some(Exit::Unbound);
            }
            Some(Pdu::UnbindResp) if c.unbind.is_some() => return Some(Exit::Stopped),
            // alert_notification (0x102) has no response (SMPP 3.4 §4.12).
            _ if id & 0x8000_0000 == 0 && id != 0x0000_0102 => {
                c.put(|b| put_generic_nack(b, seq, CommandStatus::EsmeRinvcmdid));
                Counters::inc(&self.counters.generic_nacks_sent);
            }
            _ => {}
        }
        None
    }

    /// Hands a `deliver_sm` to the consumer. Waiting here is the back-pressure: a slow
    /// consumer stops our reads and so the SMSC's sends. With no consumer, or when a shutdown
    /// deadline passes first, the event (and its ack) is dropped, which answers "retry later".
    async fn emit(&mut self, c: &mut Conn, event: SessionEvent) {
        let Some(events) = self.events.clone() else {
            return;
        };
        let send = events.send(event);
        tokio::pin!(send);
        loop {
            tokio::select! {
                _ = &mut send => return,
                _ = self.shutdown.changed(), if c.drain.is_none() => self.start_drain(c),
                _ = sleep_until(c.drain.unwrap_or_else(Instant::now)), if c.drain.is_some() => {
                    return;
                }
            }
        }
    }

    fn resolve(&self, c: &mut Conn, seq: u32, status: u32, message_id: Option<String>) {
        self.resolve_with(c, seq, status, message_id, None);
    }

    fn resolve_with(
        &self,
        c: &mut Conn,
        seq: u32,
        status: u32,
        message_id: Option<String>,
        query: Option<QueryAnswer>,
    ) {
        let outcome = SubmitOutcome {
            command_status: status,
            message_id,
            query,
        };
        if c.window.resolve(seq, outcome) {
            self.counters.response(status);
        } else {
            tracing::debug!(session = %self.id, seq, "response for no outstanding request (late?)");
        }
    }
}
