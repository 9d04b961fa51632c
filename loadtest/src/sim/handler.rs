//! What a session does with each decoded PDU: binds (credentials, `max_binds`), `enquire_link`,
//! `unbind` both ways, `generic_nack` for requests it does not serve. `submit_sm` is in
//! [`super::submit`], `query_sm` / `cancel_sm` / `replace_sm` in [`super::query`].

use std::sync::{Arc, atomic::Ordering::Relaxed};

use bytes::BytesMut;
use rusmpp::{
    Command, CommandStatus, Pdu,
    pdus::{BindReceiverResp, BindTransceiverResp, BindTransmitterResp},
    types::COctetString,
    values::InterfaceVersion,
};
use semalink_protocol::smpp::{
    SmppCodec, put_enquire_link_resp, put_generic_nack, put_unbind_resp,
};
use tokio_util::codec::Encoder;

use super::{
    registry::BindRefusal,
    session::{BindKind, Session},
    stats::Stats,
};

impl Session {
    pub(super) fn on_command(&mut self, command: Command, wbuf: &mut BytesMut) {
        let seq = command.sequence_number();
        let stats = Arc::clone(&self.shared.stats);
        match command.pdu() {
            Some(Pdu::SubmitSm(sm)) => self.on_submit(seq, sm, wbuf),
            Some(Pdu::QuerySm(q)) => self.on_query(seq, q, wbuf),
            Some(Pdu::CancelSm(c)) => self.on_cancel(seq, c, wbuf),
            Some(Pdu::ReplaceSm(r)) => self.on_replace(seq, r, wbuf),
            Some(Pdu::BindTransmitter(b)) => self.on_bind(
                BindKind::Transmitter,
                seq,
                b.system_id.as_str(),
                b.password.as_str(),
                wbuf,
            ),
            Some(Pdu::BindReceiver(b)) => self.on_bind(
                BindKind::Receiver,
                seq,
                b.system_id.as_str(),
                b.password.as_str(),
                wbuf,
            ),
            Some(Pdu::BindTransceiver(b)) => self.on_bind(
                BindKind::Transceiver,
                seq,
                b.system_id.as_str(),
                b.password.as_str(),
                wbuf,
            ),
            Some(Pdu::EnquireLink) => {
                Stats::inc(&stats.enquire_links);
                if !self.behaviour.flow.silent {
                    put_enquire_link_resp(wbuf, seq);
                }
            }
            Some(Pdu::Unbind) => {
                Stats::inc(&stats.unbinds_received);
                put_unbind_resp(wbuf, seq);
                self.close = true;
            }
            Some(Pdu::UnbindResp) => {
                if self.closing_deadline.is_some() {
                    self.close = true;
                }
            }
            Some(Pdu::DeliverSmResp(_)) => self.on_deliver_resp(seq, command.status()),
            _ if u32::from(command.id()) & 0x8000_0000 != 0 => {
                // Other responses (enquire_link_resp, generic_nack …) need nothing.
            }
            _ => {
                // A request this simulator does not serve (data_sm, submit_multi …).
                Stats::inc(&stats.malformed_received);
                Stats::inc(&stats.generic_nacks_sent);
                put_generic_nack(wbuf, seq, CommandStatus::EsmeRinvcmdid);
            }
        }
    }

    fn on_bind(
        &mut self,
        kind: BindKind,
        seq: u32,
        system_id: &str,
        password: &str,
        wbuf: &mut BytesMut,
    ) {
        let status = self.check_bind(kind, system_id, password);
        let stats = &self.shared.stats;
        if status == CommandStatus::EsmeRok {
            Stats::inc(&stats.binds_total[kind as usize]);
            stats.binds_current.fetch_add(1, Relaxed);
            self.bound = Some((kind, Arc::from(system_id)));
            self.schedule_disconnect();
        } else {
            Stats::inc(&stats.binds_rejected);
        }
        let sid = COctetString::from_str_lossy(&self.shared.smsc_system_id);
        let version = Some(InterfaceVersion::Smpp3_4);
        let pdu = match kind {
            BindKind::Transmitter => {
                Pdu::BindTransmitterResp(BindTransmitterResp::new(sid, version))
            }
            BindKind::Receiver => Pdu::BindReceiverResp(BindReceiverResp::new(sid, version)),
            BindKind::Transceiver => {
                Pdu::BindTransceiverResp(BindTransceiverResp::new(sid, version))
            }
        };
        // Encoding into a BytesMut cannot fail.
        let _ = SmppCodec::new().encode(Command::new(status, seq, pdu), wbuf);
    }

    fn check_bind(&mut self, kind: BindKind, system_id: &str, password: &str) -> CommandStatus {
        if self.bound.is_some() {
            return CommandStatus::EsmeRalybnd;
        }
        let accounts = &self.shared.accounts;
        let max_binds = if accounts.is_empty() {
            u32::MAX
        } else {
            match accounts.iter().find(|a| a.system_id == system_id) {
                None => return CommandStatus::EsmeRinvsysid,
                Some(a) if a.password != password => return CommandStatus::EsmeRinvpaswd,
                Some(a) => a.max_binds,
            }
        };
        let receiver = kind.can_receive().then(|| self.out_tx.clone());
        match self
            .shared
            .registry
            .bind(system_id, max_binds, self.id, receiver)
        {
            Ok(()) => CommandStatus::EsmeRok,
            Err(BindRefusal::TooMany) => CommandStatus::EsmeRbindfail,
        }
    }
}

/// `COctetString` from text, truncated to fit.
trait FromStrLossy {
    fn from_str_lossy(s: &str) -> Self;
}

impl<const MIN: usize, const MAX: usize> FromStrLossy for COctetString<MIN, MAX> {
    fn from_str_lossy(s: &str) -> Self {
        let mut v: Vec<u8> = s.bytes().filter(|b| *b != 0).take(MAX - 1).collect();
        v.push(0);
        COctetString::from_vec(v).unwrap_or_else(|_| COctetString::empty())
    }
}
